"""Institutions, sign-in rules and the nonce window on real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from yibao.gateway import store as gateway_store
from yibao.institutions import demo, service, store
from yibao.institutions.model import Institution, InstitutionError
from yibao.institutions.service import SignInError

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 10:00 in China


@pytest.fixture
def inst(engine: Engine) -> Institution:
    demo.seed(engine)
    with engine.connect() as conn:
        found = store.get_institution(conn, "H44030000001")
    assert found is not None
    return found


def test_demo_covers_regions_and_levels(engine: Engine, inst: Institution) -> None:
    demo.seed(engine)  # idempotent
    with engine.connect() as conn:
        all_ = store.search_institutions(conn)
        assert {i.admdvs for i in all_} == {
            "440100", "440300", "440400", "441300", "441481", "421381"
        }  # fmt: skip
        assert {i.fixmedins_type for i in all_} == {"1", "2"}
        assert {i.dedc_hosp_lv for i in all_ if i.fixmedins_type == "1"} == {"1", "2", "3"}
        assert store.credentials_of(conn, "H44030000001")[0].app_secret == demo.demo_secret(
            "H44030000001"
        )
        assert [i.fixmedins_code for i in store.search_institutions(conn, name_like="蛇口")] == [
            "H44030000004"
        ]


def test_register_refuses_bad_record(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(InstitutionError, match="admdvs"):
        service.register(conn, Institution("H44030000009", "x", "1", "44", "2"))


def test_same_operator_same_day_same_sign_no(engine: Engine, inst: Institution) -> None:
    with engine.begin() as conn:
        a = service.sign_in(conn, inst, "0001", "张敏", "1", "mac1", "ip1", NOW)
        b = service.sign_in(
            conn, inst, "0001", "张敏", "1", "mac2", "ip2", NOW + timedelta(hours=1)
        )
        c = service.sign_in(conn, inst, "0002", "李伟", "1", "mac3", "ip3", NOW)
    assert a.sign_no == b.sign_no and b.reused and not a.reused
    assert c.sign_no != a.sign_no
    assert len(a.sign_no) == 30 and a.sign_no.startswith("440300")
    with engine.begin() as conn:
        assert service.check_sign_no(conn, inst, a.sign_no, NOW) is None
        assert "过期" in (
            service.check_sign_no(conn, inst, a.sign_no, NOW + timedelta(days=1)) or ""
        )
        service.sign_out(conn, inst, a.sign_no, "0001", NOW)
        assert "签退" in (service.check_sign_no(conn, inst, a.sign_no, NOW) or "")
        with pytest.raises(SignInError, match="已签退"):
            service.sign_out(conn, inst, a.sign_no, "0001", NOW)
        fresh = service.sign_in(conn, inst, "0001", "张敏", "1", "m", "i", NOW)
    assert fresh.sign_no != a.sign_no


def test_sign_out_rules(engine: Engine, inst: Institution) -> None:
    with engine.begin() as conn:
        a = service.sign_in(conn, inst, "0001", "张敏", "1", "m", "i", NOW)
        with pytest.raises(SignInError, match="不是经办人"):
            service.sign_out(conn, inst, a.sign_no, "0002", NOW)
        with pytest.raises(SignInError, match="当天没有签到"):
            service.sign_out(conn, inst, a.sign_no, "0001", NOW + timedelta(days=1))
        with pytest.raises(SignInError, match="不存在"):
            service.sign_out(conn, inst, "nope", "0001", NOW)


def test_disabled_operator_cannot_sign_in(engine: Engine, inst: Institution) -> None:
    with engine.begin() as conn:
        store.set_operator_active(conn, inst.fixmedins_code, "0002", False)
        with pytest.raises(SignInError, match="已停用"):
            service.sign_in(conn, inst, "0002", "李伟", "1", "m", "i", NOW)


def test_nonce_used_once_within_ttl(engine: Engine) -> None:
    with engine.begin() as conn:
        assert gateway_store.use_nonce(conn, "ak", "n1", 60)
        assert not gateway_store.use_nonce(conn, "ak", "n1", 60)
        assert gateway_store.use_nonce(conn, "other", "n1", 60)
        assert gateway_store.use_nonce(conn, "ak", "n0", -1)  # already expired on insert
        assert gateway_store.use_nonce(conn, "ak", "n0", 60)  # expired nonce may be reused
        assert gateway_store.purge_nonces(conn) == 0


def test_secrets_sealed_at_rest(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlalchemy as sa

    monkeypatch.setenv("YIBAO_SECRET_KEY", "server-key")
    demo.seed(engine)
    code = "H44030000001"
    with engine.connect() as conn:
        raw = conn.execute(
            sa.select(store.credential.c.app_secret).where(
                store.credential.c.fixmedins_code == code
            )
        ).scalar_one()
        assert raw.startswith("fernet:") and demo.demo_secret(code) not in raw
        cred = store.get_credential(conn, demo.demo_app_key(code))
        assert cred is not None and cred.app_secret == demo.demo_secret(code)
        monkeypatch.setenv("YIBAO_SECRET_KEY", "rotated-wrongly")
        broken = store.get_credential(conn, demo.demo_app_key(code))
        assert broken is not None and broken.app_secret == ""  # signatures then fail (401)
