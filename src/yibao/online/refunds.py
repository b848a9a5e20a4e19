"""6203 医保退费: ALL (医保 and the cash), HI (医保 only) or CASH (all or part of the cash).

The 医保 part is taken back by checkout's cancel use case
(:func:`yibao.checkout.cancel.cancel_settlement`: a new negative settlement, the account refunded,
the ledger's mirror chain), in the same transaction as the order's new state and the refund row;
the cash part then goes back through the payment provider, idempotent on ``appRefdSn``. A cash
refund that fails after the 医保 part was refunded answers ``refStatus`` EXP (the reference's
"存在退医保及自费时有可能出现这个状态"); the same ``appRefdSn`` again finishes it.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from yibao.checkout.cancel import Cancel, cancel_settlement
from yibao.clock import CHINA
from yibao.encounter.records import business_day
from yibao.online import core, store
from yibao.online.apps import App
from yibao.online.model import OnlineError, OrdStas, Split, plan_refund
from yibao.online.orders import order_of
from yibao.online.provider import PaymentProvider, ProviderError

W = "data"


def refund(
    engine: sa.Engine, app: App, data: dict[str, Any], now: datetime, provider: PaymentProvider
) -> dict[str, Any]:
    app_refd_sn = core.text(data, "appRefdSn", W, required=True)
    r = store.refund
    with engine.begin() as conn:
        found = conn.execute(sa.select(r).where(r.c.app_id == app.app_id,
                                               r.c.app_refd_sn == app_refd_sn)).mappings().first()  # fmt: skip
        done: dict[str, Any] = dict(found) if found else _book(conn, app, app_refd_sn, data, now)
    if done["ref_status"] != "SUCC" and done["cash_amt"]:
        try:
            provider.refund(f"refund:{app.app_id}:{app_refd_sn}", done["pay_ord_id"],
                            done["cash_amt"], business_day(now))  # fmt: skip
            status = "SUCC"
        except ProviderError:
            status = "EXP" if done["hi_amt"] else "FAIL"
        with engine.begin() as conn:
            conn.execute(r.update().where(r.c.refd_sn == done["refd_sn"]).values(ref_status=status))
            if status == "SUCC":
                o = store.order
                conn.execute(o.update().where(o.c.pay_ord_id == done["pay_ord_id"])
                             .values(cash_refunded=o.c.cash_refunded + done["cash_amt"],
                                     version=o.c.version + 1))  # fmt: skip
        done = {**done, "ref_status": status}
    elif done["ref_status"] != "SUCC":
        with engine.begin() as conn:
            conn.execute(r.update().where(r.c.refd_sn == done["refd_sn"]).values(ref_status="SUCC"))
        done = {**done, "ref_status": "SUCC"}
    created = done["created_at"] or now
    out: dict[str, Any] = {
        "refdSn": done["refd_sn"],
        "refStatus": done["ref_status"],
        "extData": {},
    }
    if done["hi_amt"]:
        local = created.astimezone(CHINA)
        out.update(hiFefdSn=done["cancel_setl_id"], hiTrnsDate=f"{local:%Y%m%d}",
                   hiTrnsTime=f"{local:%H%M%S}")  # fmt: skip
    return out


def _book(conn: sa.Connection, app: App, app_refd_sn: str, data: dict[str, Any],
          now: datetime) -> dict[str, Any]:  # fmt: skip
    row = order_of(conn, app, data, lock=True)
    refd_type = core.text(data, "refdType", W, required=True)
    core.text(data, "ecToken", W, required=True, max_len=64)
    core.text(data, "appRefdTime", W, required=True)
    split = Split.of_json(row["split"])
    total = core.amount(data, "totlRefdAmt", W)
    if total != split.fee_sumamt:
        raise OnlineError(f"{W}.totlRefdAmt", f"须为原交易总金额 {core.yuan(split.fee_sumamt)} 元")
    cash_amt = core.amount(data, "cashRefdAmt", W)
    plan = plan_refund(
        OrdStas(row["ord_stas"]), split, int(row["cash_refunded"]), refd_type, cash_amt
    )
    hi_amt = split.fund_pay + split.psn_acct_pay if plan.hi else 0
    if plan.hi and (
        core.amount(data, "fundRefdAmt", W, required=False) != split.fund_pay
        or core.amount(data, "psnAcctRefdAmt", W, required=False) != split.psn_acct_pay
    ):
        raise OnlineError(f"{W}.fundRefdAmt", "医保退款须为原结算的基金与个人账户金额（整笔退）")
    cancel_id = ""
    if plan.hi:
        caller = core.caller_of(conn, row["fixmedins_code"])
        cmd = Cancel(
            caller, row["mdtrt_id"], row["psn_no"], row["setl_id"], f"{row['settle_msgid']}H", now
        )
        with core.refused():
            cancel_id = core.run_flow(conn, cancel_settlement(cmd)).record.setl_id
    refd_sn = f"RF{now:%Y%m%d%H%M%S}{secrets.token_hex(6).upper()}"
    values = {"app_id": app.app_id, "app_refd_sn": app_refd_sn, "pay_ord_id": row["pay_ord_id"],
              "refd_sn": refd_sn, "refd_type": refd_type, "hi_amt": hi_amt, "cash_amt": plan.cash,
              "cancel_setl_id": cancel_id, "ref_status": "PENDING", "business_day": business_day(now),
              "created_at": now}  # fmt: skip
    conn.execute(store.refund.insert().values(**values))
    o = store.order
    updated = conn.execute(
        o.update()
        .where(o.c.pay_ord_id == row["pay_ord_id"], o.c.version == row["version"])
        .values(
            ord_stas=int(plan.after),
            version=row["version"] + 1,
            updated_at=now,
            cancel_setl_id=cancel_id or row["cancel_setl_id"],
        )
    ).rowcount
    if updated != 1:
        raise OnlineError("payOrdId", "订单已被并发修改，请重试")
    conn.execute(store.event.insert().values(ref=row["pay_ord_id"], kind=f"refund-{refd_type}",
                                             state=str(int(plan.after)),
                                             detail={"refdSn": refd_sn, "cash": plan.cash, "hi": hi_amt}))  # fmt: skip
    return values
