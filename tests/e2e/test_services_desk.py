"""E2E over real HTTP (issue 16): a campaign's progress moves as people activate through the
channel API; a 零星报销 claim goes from the channel application to payment with two different
reviewers and pays exactly what a 2207 of the same bill paid an equal person; a duplicate invoice
is refused; 4261–4263 flag an invoice that differs from the institution's upload; the policy Q&A
answers with a source and a service entry, and refuses without one."""

from __future__ import annotations

import base64
import random
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.e2e.settlement.conftest import PERSONS, make, seed_world
from tests.e2e.staff_login import staff_client
from tests.e2e.test_voucher_flow import Channel
from yibao.campaigns import service as campaigns
from yibao.checkout import demo as persons
from yibao.client import CHINA
from yibao.hissim import flows
from yibao.voucher.service import VoucherService
from yibao.voucher.verifier import demo_evidence

HOSPITAL = "H44030000001"  # 深圳市人民医院, 440300
SECRET = "e2e-secret-wechat"


def _fen(v: object) -> int:
    return int(Decimal(str(v)) * 100)


def _activated(staff: httpx.Client, campaign_id: str) -> int:
    page = staff.get(f"/console/campaigns/{campaign_id}").text
    m = re.search(r'data-testid="kpi-activated">([\d,]+)', page)
    assert m, page[:2000]
    return int(m.group(1).replace(",", ""))


def _campaign(today: date) -> str:
    return f"""
id: E2E-SZ
name: 深圳医保码激活专项（测试）
admdvs: "440300"
source: {{title: 测试方案, issuer: 测试}}
period: {{start: {today - timedelta(days=10)}, end: {today + timedelta(days=20)}}}
overall: {{base: 100, target_rate: "0.50", deadline: {today + timedelta(days=20)}, responsible: 市医保局}}
categories:
  - {{code: staff, name: 在职职工, insutype: "310", psn_types: ["11"], target_rate: "0.90",
      deadline: {today + timedelta(days=10)}, responsible: 用工单位, per_unit: true}}
  - {{code: resident, name: 城乡居民, rest: true, target: towns, deadline: {today + timedelta(days=20)},
      responsible: 各镇办}}
towns:
  rows:
    - {{name: 福田区华富街道, base: 20, target: 12}}
    - {{name: 南山区粤海街道, base: 20, target: 12}}
    - {{name: 罗湖区东门街道, base: 20, target: 12}}
    - {{name: 宝安区新安街道, base: 20, target: 12}}
"""


def _fee_rows(v: flows.Visit) -> list[dict[str, Any]]:
    lines = v.calls[2].request["input"]["feedetail"]
    return [{"feedetl_sn": ln["feedetl_sn"], "med_list_codg": ln["med_list_codg"],
             "medins_list_codg": ln["medins_list_codg"], "name": ln["med_list_codg"],
             "pric": str(ln["pric"]), "cnt": str(ln["cnt"]),
             "det_item_fee_sumamt": str(ln["det_item_fee_sumamt"])} for ln in lines]  # fmt: skip


def _apply(chan: Channel, user: str, request_id: str, fees: list[dict[str, Any]], inv_no: str,
           image: bytes, **extra: Any) -> httpx.Response:  # fmt: skip
    total = sum(Decimal(f["det_item_fee_sumamt"]) for f in fees)
    return chan.post("/api/claims/channel/apply", {
        "chnlUserId": user, "requestId": request_id, "insutype": "390", "medType": "11",
        "fixmedinsCode": HOSPITAL, "begndate": datetime.now(CHINA).date().isoformat(),
        "enddate": datetime.now(CHINA).date().isoformat(), "reason": "network",
        "payee": {"name": "参保人本人", "bank": "工商银行", "account": "6222020000001234"},
        "feeList": fees,
        "invoices": [{"inv_code": "44030021", "inv_no": inv_no, "amount": str(total),
                      "inv_date": datetime.now(CHINA).date().isoformat()}],
        "files": [{"kind": "invoice", "filename": "发票.jpg", "mediaType": "image/jpeg",
                   "contentBase64": base64.b64encode(image).decode()}],
        **extra,
    })  # fmt: skip


def _act(c: httpx.Client, claim_no: str, action: str) -> str:
    page = c.get(f"/console/claims/{claim_no}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    r = c.post(f"/console/claims/{claim_no}/{action}", data={"csrf_token": token.group(1), "note": "同意"},
               follow_redirects=True)  # fmt: skip
    assert r.status_code == 200
    return r.text


def test_campaign_claim_and_qa(engine: Engine, db_url: str, server_factory: type) -> None:
    seed_world(engine)
    today = datetime.now(CHINA).date()
    with engine.begin() as conn:
        campaigns.load_text(
            conn, _campaign(today), source_file="e2e.yaml", actor="e2e", now=campaigns.now()
        )
    VoucherService(engine).register_channel("wechat", "微信", "wechat", SECRET)
    server = server_factory(db_url)
    server.start()
    base = server.url
    reviewer = staff_client(base, db_url, "rev_a")
    approver = staff_client(base, db_url, "rev_b")
    chan = Channel(base, "wechat", SECRET)

    # --- campaign progress moves with channel activations --------------------------------------
    rows = [r for r in persons.demo_rows(PERSONS) if r["insuplc_admdvs"] == "440300"]
    before = _activated(reviewer, "E2E-SZ")
    for i, row in enumerate(rows[:3]):
        r = chan.post("/api/voucher/channel/activate", {
            "chnlUserId": f"e2e-{i}", "userName": row["psn_name"], "idType": "01",
            "idNo": row["certno"], "faceEvidence": demo_evidence(row["certno"])})  # fmt: skip
        assert r.status_code == 200, r.text
    assert _activated(reviewer, "E2E-SZ") == before + 3
    xlsx = reviewer.get("/console/campaigns/E2E-SZ/report.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    pdf = reviewer.get("/console/campaigns/E2E-SZ/report.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"

    # --- 零星报销 priced like a 2207 of the same bill for an equal person ------------------------
    residents = [r for r in rows if r["insutype"] == "390" and r["psn_type"] == "50"]
    a_row, b_row = residents[0], residents[1]
    his = make(base, HOSPITAL)
    a = flows.lookup(his, a_row["certno"])
    v = flows.outpatient(his, a, random.Random(16), lines=4)
    direct = v.setlinfo
    his.close()
    r = chan.post("/api/voucher/channel/activate", {
        "chnlUserId": "e2e-claimant", "userName": b_row["psn_name"], "idType": "01",
        "idNo": b_row["certno"], "faceEvidence": demo_evidence(b_row["certno"])})  # fmt: skip
    assert r.status_code == 200, r.text
    fees = _fee_rows(v)
    r = _apply(chan, "e2e-claimant", "req-1", fees, "0000000001", b"invoice-image-1")
    assert r.status_code == 200, r.text
    claim_no = r.json()["data"]["claimNo"]
    again = _apply(chan, "e2e-claimant", "req-1", fees, "0000000001", b"invoice-image-1")
    assert again.json()["data"]["claimNo"] == claim_no  # a retry is the same application
    dup = _apply(chan, "e2e-claimant", "req-2", fees, "0000000001", b"another-image")
    assert dup.status_code == 422 and "已在报销申请" in dup.json()["message"], dup.text
    dup_file = _apply(chan, "e2e-claimant", "req-3", fees, "0000000002", b"invoice-image-1")
    assert dup_file.status_code == 422 and "SHA-256" in dup_file.json()["message"]

    _act(reviewer, claim_no, "accept")
    _act(reviewer, claim_no, "review")
    page = _act(reviewer, claim_no, "approve")  # the reviewer may not approve
    assert "复核须由审核人以外的另一名经办人员办理" in page
    _act(approver, claim_no, "approve")
    page = _act(approver, claim_no, "pay")
    assert 'data-testid="claim-status">已支付' in page
    with engine.connect() as conn:
        c = (
            conn.execute(sa.text("SELECT * FROM claim WHERE claim_no = :n"), {"n": claim_no})
            .mappings()
            .one()
        )
        assert c["reviewed_by"] == "rev_a" and c["approved_by"] == "rev_b"
        assert c["reimburse_amt"] == _fen(direct["fund_pay_sumamt"])
        for k in (
            "medfee_sumamt",
            "fulamt_ownpay_amt",
            "inscp_scp_amt",
            "hifp_pay",
            "act_pay_dedc",
            "fund_pay_sumamt",
            "psn_part_amt",
        ):
            assert int(c["setlinfo"][k]) == _fen(direct[k]), k
        assert (
            conn.execute(sa.text("SELECT COALESCE(SUM(amount), 0) FROM ledger_entry")).scalar() == 0
        )
        owed, credited = conn.execute(
            sa.text("SELECT COALESCE(SUM(amount), 0), COALESCE(SUM(-amount) FILTER (WHERE amount < 0), 0)"
                    " FROM ledger_entry WHERE account_code = :a"), {"a": f"RMB:{c['psn_no']}"}).one()  # fmt: skip
        assert credited == c["reimburse_amt"] > 0 and owed == 0  # approved (credited), then paid
        counters = conn.execute(sa.text("SELECT counters FROM encounter_accumulator WHERE psn_no = :p"),
                                {"p": c["psn_no"]}).scalar()  # fmt: skip
        assert counters  # the reimbursement consumed the year's accumulators like a settlement
    mine = chan.post("/api/claims/channel/list", {"chnlUserId": "e2e-claimant"}).json()["data"]
    assert mine[0]["status"] == "paid" and mine[0]["overdue"] is False

    # --- 4261 upload, a claim whose invoice differs, 4262 and 4263 -----------------------------
    his = make(base, HOSPITAL)
    now = f"{today} 09:00:00"
    up = his.call("4261", {
        "upType": "0",
        "fmiOwnpayPatnMdtrtDDTO": {"mdtrtId": "ZF0001", "fixmedinsCode": HOSPITAL, "fixmedinsName": "深圳市人民医院",
                                   "psnCertType": "01", "certno": b_row["certno"], "psnName": b_row["psn_name"],
                                   "begntime": now, "medType": "11", "inhospStas": "0", "valiFlag": "1"},
        "fmiOwnpayPatnFeeListDDTO": [{"bkkpSn": "B1", "feeOcurTime": now, "fixmedinsCode": HOSPITAL,
                                      "fixmedinsName": "深圳市人民医院", "cnt": "1", "pric": "10.00",
                                      "detItemFeeSumamt": "10.00", "valiFlag": "1"}],
    })  # fmt: skip
    assert up.infcode == 0, up.err_msg
    rec = his.call(
        "4262", {"mdtrtId": "ZF0001", "fixmedinsCode": HOSPITAL, "totalFeeSumamt": "10.00"}
    )
    assert flows.ok(rec)["data"]["stmtResult"] == "1"
    r = _apply(
        chan, "e2e-claimant", "req-4", fees, "0000000003", b"invoice-image-3", mdtrtId="ZF0001"
    )
    assert r.status_code == 200, r.text
    q = flows.ok(his.call("4263", {"fixmedinsCode": HOSPITAL, "pageNum": 1, "pageSize": 10}))
    assert q["recordCounts"] == 1 and q["data"][0]["zeroClaimNo"] == r.json()["data"]["claimNo"]
    his.close()

    # --- 边问边办 --------------------------------------------------------------------------------
    ans = httpx.post(f"{base}/api/services/ask", json={"question": "外地医院没联网，自己垫付的钱怎么报销？",
                                                        "admdvs": "440300"}).json()["data"]  # fmt: skip
    assert ans["found"] and ans["source"]["doc_no"] == "医保发〔2022〕22号"
    assert ans["service"]["entry"] == "POST /api/claims/channel/apply"
    assert ans["parameters"][0]["key"] == "claims.time_limit_days"
    ans = httpx.post(f"{base}/api/services/ask", json={"question": "深圳住院起付线是多少钱？",
                                                        "admdvs": "440300"}).json()["data"]  # fmt: skip
    assert ans["found"] and "358号" in ans["source"]["doc_no"]
    assert any(p["key"] == "employee.inpatient.deductible" for p in ans["parameters"])
    none = httpx.post(f"{base}/api/services/ask", json={"question": "今天天气怎么样？"}).json()[
        "data"
    ]
    assert not none["found"] and "未找到依据" in none["message"]
    page = httpx.get(f"{base}/services").text
    assert "医疗费用零星报销申请" in page and "/api/claims/channel/apply" in page
    page = httpx.get(f"{base}/services/ask", params={"q": "股票怎么买"}).text
    assert "未找到依据" in page
