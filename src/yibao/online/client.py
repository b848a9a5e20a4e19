"""A client of the online centres (接入方 SDK): seals requests, opens and checks answers.

Used by the HIS and phone simulators, the tests and the documentation's examples::

    with OnlineClient(base_url, keys) as c:
        data = c.call("mpc", "6301", {"payOrdId": …, "payToken": …})
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from yibao.online.envelope import Keys, open_envelope, seal


class OnlineRefused(Exception):
    """The centre answered ``code`` ≠ 0 (``message`` names the field and the rule)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Reply:
    status: int
    body: bytes
    envelope: dict[str, Any]
    data: dict[str, Any]

    @property
    def code(self) -> int:
        return int(self.envelope.get("code", -1))

    @property
    def message(self) -> str:
        return str(self.envelope.get("message", ""))


class OnlineClient:
    def __init__(self, base_url: str, keys: Keys, *, timeout: float = 30) -> None:
        self.keys = keys
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)

    def __enter__(self) -> OnlineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def post(self, centre: str, infno: str, data: dict[str, Any]) -> Reply:
        """Send ``data`` sealed; the answer opened (signature checked) when it is sealed."""
        envelope = seal(self.keys, data, datetime.now(UTC), transType=infno)
        return self.post_raw(centre, infno, json.dumps(envelope, ensure_ascii=False).encode())

    def post_raw(self, centre: str, infno: str, raw: bytes) -> Reply:
        r = self.http.post(f"/api/online/{centre}/{infno}", content=raw,
                           headers={"Content-Type": "application/json"})  # fmt: skip
        env = r.json()
        data: dict[str, Any] = {}
        if "encData" in env:
            data = open_envelope(self.keys, env, datetime.now(UTC))
        return Reply(r.status_code, r.content, env, data)

    def call(self, centre: str, infno: str, data: dict[str, Any]) -> dict[str, Any]:
        """:meth:`post`, raising :class:`OnlineRefused` unless the answer is ``code`` 0."""
        reply = self.post(centre, infno, data)
        if reply.code != 0:
            raise OnlineRefused(reply.code, reply.message)
        return reply.data
