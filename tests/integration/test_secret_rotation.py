"""Rotating the platform secret (平台密钥轮换): every sealed secret is re-sealed under the new key,
all or nothing (docs/operations.md "Security")."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from yibao import platform_secret
from yibao.institutions import demo as institutions_demo
from yibao.institutions import store as institutions_store
from yibao.institutions.sealing import SealError
from yibao.secret_rotation import reseal_all
from yibao.voucher.service import VoucherService

CODE = "H44030000001"


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    platform_secret._key_from.cache_clear()
    monkeypatch.setenv("YIBAO_SECRET_KEY", "old-platform-secret-0123456789")
    yield monkeypatch
    platform_secret._key_from.cache_clear()


def test_reseal_moves_every_secret_to_the_new_key(engine: Engine, key: pytest.MonkeyPatch) -> None:
    institutions_demo.seed(engine)
    svc = VoucherService(engine)
    svc.register_channel("wechat", "微信", "wechat", "channel-secret-1")
    with engine.begin() as conn:
        signing = svc._signing_keys(conn)
    with pytest.raises(SealError), engine.begin() as conn:  # a wrong old key changes nothing
        reseal_all(conn, old_key="not-the-old-one", new_key="new-platform-secret-98765")
    with engine.begin() as conn:
        counts = reseal_all(
            conn, old_key="old-platform-secret-0123456789", new_key="new-platform-secret-98765"
        )
    assert counts["ec_channel"] == 1 and counts["ec_signing_key"] == 1
    assert counts["institution_credential"] >= 20
    platform_secret._key_from.cache_clear()
    key.setenv("YIBAO_SECRET_KEY", "new-platform-secret-98765")
    with engine.connect() as conn:
        cred = institutions_store.get_credential(conn, institutions_demo.demo_app_key(CODE))
        stored = conn.execute(sa.text("SELECT secret FROM ec_channel")).scalar_one()
    assert cred is not None and cred.app_secret == institutions_demo.demo_secret(CODE)
    assert stored.startswith("fernet:") and "channel-secret-1" not in stored
    assert VoucherService(engine).register_channel("wechat", "微信", "wechat") == "channel-secret-1"
    with engine.begin() as conn:
        assert VoucherService(engine)._signing_keys(conn) == signing
