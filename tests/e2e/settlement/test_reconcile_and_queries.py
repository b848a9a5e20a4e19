"""A day of his-sim traffic reconciles (3201/3202 平); a wrong total does not; 5201–5206 answer."""

from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine

from tests.e2e.settlement.conftest import HOSPITAL, PERSONS, PHARMACY, ClientFactory, patients
from yibao.hissim import flows
from yibao.hissim.sim import CHINA_TODAY, reconcile, run_day
from yibao.voucher.service import VoucherService


def test_a_day_of_traffic_reconciles(world: Engine, live_server: str) -> None:
    VoucherService(world).register_channel("wechat", "微信", "wechat", secret="sim-secret")
    report = run_day(
        live_server,
        [HOSPITAL, "H44030000003", PHARMACY],
        encounters=8,
        seed=3,
        threads_per_institution=2,
        cancel_rate=0.25,
        persons=PERSONS,
        qr_share=0.4,
        channel=("wechat", "sim-secret"),
    )
    for code, book in report.books.items():
        assert book.errors == [], (code, book.errors)
        assert book.rows
        results = report.reconciliation[code]
        assert {r["infno"] for r in results} == {"3201", "3202"}
        assert all(r["stmt_rslt"] == "0" for r in results), results
    assert sum(b.counts.get("cancel", 0) for b in report.books.values()) > 0
    assert sum(b.counts.get("qr", 0) for b in report.books.values()) > 0  # 医保码 visits


def test_a_wrong_total_is_reported(make_client: ClientFactory, rng: random.Random) -> None:
    c = make_client()
    p = patients(c, insutype="310", region="440300")[0]
    v = flows.outpatient(c, p, rng)
    from yibao.hissim.sim import Book

    book = Book()
    book.add(v.setlinfo, "0")
    assert all(r["stmt_rslt"] == "0" for r in reconcile(c, book, CHINA_TODAY()))
    r = c.call(
        "3201",
        {
            "data": {
                "insutype": "310",
                "clr_type": "11",
                "setl_optins": "440300",
                "stmt_begndate": f"{CHINA_TODAY()}",
                "stmt_enddate": f"{CHINA_TODAY()}",
                "medfee_sumamt": "1.00",
                "fund_pay_sumamt": "0",
                "acct_pay": "0",
                "fixmedins_setl_cnt": 1,
            }
        },
    )
    info = flows.ok(r)["stmtinfo"]
    assert info["stmt_rslt"] == "1" and "医疗费总额" in info["stmt_rslt_dscr"]


def test_queries_5201_to_5206(make_client: ClientFactory, rng: random.Random) -> None:
    c = make_client()
    p = patients(c, insutype="310", region="440300")[0]
    v = flows.outpatient(c, p, rng)
    today = f"{datetime.now(flows.CHINA):%Y-%m-%d}"
    key = {"psn_no": p.psn_no, "mdtrt_id": v.mdtrt_id}
    visits = flows.ok(
        c.call(
            "5201",
            {"data": {"psn_no": p.psn_no, "begntime": today, "endtime": today, "med_type": ""}},
        )
    )["mdtrtinfo"]
    assert [x["mdtrt_id"] for x in visits] == [v.mdtrt_id]
    dise = flows.ok(c.call("5202", {"data": key}))["diseinfo"]
    assert dise[0]["diag_code"] == "J06.900"
    setl = flows.ok(c.call("5203", {"data": {**key, "setl_id": v.setl_id}}))
    assert setl["setlinfo"]["medfee_sumamt"] == v.setlinfo["medfee_sumamt"]
    assert setl["setlinfo"]["pay_loc"] == "2" and setl["setlinfo"]["refd_setl_flag"] == "0"
    lines = flows.ok(c.call("5204", {"data": {**key, "setl_id": v.setl_id}}))["output"]
    assert sum(Decimal(str(x["det_item_fee_sumamt"])) for x in lines) == Decimal(
        str(v.setlinfo["medfee_sumamt"])
    )
    assert (
        flows.ok(
            c.call("5205", {"data": {"psn_no": p.psn_no, "begntime": today, "endtime": today}})
        )["feedetail"]
        == []
    )
    cum = flows.ok(
        c.call("5206", {"data": {"psn_no": p.psn_no, "cum_ym": today[:7].replace("-", "")}})
    )
    assert cum["cuminfo"], cum
    bad = c.call("5206", {"data": {"psn_no": p.psn_no, "cum_ym": "2026-1"}})
    assert bad.infcode == -1 and "cum_ym" in bad.err_msg
