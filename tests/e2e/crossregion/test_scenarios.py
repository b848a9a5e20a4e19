"""Cross-region scenarios over HTTP (issue 5): Huizhou insured treated in Guangzhou and Shenzhen.

One Guangdong deployment (live server) with the demo institutions and catalogue; persons are
registered in Huizhou (441300). Filing goes through the insured's channel API or 2503/2505,
settlements through helper G's national-interface transactions (HIS simulator flows), clearing
through the admin API. Huizhou's policy (policies/guangdong/441300.yaml, assumed values):
employee inpatient ratio 95 %; 异地 temporary/unfiled −20 pp, long-term/referral/emergency none.
"""

from __future__ import annotations

import io
import json
import random
import secrets
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy import Engine

from tests.e2e.settlement.conftest import make
from tests.e2e.staff_login import PASSWORD as STAFF_PASSWORD
from tests.e2e.staff_login import login as staff_login
from tests.integration.crossregion.people import insured
from yibao.catalog import service as catalog
from yibao.client import CHINA, NhsaClient
from yibao.console import service as console_service
from yibao.console.model import Role
from yibao.encounter.store import encounter_accumulator, encounter_settlement
from yibao.hissim import flows
from yibao.institutions import demo as institutions
from yibao.ledger import verify
from yibao.registry import store as registry_store
from yibao.voucher.model import channel_signature
from yibao.voucher.verifier import demo_evidence

HZ, GZ, SZ = "441300", "440100", "440300"
GZ_HOSPITAL, SZ_HOSPITAL, SZ_PHARMACY, HZ_HOSPITAL = (
    "H44010000001", "H44030000001", "P44030000001", "H44130000001",
)  # fmt: skip
FILED_RATIO, UNFILED_RATIO = Decimal("0.95"), Decimal("0.75")


class Channel:
    """A channel app calling Yibao with signed requests (docs/voucher.md)."""

    def __init__(self, base: str, chnl_id: str, secret: str) -> None:
        self.base, self.chnl_id, self.secret = base, chnl_id, secret

    def post(self, path: str, payload: Mapping[str, object]) -> httpx.Response:
        body = json.dumps(payload, ensure_ascii=False).encode()
        ts, nonce = str(int(time.time())), secrets.token_hex(8)
        headers = {
            "Content-Type": "application/json",
            "X-Yibao-Channel": self.chnl_id,
            "X-Yibao-Timestamp": ts,
            "X-Yibao-Nonce": nonce,
            "X-Yibao-Signature": channel_signature(self.secret, "POST", path, ts, nonce, body),
        }
        return httpx.post(self.base + path, content=body, headers=headers, timeout=30)


@pytest.fixture
def gd(engine: Engine, live_server: str) -> Iterator[tuple[Engine, str]]:
    institutions.seed(engine)
    catalog.seed_demo(engine)
    console_service.create_user(  # the bureau clerk who registers the channel (admin API)
        engine, username="e2e-clerk", password=STAFF_PASSWORD, role=Role.PROVINCE_ADMIN
    )
    yield engine, live_server


def _person(engine: Engine, *, name: str) -> tuple[str, str]:
    with engine.begin() as conn:
        psn_no = insured(conn, HZ, name=name)
        p = registry_store.get_person(conn, psn_no)
        assert p is not None
        return psn_no, p.certno


def _client(url: str, code: str) -> NhsaClient:
    return make(url, code)


def _self_file(
    base: str, certno: str, psn_name: str, filing_type: str, place: str
) -> dict[str, object]:
    clerk = staff_login(base, "e2e-clerk")
    r = clerk.post("/api/voucher/admin/channels", json={"chnl_id": "nhsa_app", "name":
                   "国家医保服务平台", "kind": "nhsa_app"})  # fmt: skip
    clerk.close()
    app = Channel(base, "nhsa_app", r.json()["data"]["secret"])
    r = app.post("/api/voucher/channel/activate", {"chnlUserId": "u1", "userName": psn_name,
                 "idType": "01", "idNo": certno, "faceEvidence": demo_evidence(certno)})  # fmt: skip
    assert r.status_code == 200, r.text
    short = app.post("/api/filing/channel/filings", {"chnlUserId": "u1", "requestId": "q0",
                     "filingType": "temporary", "mdtrtareaAdmdvs": place,
                     "begndate": "2026-01-01", "enddate": "2026-02-01"})  # fmt: skip
    assert short.status_code == 422 and short.json()["field"] == "enddate"
    body = {"chnlUserId": "u1", "requestId": "q1", "filingType": filing_type,
            "mdtrtareaAdmdvs": place, "begndate": "2026-01-01"}  # fmt: skip
    r = app.post("/api/filing/channel/filings", body)
    assert r.status_code == 200, r.text
    assert app.post("/api/filing/channel/filings", body).json()["data"] == r.json()["data"]
    st = app.post("/api/filing/channel/status", {"chnlUserId": "u1", "mdtrtareaAdmvs": GZ,
                  "onDate": datetime.now(CHINA).date().isoformat(), "emergency": False})  # fmt: skip
    return {"filing": r.json()["data"], "status": st.json()["data"]["filing"], "app": app}


def _settlement(engine: Engine, setl_id: str) -> sa.RowMapping:
    with engine.connect() as conn:
        return (
            conn.execute(
                sa.select(encounter_settlement).where(encounter_settlement.c.setl_id == setl_id)
            )
            .mappings()
            .one()
        )


def _acc_regions(engine: Engine, psn_no: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.select(encounter_accumulator.c.insuplc_admdvs).where(
            encounter_accumulator.c.psn_no == psn_no, encounter_accumulator.c.counters != {})).scalars())  # fmt: skip


def test_huizhou_worker_filed_in_guangzhou_outpatient_inpatient_and_clearing(
    gd: tuple[Engine, str],
) -> None:
    engine, base = gd
    psn_no, certno = _person(engine, name="惠州职工")
    filed = _self_file(base, certno, "惠州职工", "resident_work", GZ)
    assert filed["status"] == "long_term"
    c = _client(base, GZ_HOSPITAL)
    p = flows.lookup(c, certno)
    assert p.insuplc_admdvs == HZ
    rng = random.Random(11)
    op = flows.outpatient(c, p, rng)
    ip = flows.inpatient(c, p, rng, days=12)  # above Huizhou's 异地 deductible (1200 yuan)
    for v in (op, ip):
        row = _settlement(engine, v.setl_id)
        assert (row["insuplc_admdvs"], row["mdtrtarea_admvs"]) == (HZ, GZ)
    assert _acc_regions(engine, psn_no) == {HZ}  # accumulators in the insured region

    # the filing has been relied upon: the insured may end it, not void it
    app = filed["app"]
    assert isinstance(app, Channel) and isinstance(filed["filing"], dict)
    fid = filed["filing"]["trt_dcla_detl_sn"]
    r = app.post("/api/filing/channel/filings/cancel", {"chnlUserId": "u1", "filingId": fid})
    assert r.status_code == 422 and "已用于异地结算" in r.json()["message"]
    today = datetime.now(CHINA).date().isoformat()  # the server's day (北京时间)
    r = app.post(
        "/api/filing/channel/filings/end", {"chnlUserId": "u1", "filingId": fid, "enddate": today}
    )
    assert r.status_code == 200 and r.json()["data"]["status"] == "ended", r.text
    listed = app.post("/api/filing/channel/filings/list", {"chnlUserId": "u1"}).json()["data"]
    assert [f["enddate"] for f in listed] == [today]

    month = datetime.now(CHINA).strftime("%Y-%m")
    # clearing staff sign in to the console: the Guangzhou clerk confirms, the province approves
    console_service.create_user(
        engine, username="gz-clerk", password=STAFF_PASSWORD, role=Role.CITY_ADMIN, admdvs=GZ
    )
    console_service.create_user(
        engine, username="sz-clerk", password=STAFF_PASSWORD, role=Role.CITY_ADMIN, admdvs=SZ
    )
    province, gz_clerk, sz_clerk = (
        staff_login(base, u) for u in ("e2e-clerk", "gz-clerk", "sz-clerk")
    )
    anonymous = httpx.post(f"{base}/api/clearing/admin/runs", json={"month": month}, timeout=10)
    assert anonymous.status_code == 401
    r = gz_clerk.post("/api/clearing/admin/runs", json={"month": month})
    assert r.status_code == 403  # all pairs: the province only
    r = province.post("/api/clearing/admin/runs", json={"month": month})
    assert r.status_code == 200, r.text
    (stmt,) = [s for s in r.json()["data"] if s["pair"] == [GZ, HZ]]
    hz_dir = next(d for d in stmt["totals"]["directions"] if d["insured"] == HZ)
    rows = [_settlement(engine, v.setl_id) for v in (op, ip)]
    assert hz_dir["medfee_sumamt"] == sum(r["medfee_sumamt"] for r in rows)
    assert hz_dir["fund_pay_sumamt"] == sum(r["fund_pay_sumamt"] for r in rows)
    owed = sum(r["fund_pay_sumamt"] + r["acct_pay"] for r in rows)
    assert owed > 0 and stmt["net_amount"] == owed and stmt["payer"] == HZ, (owed, stmt)
    sid = stmt["stmt_id"]
    path = f"/api/clearing/admin/statements/{sid}"
    assert sz_clerk.post(f"{path}/confirm").status_code == 403  # Shenzhen is not a party
    assert sz_clerk.get(path).status_code == 403
    assert gz_clerk.post(f"{path}/confirm").status_code == 200
    same = gz_clerk.post(f"{path}/approve")
    assert same.status_code == 409 and "不能与确认人相同" in same.json()["message"]
    ok = province.post(f"{path}/approve")
    assert ok.status_code == 200 and ok.json()["data"]["state"] == "approved"
    assert ok.json()["data"]["approved_by"] == "e2e-clerk", ok.json()["data"]
    x = gz_clerk.get(f"{path}/xlsx")
    # the bureau view of the person's filings: signed in, and the region in scope
    filings = f"/api/filing/admin/persons/{psn_no}/filings"
    assert httpx.get(base + filings, headers={"X-Yibao-Operator": "x"}).status_code == 401
    assert sz_clerk.get(filings).status_code == 403
    seen = gz_clerk.get(filings)  # Guangzhou is the filing's treatment region
    assert seen.status_code == 200 and [f["mdtrtarea_admdvs"] for f in seen.json()["data"]] == [GZ]
    for c in (province, gz_clerk, sz_clerk):
        c.close()
    wb = load_workbook(io.BytesIO(x.content))
    assert wb["明细"].max_row == 3
    with engine.connect() as conn:
        assert verify(conn).ok


def test_filed_inpatient_gets_the_local_ratio(gd: tuple[Engine, str]) -> None:
    engine, base = gd
    _psn_no, certno = _person(engine, name="惠州职工")
    _self_file(base, certno, "惠州职工", "resident_work", GZ)
    c = _client(base, GZ_HOSPITAL)
    ip = flows.inpatient(c, flows.lookup(c, certno), random.Random(3))
    assert _settlement(engine, ip.setl_id)["pool_prop_selfpay"] == FILED_RATIO


def test_same_person_unfiled_gets_the_lower_ratio(gd: tuple[Engine, str]) -> None:
    engine, base = gd
    psn_no, certno = _person(engine, name="惠州职工")
    c = _client(base, GZ_HOSPITAL)
    ip = flows.inpatient(c, flows.lookup(c, certno), random.Random(3))
    row = _settlement(engine, ip.setl_id)
    assert row["pool_prop_selfpay"] == UNFILED_RATIO  # 95 % − 20 pp (Huizhou, unfiled)
    assert _acc_regions(engine, psn_no) == {HZ}


def test_emergency_in_shenzhen_is_deemed_filed(gd: tuple[Engine, str]) -> None:
    engine, base = gd
    _, certno = _person(engine, name="惠州急诊")
    c = _client(base, SZ_HOSPITAL)
    ip = flows.inpatient(c, flows.lookup(c, certno), random.Random(5), emergency=True)  # no filing
    # an emergency admission (IPT_TYPE 2 / med_type 13) must settle as 急诊抢救 (视同备案)
    assert _settlement(engine, ip.setl_id)["pool_prop_selfpay"] == FILED_RATIO


def test_huizhou_chronic_patient_at_a_shenzhen_pharmacy(gd: tuple[Engine, str]) -> None:
    engine, base = gd
    psn_no, certno = _person(engine, name="惠州门慢")
    hz = _client(base, HZ_HOSPITAL)
    r = hz.call("2503", {"data": {"psn_no": psn_no, "opsp_dise_code": "MT001",
                                  "opsp_dise_name": "高血压", "begndate": "2026-01-01"}})  # fmt: skip
    assert r.infcode == 0, r.err_msg
    sn = r.output["result"]["trt_dcla_detl_sn"]
    same_city = hz.call(
        "2505", {"data": {"psn_no": psn_no, "biz_appy_type": "08", "begndate": "2026-01-01"}}
    )
    assert same_city.infcode == -1 and "不属于异地就医" in same_city.err_msg
    pharmacy = _client(base, SZ_PHARMACY)
    r = pharmacy.call(
        "2505", {"data": {"psn_no": psn_no, "biz_appy_type": "08", "begndate": "2026-01-01"}}
    )
    assert r.infcode == 0, r.err_msg  # 异地安置登记 for Shenzhen, filed at the pharmacy
    v = flows.pharmacy(pharmacy, flows.lookup(pharmacy, certno), random.Random(9))
    row = _settlement(engine, v.setl_id)
    assert (row["insuplc_admdvs"], row["mdtrtarea_admvs"]) == (HZ, SZ)
    assert _acc_regions(engine, psn_no) <= {HZ}
    # the 2503 record is there and another institution cannot undo it
    other = _client(base, GZ_HOSPITAL)
    r = other.call("2504", {"data": {"trt_dcla_detl_sn": sn, "psn_no": psn_no}})
    assert r.infcode == -1 and "不是本机构办理的" in r.err_msg


def test_referral_2501_and_its_undo_2502(gd: tuple[Engine, str]) -> None:
    engine, base = gd
    psn_no, _ = _person(engine, name="惠州转诊")
    hz = _client(base, HZ_HOSPITAL)
    data = {"psn_no": psn_no, "diag_code": "I21.9", "diag_name": "急性心肌梗死",
            "reflin_medins_no": GZ_HOSPITAL, "reflin_medins_name": "广州市第一人民医院",
            "mdtrtarea_admdvs": GZ, "refl_type": "2", "refl_date": "2026-10-01",
            "refl_rea": "病情需要", "refl_opnn": "同意转院"}  # fmt: skip
    short = hz.call("2501", {"refmedin": {**data, "enddate": "2026-11-01"}})
    assert short.infcode == -1 and "不少于6个月" in short.err_msg
    r = hz.call("2501", {"refmedin": data})
    assert r.infcode == 0, r.err_msg
    sn = r.output["result"]["trt_dcla_detl_sn"]
    assert hz.post("2501", r.request).body == r.body  # a retry is answered identically
    bad = hz.call("2501", {"refmedin": {**data, "refl_type": "9"}})
    assert bad.infcode == -1 and "refl_type" in bad.err_msg
    undo = hz.call("2502", {"data": {"trt_dcla_detl_sn": sn, "psn_no": psn_no, "memo": "患者放弃"}})
    assert undo.infcode == 0, undo.err_msg
    with engine.connect() as conn:
        from yibao.filing import service as filing

        (row,) = filing.filings_of(conn, psn_no)
        assert row.status == "cancelled" and row.filing_type == "referral" and row.enddate
