"""A lost 医保 answer is reversed automatically with nothing paid twice; a simulated day of online
traffic reconciles (orders ↔ settlements ↔ the provider's statement) with no difference."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from tests.e2e.online.conftest import HOSPITAL, fee_lines, patient, upload_6201
from tests.e2e.online.test_mobile_payment import (
    ledger_sum,
    phone,
    provider_net,
    settlements,
    wait_state,
)
from yibao.encounter.records import business_day
from yibao.online.client import OnlineClient
from yibao.online.provider import SimulatorProvider
from yibao.online.reconcile import reconcile_day


def order_6202(order: dict[str, Any], auth: str, biz: str) -> dict[str, Any]:
    return {"payAuthNo": auth, "payOrdId": order["payOrdId"], "payToken": order["payToken"],
            "orgCodg": HOSPITAL, "orgBizSer": biz, "mdtrtId": order["extData"]["mdtrtId"],
            "chrgBchno": "B0001"}  # fmt: skip


def test_a_lost_answer_is_reversed_and_nothing_is_paid_twice(
    online_server: str, clients: dict[str, OnlineClient], world: Engine
) -> None:
    base, his = online_server, clients[HOSPITAL]
    p = patient(base, 1, HOSPITAL)
    order = upload_6201(his, p, fee_lines("440300", 2))
    auth = phone(base, p, "authorise", payOrdId=order["payOrdId"])["payAuthNo"]
    blocker = world.connect()
    tx = blocker.begin()
    blocker.execute(sa.text("SELECT 1 FROM encounter WHERE mdtrt_id = :m FOR UPDATE"),
                    {"m": order["extData"]["mdtrtId"]})  # fmt: skip
    try:  # the core's settlement cannot finish: the centre's wait runs out, the answer is lost
        first = his.post("mpc", "6202", order_6202(order, auth, "BIZ-1"))
    finally:
        tx.commit()  # … and the settlement goes through after all (or not): the outcome is unknown
        blocker.close()
    assert first.code == 0 and first.data["ordStas"] in ("2", "3"), first.message
    final = wait_state(his, order, p, {"13", "15"})  # the sweeper reversed it
    kinds = settlements(world, order["payOrdId"])
    assert [k for k, _ in kinds] in ([], ["settle", "cancel"]) and sum(a for _, a in kinds) == 0
    if kinds:
        assert final["ordStasName"] == "医保已撤销" and final["extData"]["cancelSetlId"]
    assert provider_net(world, order["payOrdId"]) == 0  # the cash came back
    assert ledger_sum(world) == 0
    assert his.post("mpc", "6202", order_6202(order, auth, "BIZ-1")).body == first.body
    again = his.post("mpc", "6202", order_6202(order, auth, "BIZ-2"))
    assert again.code == -1 and "不能下单支付" in again.message
    with world.connect() as conn:
        assert not conn.execute(sa.text("SELECT 1 FROM online_callback_inbox WHERE pay_ord_id = :o"),
                                {"o": order["payOrdId"]}).first()  # fmt: skip


def _refund(p: Any, order: dict[str, Any], kind: str, cash: str) -> dict[str, Any]:
    s = order["extData"]
    full = kind in ("ALL", "HI")
    return {"payOrdId": order["payOrdId"], "appRefdSn": f"RF{secrets.token_hex(5)}",
            "appRefdTime": "20260101120000", "totlRefdAmt": s["feeSumamt"],
            "psnAcctRefdAmt": s["psnAcctPay"] if full else 0, "fundRefdAmt": s["fundPay"] if full else 0,
            "cashRefdAmt": cash, "ecToken": p.ident["ecToken"], "refdType": kind}  # fmt: skip


def test_a_day_of_online_traffic_reconciles(
    online_server: str, clients: dict[str, OnlineClient], world: Engine
) -> None:
    base, his = online_server, clients[HOSPITAL]
    outcomes: list[str] = []
    for i in range(8):
        p = patient(base, 2 + i, HOSPITAL)
        order = upload_6201(his, p, fee_lines("440300", 10 + i, n=2 + i % 3))
        s = order["extData"]
        if i == 7:  # withdrawn before payment (6401)
            got = his.call("mpc", "6401", {"payOrdId": order["payOrdId"], "orgCodg": HOSPITAL,
                                           "payToken": order["payToken"], "idNo": p.ident["idNo"],
                                           "userName": p.ident["userName"], "idType": p.ident["idType"]})  # fmt: skip
            assert got["success"] is True
            outcomes.append("12")
            continue
        auth = phone(base, p, "authorise", payOrdId=order["payOrdId"])["payAuthNo"]
        if i % 2:
            phone(base, p, "pay", payOrdId=order["payOrdId"], payAuthNo=auth)
        else:
            assert his.call("mpc", "6202", order_6202(order, auth, f"BIZ{i}"))["ordStas"] == "4"
        wait_state(his, order, p, {"6"})
        own = Decimal(str(s["ownPayAmt"]))
        if i == 2:
            r = his.call("mpc", "6203", _refund(p, order, "ALL", str(own)))
        elif i == 3:
            r = his.call("mpc", "6203", _refund(p, order, "HI", "0"))
        elif i == 4 and own >= Decimal("0.02"):
            r = his.call(
                "mpc", "6203", _refund(p, order, "CASH", str((own / 2).quantize(Decimal("0.01"))))
            )
        else:
            outcomes.append("6")
            continue
        assert r["refStatus"] == "SUCC"
        outcomes.append(wait_state(his, order, p, {"7", "8", "10"})["ordStas"])
    assert {"6", "7", "8", "12"} <= set(outcomes)
    report = reconcile_day(world, business_day(datetime.now(UTC)), SimulatorProvider(world))
    assert report.orders == 8
    assert report.balanced, report.differences
    assert report.hi_total == report.settlement_total and report.cash_total == report.provider_total
    assert ledger_sum(world) == 0
    # a provider row the centre does not know is a difference
    with world.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO online_provider_txn (txn_id, idem_key, pay_ord_id, kind, amount, business_day)"
            " VALUES ('SIMX1', 'stray', 'MP-UNKNOWN', 'pay', 100, :d)"), {"d": report.day})  # fmt: skip
    stray = reconcile_day(world, report.day, SimulatorProvider(world))
    assert [d.kind for d in stray.differences] == ["orphan-provider"]
