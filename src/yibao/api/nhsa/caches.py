"""Short-lived caches of the gateway (网关缓存): credentials and institutions with their sign-ins.

Both are read on every request, change rarely, and may take effect within ``ttl`` seconds
(default 10; ``GatewaySettings.credential_cache_s``): a revoked key, a suspended institution
(暂停联网) and a sign-out (9002) on another worker process. A 9001/9002 handled by this process
forgets its institution at once. Misses are read in a worker thread (rare, and off the event loop).
"""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa

from yibao.institutions import store as institution_store
from yibao.institutions.model import Credential, Institution, SignIn

_MAX_ITEMS = 10_000


class CredentialCache:
    """AK/SK lookups (a revoked key stops working within ``ttl`` seconds)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._items: dict[str, tuple[float, Credential | None]] = {}

    @staticmethod
    def _load(engine: sa.Engine, app_key: str) -> Credential | None:
        with engine.connect() as conn:
            return institution_store.get_credential(conn, app_key)

    async def get(self, engine: sa.Engine, app_key: str) -> Credential | None:
        now = time.monotonic()
        hit = self._items.get(app_key)
        if hit is not None and hit[0] > now:
            return hit[1]
        cred = await asyncio.to_thread(self._load, engine, app_key)
        if len(self._items) > _MAX_ITEMS:
            self._items.clear()
        self._items[app_key] = (now + self.ttl, cred)
        return cred


Found = tuple[Institution | None, SignIn | None]


class InstitutionCache:
    """The institution and one of its sign-ins, by (fixmedins_code, sign_no)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._items: dict[tuple[str, str], tuple[float, Found]] = {}

    @staticmethod
    def _load(engine: sa.Engine, code: str, sign_no: str) -> Found:
        with engine.connect() as conn:
            return institution_store.institution_and_signin(conn, code, sign_no)

    async def get(self, engine: sa.Engine, code: str, sign_no: str) -> Found:
        now = time.monotonic()
        hit = self._items.get((code, sign_no))
        if hit is not None and hit[0] > now:
            return hit[1]
        found = await asyncio.to_thread(self._load, engine, code, sign_no)
        if len(self._items) > _MAX_ITEMS:
            self._items.clear()
        self._items[(code, sign_no)] = (now + self.ttl, found)
        return found

    def forget(self, code: str) -> None:
        """Drop every entry of an institution (after its 9001/9002 here)."""
        for k in [k for k in self._items if k[0] == code]:
            self._items.pop(k, None)
