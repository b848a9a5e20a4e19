"""Channel secrets and code-signing keys are encrypted at rest (密钥加密存储), legacy plain rows
stay usable, and the ``voucher_0002`` migration seals rows written before it."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine

from yibao.db.migrate import alembic_config
from yibao.voucher import secrets_at_rest as box
from yibao.voucher.service import VoucherService
from yibao.voucher.store import ec_channel, ec_signing_key


def _stored(engine: Engine) -> tuple[str, bytes]:
    with engine.connect() as conn:
        secret = conn.execute(
            sa.select(ec_channel.c.secret).where(ec_channel.c.chnl_id == "wechat")
        ).scalar_one()
        key = conn.execute(sa.select(ec_signing_key.c.secret)).scalar_one()
    return secret, bytes(key)


def test_channel_secret_and_signing_key_are_sealed(engine: Engine) -> None:
    svc = VoucherService(engine)
    secret = svc.register_channel("wechat", "微信", "wechat", "given-secret-123")
    assert secret == "given-secret-123"
    with engine.begin() as conn:
        svc._signing_keys(conn)
    stored, key = _stored(engine)
    assert stored.startswith("fernet:") and "given-secret-123" not in stored
    assert key.startswith(b"fernet:") and len(box.open_bytes(key)) == 32
    # idempotent registration answers the same (opened) secret
    assert svc.register_channel("wechat", "微信", "wechat") == "given-secret-123"


def test_migration_seals_plain_rows_and_they_still_work(engine: Engine, db_url: str) -> None:
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "voucher_0001")
    raw_key = bytes(range(32))
    with engine.begin() as conn:
        conn.execute(
            ec_channel.insert().values(
                chnl_id="wechat", name="微信", kind="wechat", secret="plain-secret", active=True
            )
        )
        conn.execute(ec_signing_key.insert().values(kid="k1", secret=raw_key))
    # a plain legacy row is still readable before the migration
    assert VoucherService(engine).register_channel("wechat", "微信", "wechat") == "plain-secret"
    command.upgrade(cfg, "heads")
    stored, key = _stored(engine)
    assert box.is_sealed(stored) and box.open_text(stored) == "plain-secret"
    assert box.is_sealed(key) and box.open_bytes(key) == raw_key
    with engine.begin() as conn:
        assert VoucherService(engine)._signing_keys(conn) == {"k1": raw_key}
    command.downgrade(cfg, "voucher_0001")
    assert _stored(engine) == ("plain-secret", raw_key)
    command.upgrade(cfg, "heads")
