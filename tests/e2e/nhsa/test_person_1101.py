"""1101 人员信息获取 over HTTP: by e-voucher ecToken (01) and by ID number (02)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.e2e.nhsa.conftest import HOSPITAL, ClientFactory
from yibao.registry import bulk, rows, synth
from yibao.voucher.service import VoucherService, VoucherSettings
from yibao.voucher.verifier import demo_evidence


@pytest.fixture(scope="module")
def people(seeded: Engine) -> list[dict[str, str]]:
    data = list(synth.person_rows(4, seed=23))
    with seeded.begin() as conn:
        bulk.import_checked(
            conn, rows.check_rows(enumerate(data, start=2)), skip_bad=False, actor="t", source="t"
        )
    return data


def _token(engine: Engine, p: dict[str, str]) -> str:
    svc = VoucherService(engine, VoucherSettings())
    svc.register_channel("wechat", "微信", "wechat", "secret-w")
    svc.activate(
        "wechat", "u-1101", psn_name=p["psn_name"], psn_cert_type="01", certno=p["certno"],
        evidence=demo_evidence(p["certno"]),
    )  # fmt: skip
    code = str(svc.issue_code("wechat", "u-1101")["code"])
    ident = svc.exchange(code, org_id=HOSPITAL, business_type="01101")
    return str(ident["ecToken"])


def test_1101_by_ec_token_and_by_id_number(
    make_client: ClientFactory, seeded: Engine, people: list[dict[str, str]]
) -> None:
    p = people[0]
    c = make_client()
    c.sign_in()
    insuplc = p["insuplc_admdvs"]
    who = {"psn_cert_type": "01", "certno": p["certno"], "psn_name": p["psn_name"]}
    token = _token(seeded, p)
    r = c.call(
        "1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": token, **who}},
        insuplc_admdvs=insuplc,
    )  # fmt: skip
    assert r.infcode == 0, r.body
    base = r.output["baseinfo"]
    assert base["certno"] == p["certno"] and base["psn_name"] == p["psn_name"]
    assert {row["insuplc_admdvs"] for row in r.output["insuinfo"]} == {insuplc}
    by_id = c.call(
        "1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": p["certno"], **who}},
        insuplc_admdvs=insuplc,
    )  # fmt: skip
    assert by_id.infcode == 0 and by_id.output["baseinfo"]["psn_no"] == base["psn_no"]


def test_1101_refusals(make_client: ClientFactory, people: list[dict[str, str]]) -> None:
    p = people[1]
    c = make_client()
    c.sign_in()
    r = c.call("1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": "x" * 40}})
    assert r.infcode == -1 and r.err_msg.startswith("mdtrt_cert_no:")
    r = c.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "110101190001011234"}})
    assert r.infcode == -1 and "未查询到" in r.err_msg
    r = c.call(
        "1101",
        {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": p["certno"], "psn_name": "别人"}},
    )
    assert r.infcode == -1 and "psn_name" in r.err_msg
    r = c.call("1101", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": "C1"}})
    assert r.infcode == -1 and r.err_msg.startswith("input.data.card_sn:")
    r = c.call(
        "1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": p["certno"]}},
        insuplc_admdvs="421381" if c.mdtrtarea_admvs != "421381" else "440100",
    )  # fmt: skip
    assert r.infcode == -1 and r.err_msg.startswith("input.data.psn_cert_type:")


def test_2001_treatment_check(
    make_client: ClientFactory, seeded: Engine, people: list[dict[str, str]]
) -> None:
    from yibao.registry import store as registry_store

    p = people[3]
    c = make_client()
    c.sign_in()
    with seeded.connect() as conn:
        psn_no = registry_store.psn_no_by_cert(conn, "01", p["certno"])
    assert psn_no
    insured_since = p["psn_insu_date"]
    base = {"psn_no": psn_no, "insutype": p["insutype"], "begntime": "2026-11-22 09:00:00"}
    r = c.call("2001", {"data": base})
    assert r.infcode == 0, r.body
    rows = r.output["trtinfo"]
    expected = {"310": {"310100", "310200"}, "390": {"390100", "390200"}}[p["insutype"]]
    assert expected <= {x["fund_pay_type"] for x in rows}
    assert all(x["trt_enjymnt_flag"] == "1" and x["begndate"] == insured_since for x in rows)
    other = "310" if p["insutype"] == "390" else "390"
    r = c.call("2001", {"data": {**base, "insutype": other}})
    assert [x["trt_enjymnt_flag"] for x in r.output["trtinfo"]] == ["0", "0"]
    assert r.output["trtinfo"][0]["trt_chk_rslt"] == "未参加该险种"
    r = c.call("2001", {"data": {**base, "begntime": "2000-01-01 00:00:00"}})
    assert {x["trt_enjymnt_flag"] for x in r.output["trtinfo"]} == {"0"}
    r = c.call("2001", {"data": {**base, "endtime": "2026-11-01 00:00:00"}})
    assert r.infcode == -1 and r.err_msg.startswith("input.data.endtime:")
