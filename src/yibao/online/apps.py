"""Apps of the online centres (接入应用) and their keys: appId/appSecret, the institution's SM2
public key, the platform's SM2 key, the institutions' prescription-signing keys (7102).

The platform's SM2 key is derived from the platform secret (:mod:`yibao.platform_secret`), so it
survives restarts without being stored. Demo institutions get deterministic, **public** demo
credentials (like their gateway credentials, docs/api/mobile-payment.md): never use them in
production.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from yibao.institutions.sealing import seal, unseal
from yibao.online import store
from yibao.online.envelope import Keys, keypair_from_seed
from yibao.online.model import OnlineError
from yibao.platform_secret import secret_key


@lru_cache(maxsize=4)
def _platform_pair(secret: str) -> tuple[bytes, bytes]:
    return keypair_from_seed(f"yibao-online-platform-sm2:{secret}".encode())


def platform_keypair() -> tuple[bytes, bytes]:
    """The platform's SM2 key pair (answers and callbacks are signed with it)."""
    return _platform_pair(secret_key())


def platform_public_key() -> str:
    """The platform's SM2 public key (hex), published to institutions."""
    return platform_keypair()[1].hex()


@dataclass(frozen=True, slots=True)
class App:
    app_id: str
    fixmedins_code: str
    app_secret: str
    inst_pk: bytes
    callback_url: str

    def server_keys(self) -> Keys:
        """The centre's view: verify with the institution's key, sign with the platform's."""
        return Keys(self.app_id, self.app_secret, platform_keypair()[0], self.inst_pk)


def load(conn: sa.Connection, app_id: str) -> App:
    row = conn.execute(sa.select(store.app).where(store.app.c.app_id == app_id)).mappings().first()
    if row is None:
        raise OnlineError("appId", "应用不存在或未开通线上结算")
    return App(
        row["app_id"],
        row["fixmedins_code"],
        unseal(row["app_secret"], secret_key()),
        bytes.fromhex(row["inst_pk"]),
        row["callback_url"],
    )


def register(
    conn: sa.Connection,
    app_id: str,
    fixmedins_code: str,
    app_secret: str,
    inst_pk_hex: str,
    callback_url: str = "",
) -> None:
    """Open an app for an institution (idempotent on ``app_id``)."""
    if len(app_id) < 16:
        raise OnlineError("appId", "长度须不少于16个字符")
    conn.execute(
        pg.insert(store.app)
        .values(
            app_id=app_id,
            fixmedins_code=fixmedins_code,
            app_secret=seal(app_secret, secret_key()),
            inst_pk=inst_pk_hex,
            callback_url=callback_url,
        )
        .on_conflict_do_nothing()
    )


# ---- demo credentials (public) -------------------------------------------------------------------


def demo_app_id(code: str) -> str:
    return f"MP{code}0000"  # 18 characters


def demo_app_secret(code: str) -> str:
    return hashlib.sha256(f"yibao-demo-online:{code}".encode()).hexdigest()[:32]


def demo_inst_keypair(code: str) -> tuple[bytes, bytes]:
    """The demo institution's SM2 key pair (public demo data)."""
    return keypair_from_seed(f"yibao-demo-sm2:{code}".encode())


def demo_client_keys(code: str) -> Keys:
    """What a demo institution's HIS holds: its key, and the platform's public key."""
    return Keys(
        demo_app_id(code), demo_app_secret(code), demo_inst_keypair(code)[0], platform_keypair()[1]
    )


def callback_path(code: str) -> str:
    """The HIS simulator's callback path of a demo institution (6302/7108/7109)."""
    return f"/api/online/his-sim/{code}/callback"


def seed_demo(engine: sa.Engine) -> None:
    """Open the online apps of every demo institution (idempotent)."""
    from yibao.institutions import demo as inst_demo

    with engine.begin() as conn:
        for code, *_ in inst_demo.DEMO_INSTITUTIONS:
            register(
                conn,
                demo_app_id(code),
                code,
                demo_app_secret(code),
                demo_inst_keypair(code)[1].hex(),
                callback_path(code),
            )
