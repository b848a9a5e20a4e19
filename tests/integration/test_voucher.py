"""E-voucher on PostgreSQL with an injected clock: activation events and rates, code exchange
(replay, expiry, tamper, wrong institution), password lockout and unlock, family codes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from yibao.registry import bulk, rows, service, synth
from yibao.voucher.model import EcError
from yibao.voucher.service import VoucherService, VoucherSettings
from yibao.voucher.verifier import demo_evidence


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def people(engine: Engine) -> list[dict[str, str]]:
    data = list(synth.person_rows(12, seed=11))
    with engine.begin() as conn:
        bulk.import_checked(
            conn, rows.check_rows(enumerate(data, start=2)), skip_bad=False, actor="t", source="t"
        )
    return data


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def svc(engine: Engine, clock: FakeClock) -> VoucherService:
    s = VoucherService(
        engine, VoucherSettings(code_ttl=60, token_ttl=3600, lock_seconds=600), clock=clock
    )
    s.register_channel("wechat", "微信", "wechat", "secret-w")
    s.register_channel("alipay", "支付宝", "alipay", "secret-a")
    return s


def _key(e: pytest.ExceptionInfo[EcError]) -> str:
    return e.value.key


def _activate(
    svc: VoucherService, p: dict[str, str], chnl: str = "wechat", user: str = "u1"
) -> dict[str, object]:
    return svc.activate(
        chnl,
        user,
        psn_name=p["psn_name"],
        psn_cert_type="01",
        certno=p["certno"],
        evidence=demo_evidence(p["certno"]),
    )


def test_activation_checks_and_events(
    svc: VoucherService, people: list[dict[str, str]], engine: Engine
) -> None:
    p = people[0]
    with pytest.raises(EcError) as e:
        svc.activate(
            "wechat",
            "u1",
            psn_name="别人",
            psn_cert_type="01",
            certno=p["certno"],
            evidence=demo_evidence(p["certno"]),
        )
    assert _key(e) == "EC_REALNAME_FAILED"
    with pytest.raises(EcError) as e:
        svc.activate(
            "wechat",
            "u1",
            psn_name=p["psn_name"],
            psn_cert_type="01",
            certno=p["certno"],
            evidence="FACE-000000",
        )
    assert _key(e) == "EC_REALPERSON_FAILED"
    first = _activate(svc, p)
    assert first["activated"] is True and "*" in str(first["idNo"])
    again = _activate(svc, p)
    assert again["activated"] is False and again["authorized"] is False
    second_channel = _activate(svc, p, "alipay", "a1")
    assert second_channel["activated"] is False and second_channel["authorized"] is True
    with pytest.raises(EcError) as e:
        _activate(svc, people[1], "wechat", "u1")  # that wechat user is someone else already
    assert _key(e) == "EC_ALREADY_BOUND"
    _activate(svc, people[1], "wechat", "u2")
    with engine.connect() as conn:
        kinds = conn.execute(
            sa.text("SELECT kind, chnl_id, admdvs, town FROM ec_activation_event ORDER BY id")
        ).all()
    assert [(k, c) for k, c, _, _ in kinds] == [
        ("activate", "wechat"),
        ("authorize", "alipay"),
        ("activate", "wechat"),
    ]
    assert kinds[0][2] == p["insuplc_admdvs"] and kinds[0][3] == p["town"]
    by_region = {r["key"]: r for r in svc.activation_rates("region")}
    assert sum(int(r["activated"]) for r in by_region.values()) == 2
    assert sum(int(r["insured"]) for r in by_region.values()) == 12
    by_channel = {r["key"]: r["activated"] for r in svc.activation_rates("channel")}
    assert by_channel == {"alipay": 1, "wechat": 2}
    before = svc.activation_rates("region", until=datetime(2026, 3, 1, tzinfo=UTC))
    assert sum(int(r["activated"]) for r in before) == 0
    for dim in ("town", "unit", "category"):
        assert sum(int(r["activated"]) for r in svc.activation_rates(dim)) == 2


def test_code_exchange_and_refusals(
    svc: VoucherService, people: list[dict[str, str]], clock: FakeClock
) -> None:
    p = people[2]
    _activate(svc, p)
    c = svc.issue_code("wechat", "u1")
    code = str(c["code"])
    ident = svc.exchange(code, org_id="H44010000001", business_type="01101", out_biz_no="biz-1")
    assert ident["idNo"] == p["certno"] and ident["insuOrg"] == p["insuplc_admdvs"]
    token = str(ident["ecToken"])
    assert len(token) == 40 and token.startswith(p["insuplc_admdvs"])
    # retry with the same caller id gets the same answer; any other reuse is a replay
    assert (
        svc.exchange(code, org_id="H44010000001", business_type="01101", out_biz_no="biz-1")[
            "ecToken"
        ]
        == token
    )
    with pytest.raises(EcError) as e:
        svc.exchange(code, org_id="H44010000001", business_type="01101", out_biz_no="biz-2")
    assert _key(e) == "EC_CODE_USED"
    info = svc.identity_1101(token, "H44010000001")
    assert info["baseinfo"]["certno"] == p["certno"]  # type: ignore[index]
    assert [r["insutype"] for r in info["insuinfo"]] == [p["insutype"]]  # type: ignore[attr-defined]
    with pytest.raises(EcError) as e:
        svc.identity_1101(token, "H44030000009")
    assert _key(e) == "EC_TOKEN_WRONG_ORG"
    # tampered
    c2 = str(svc.issue_code("wechat", "u1")["code"])
    head, payload, sig = c2.split(".")
    bad = f"{head}.{payload}.{sig[:-2]}{'AA' if sig[-2:] != 'AA' else 'BB'}"
    with pytest.raises(EcError) as e:
        svc.exchange(bad, org_id="H44010000001", business_type="01101")
    assert _key(e) == "EC_CODE_TAMPERED"
    # expired after 60 s
    clock.advance(61)
    with pytest.raises(EcError) as e:
        svc.exchange(c2, org_id="H44010000001", business_type="01101")
    assert _key(e) == "EC_CODE_EXPIRED"
    with pytest.raises(EcError) as e:
        svc.exchange(c2, org_id="H44010000001", business_type="99999")
    assert _key(e) == "EC_BIZ_TYPE_INVALID"
    # ecToken expiry (3600 s in this test)
    clock.advance(3600)
    with pytest.raises(EcError) as e:
        svc.identity_1101(token, "H44010000001")
    assert _key(e) == "EC_TOKEN_EXPIRED"


def test_revocation_by_person_and_bureau(svc: VoucherService, people: list[dict[str, str]]) -> None:
    p = people[3]
    _activate(svc, p)
    _activate(svc, p, "alipay", "a1")
    code = str(svc.issue_code("alipay", "a1")["code"])
    svc.revoke_by_person("alipay", "a1")
    with pytest.raises(EcError) as e:
        svc.issue_code("alipay", "a1")
    assert _key(e) == "EC_CHANNEL_UNAUTHORIZED"
    with pytest.raises(EcError) as e:
        svc.exchange(code, org_id="H1", business_type="01301")
    assert _key(e) == "EC_CHANNEL_UNAUTHORIZED"
    ident = svc.exchange(
        str(svc.issue_code("wechat", "u1")["code"]), org_id="H1", business_type="01301"
    )
    svc.revoke_by_bureau(str(ident["psnNo"]), actor="staff1", reason="冒用核查")
    with pytest.raises(EcError) as e:
        svc.issue_code("wechat", "u1")
    assert _key(e) == "EC_CHANNEL_UNAUTHORIZED"
    with pytest.raises(EcError) as e:
        svc.identity_1101(str(ident["ecToken"]), "H1")
    assert _key(e) == "EC_TOKEN_EXPIRED"
    again = _activate(svc, p)  # re-activation is a new activation event
    assert again["activated"] is True


def test_password_lockout_and_timed_unlock(
    svc: VoucherService, people: list[dict[str, str]], clock: FakeClock
) -> None:
    p = people[4]
    _activate(svc, p)
    with pytest.raises(EcError) as e:
        svc.verify_password("wechat", "u1", "274916")
    assert _key(e) == "EC_PWD_NOT_SET"
    with pytest.raises(EcError) as e:
        svc.set_password("wechat", "u1", "123456")
    assert _key(e) == "EC_PWD_WEAK"
    svc.set_password("wechat", "u1", "274916")
    with pytest.raises(EcError) as e:
        svc.set_password("wechat", "u1", "274917")
    assert _key(e) == "EC_PWD_ALREADY_SET"
    for left in (4, 3, 2, 1):
        with pytest.raises(EcError) as e:
            svc.verify_password("wechat", "u1", "000001")
        assert _key(e) == "EC_PWD_WRONG" and f"还可尝试{left}次" in e.value.message
    with pytest.raises(EcError) as e:
        svc.verify_password("wechat", "u1", "000001")
    assert _key(e) == "EC_PWD_LOCKED"
    with pytest.raises(EcError) as e:
        svc.verify_password("wechat", "u1", "274916")  # right password, still locked
    assert _key(e) == "EC_PWD_LOCKED"
    clock.advance(600)
    assert svc.verify_password("wechat", "u1", "274916")["verified"] is True
    svc.change_password("wechat", "u1", "274916", "385027")
    with pytest.raises(EcError) as e:
        svc.change_password("wechat", "u1", "274916", "496138")
    assert _key(e) == "EC_PWD_WRONG"
    svc.reset_password(
        "wechat",
        "u1",
        psn_name=p["psn_name"],
        psn_cert_type="01",
        certno=p["certno"],
        evidence=demo_evidence(p["certno"]),
        new="496138",
    )
    # pharmacy: the insured confirms the password for the pharmacy's ecToken
    ident = svc.exchange(
        str(svc.issue_code("wechat", "u1")["code"]), org_id="P1", business_type="02121"
    )
    token = str(ident["ecToken"])
    with svc.engine.connect() as conn:
        from yibao.voucher.service import password_verified

        assert not password_verified(conn, token)
    svc.verify_password("wechat", "u1", "496138", ec_token_value=token)
    with svc.engine.connect() as conn:
        assert password_verified(conn, token)
    assert svc.verify_password_at_institution(token, "P1", "496138")["verified"] is True


def test_family_code_for_a_bound_child(
    svc: VoucherService, engine: Engine, clock: FakeClock
) -> None:
    from yibao.registry.certs import compose_id18

    parent_id = compose_id18("440106", date(1985, 2, 2), 11)
    child_id = compose_id18("440106", date(2018, 6, 6), 22)
    with engine.begin() as conn:
        parent = service.register_person(
            conn,
            psn_cert_type="01",
            certno=parent_id,
            psn_name="陈大",
            gend="1",
            brdy=date(1985, 2, 2),
            admdvs="440100",
        )
        child = service.register_person(
            conn,
            psn_cert_type="01",
            certno=child_id,
            psn_name="陈小",
            gend="2",
            brdy=date(2018, 6, 6),
            admdvs="440100",
        )
        from yibao.registry.model import Enrolment

        service.enrol(
            conn, parent, Enrolment("310", "1", date(2010, 1, 1), "11", "440100", emp_no="E1")
        )
        service.enrol(conn, child, Enrolment("390", "1", date(2019, 1, 1), "41", "440100"))
    svc.activate(
        "wechat",
        "pp",
        psn_name="陈大",
        psn_cert_type="01",
        certno=parent_id,
        evidence=demo_evidence(parent_id),
    )
    bind = dict(
        psn_name="陈小",
        psn_cert_type="01",
        certno=child_id,
        relation="子女",
        consent_by="guardian",
        evidence=demo_evidence(parent_id),
    )
    with pytest.raises(EcError) as e:
        svc.bind_family("wechat", "pp", **bind)  # not the same household yet
    assert _key(e) == "EC_FAMILY_CONSENT"
    with pytest.raises(EcError) as e:
        svc.issue_code("wechat", "pp", for_psn_no=child)
    assert _key(e) == "EC_FAMILY_NOT_BOUND"
    with engine.begin() as conn:
        service.create_household(conn, "HH-1", "440100", parent)
        service.add_household_member(conn, "HH-1", child, "子女", gongji=False)
    svc.bind_family("wechat", "pp", **bind)
    assert svc.family("wechat", "pp") == [{"psnNo": child, "userName": "陈小", "relation": "子女"}]
    code = svc.issue_code("wechat", "pp", for_psn_no=child)
    ident = svc.exchange(str(code["code"]), org_id="H2", business_type="01101")
    assert ident["psnNo"] == child and ident["idNo"] == child_id
    pending = svc.issue_code("wechat", "pp", for_psn_no=child)
    svc.unbind_family("wechat", "pp", child)
    with pytest.raises(EcError) as e:
        svc.exchange(str(pending["code"]), org_id="H2", business_type="01101")
    assert _key(e) == "EC_FAMILY_NOT_BOUND"
    with pytest.raises(EcError) as e:
        svc.issue_code("wechat", "pp", for_psn_no=child)
    assert _key(e) == "EC_FAMILY_NOT_BOUND"


def test_channel_authentication_and_nonce_replay(svc: VoucherService, clock: FakeClock) -> None:
    from yibao.voucher.model import channel_signature

    ts = str(int(clock.now.timestamp()))
    body = b'{"chnlUserId":"u1"}'
    sig = channel_signature("secret-w", "POST", "/api/voucher/channel/code", ts, "nonce-0001", body)
    svc.authenticate_channel(
        "wechat", "POST", "/api/voucher/channel/code", ts, "nonce-0001", body, sig
    )
    with pytest.raises(EcError) as e:
        svc.authenticate_channel(
            "wechat", "POST", "/api/voucher/channel/code", ts, "nonce-0001", body, sig
        )
    assert _key(e) == "EC_AUTH_REPLAY"
    with pytest.raises(EcError) as e:
        svc.authenticate_channel(
            "alipay", "POST", "/api/voucher/channel/code", ts, "nonce-0002", body, sig
        )
    assert _key(e) == "EC_AUTH_BAD_SIGNATURE"
    with pytest.raises(EcError) as e:
        svc.authenticate_channel("nochannel", "POST", "/x", ts, "nonce-0003", body, sig)
    assert _key(e) == "EC_AUTH_UNKNOWN_CHANNEL"


def test_concurrent_exchanges_of_one_code_admit_exactly_one(
    svc: VoucherService, people: list[dict[str, str]]
) -> None:
    import threading

    _activate(svc, people[5])
    code = str(svc.issue_code("wechat", "u1")["code"])
    outcomes: list[str] = []
    lock = threading.Lock()

    def scan(i: int) -> None:
        try:
            svc.exchange(code, org_id=f"H{i}", business_type="01101")
            out = "ok"
        except EcError as e:
            out = e.key
        with lock:
            outcomes.append(out)

    threads = [threading.Thread(target=scan, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["EC_CODE_USED"] * 5 + ["ok"]
