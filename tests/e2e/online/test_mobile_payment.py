"""Mobile payment (移动支付) over real HTTP: the HIS uploads (6201), the insured authorises and pays
on the phone (cash, then 医保), the HIS is called back (6302) and refunds (6203)."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from tests.e2e.online.conftest import HOSPITAL, fee_lines, patient, upload_6201
from yibao.online.client import OnlineClient
from yibao.web import sim


def phone(base: str, p: Any, action: str, **body: str) -> dict[str, Any]:
    return sim.channel_call(base, p.chnl, f"/api/online/channel/{action}",
                            {"chnlUserId": p.user, **body})  # fmt: skip


def wait_state(c: OnlineClient, order: dict[str, Any], p: Any, states: set[str]) -> dict[str, Any]:
    """Poll 6301 until the order reaches one of ``states`` (bounded)."""
    q = {"payOrdId": order["payOrdId"], "orgCodg": HOSPITAL, "payToken": order["payToken"],
         "idNo": p.ident["idNo"], "userName": p.ident["userName"], "idType": p.ident["idType"]}  # fmt: skip
    for _ in range(100):
        got = c.call("mpc", "6301", q)
        if got["ordStas"] in states:
            return got
        time.sleep(0.1)
    raise AssertionError(f"order stayed {got['ordStas']}")


def ledger_sum(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(sa.text("SELECT COALESCE(SUM(amount), 0) FROM ledger_entry")).scalar_one()
        )


def provider_net(engine: Engine, pay_ord_id: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(
            "SELECT COALESCE(SUM(CASE kind WHEN 'pay' THEN amount ELSE -amount END), 0)"
            " FROM online_provider_txn WHERE pay_ord_id = :o"), {"o": pay_ord_id}).scalar_one())  # fmt: skip


def settlements(engine: Engine, pay_ord_id: str) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        return [(r[0], int(r[1])) for r in conn.execute(sa.text(
            "SELECT kind, fund_pay_sumamt + acct_pay FROM encounter_settlement"
            " WHERE msgid LIKE :m ORDER BY setl_time"), {"m": f"{pay_ord_id}%"})]  # fmt: skip


def test_outpatient_paid_on_the_phone_and_refunded(
    online_server: str, clients: dict[str, OnlineClient], world: Engine
) -> None:
    base, his = online_server, clients[HOSPITAL]
    p = patient(base, 0, HOSPITAL)
    order = upload_6201(his, p, fee_lines("440300", 1))
    assert order["payOrdId"].startswith("MP") and "payOrdId=" in order["cashierUrl"]
    split = order["extData"]
    total = Decimal(str(split["feeSumamt"]))
    assert total == Decimal(str(split["fundPay"])) + Decimal(str(split["psnAcctPay"])) + Decimal(
        str(split["ownPayAmt"]))  # fmt: skip

    # the phone: authorise → see the split → pay the cash part → receipt
    auth = phone(base, p, "authorise", payOrdId=order["payOrdId"])
    assert auth["payAuthNo"].startswith("AUTH")
    assert auth["split"]["feeSumamt"] == int(total * 100)
    paid = phone(base, p, "pay", payOrdId=order["payOrdId"], payAuthNo=auth["payAuthNo"])
    assert paid["ordStas"] == "4" and paid["extData"]["setlId"]
    again = sim.SimError
    try:  # the authorisation is single use
        phone(base, p, "pay", payOrdId=order["payOrdId"], payAuthNo=auth["payAuthNo"])
        raise AssertionError("paid twice")
    except again as e:
        assert "订单状态" in str(e) or "已使用" in str(e)

    done = wait_state(his, order, p, {"6"})  # 6302 delivered, the HIS booked it
    assert done["ordStasName"] == "结算完成"
    with world.connect() as conn:
        inbox = conn.execute(sa.text("SELECT body FROM online_callback_inbox WHERE pay_ord_id = :o"),
                             {"o": order["payOrdId"]}).scalars().all()  # fmt: skip
    assert len(inbox) == 1 and inbox[0]["data"]["callType"] == "2"
    own = int(Decimal(str(split["ownPayAmt"])) * 100)
    assert provider_net(world, order["payOrdId"]) == own
    assert [k for k, _ in settlements(world, order["payOrdId"])] == ["settle"]
    assert ledger_sum(world) == 0

    # the HIS refunds everything (6203 ALL): the fund and the cash provider both give back
    refund = {"payOrdId": order["payOrdId"], "appRefdSn": "RF-0001", "appRefdTime": "20260101120000",
              "totlRefdAmt": split["feeSumamt"], "psnAcctRefdAmt": split["psnAcctPay"],
              "fundRefdAmt": split["fundPay"], "cashRefdAmt": split["ownPayAmt"],
              "ecToken": p.ident["ecToken"], "refdType": "ALL"}  # fmt: skip
    first = his.post("mpc", "6203", refund)
    assert first.code == 0 and first.data["refStatus"] == "SUCC", first.message
    assert first.data["hiFefdSn"]
    assert his.post("mpc", "6203", refund).body == first.body  # a retry: the same bytes
    final = wait_state(his, order, p, {"7"})
    assert final["ordStasName"] == "已退款"
    assert provider_net(world, order["payOrdId"]) == 0
    kinds = settlements(world, order["payOrdId"])
    assert [k for k, _ in kinds] == ["settle", "cancel"] and sum(a for _, a in kinds) == 0
    assert ledger_sum(world) == 0
