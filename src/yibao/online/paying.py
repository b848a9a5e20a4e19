"""Paying an order (支付下单 6202, or the patient in the cashier): cash first, then 医保, exactly once.

1. The payment authorisation (``payAuthNo``, issued to the insured in the channel app by
   :func:`authorise`, bound to the person and the order, single use) is consumed and the order
   moves 1 → 2 结算中 (one transaction).
2. The cash part (``ownPayAmt``) is taken by the payment provider, idempotent on the order
   (``<payOrdId>:pay``); the order moves 2 → 3 自费完成.
3. The insurance part is settled by checkout's own use case
   (:func:`yibao.checkout.settle_visit.settle_visit`) under the order's one settlement msgid
   (``<payOrdId>S``, unique), and the order moves 3 → 4 **in the same write statement**: a
   settlement without its order (or an order without its settlement) cannot be. If the result
   is not back within ``settle_timeout`` the answer says 结算中 and the order is marked timed out.
4. :func:`reverse_unknown` (run by the background sweeper) reverses every order whose 医保
   outcome was unknown: a settlement that was made after all is cancelled by checkout's cancel use
   case (a mirror settlement and ledger chain); none made → the order is closed (a late settlement
   then conflicts on the order's version and is not applied); the cash is refunded.
5. The institution is told (6302) and its answer moves the order 4 → 5 → 6.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog

from yibao.checkout.bills import Settled
from yibao.checkout.cancel import Cancel, cancel_settlement
from yibao.checkout.settle_visit import SettleVisit, VisitBill, settle_visit
from yibao.db.flow import Flow, Write
from yibao.encounter.records import business_day
from yibao.online import core, store
from yibao.online.apps import App
from yibao.online.model import IN_FLIGHT, OnlineError, OrdStas, Split, require_state
from yibao.online.provider import PaymentProvider, ProviderError

log = structlog.get_logger(__name__)
PAY_AUTH_TTL = timedelta(minutes=30)
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="online-settle")


@dataclass(frozen=True, slots=True)
class Timing:
    """How long to wait for the core's settlement, and when an unknown outcome is reversed."""

    settle_timeout: float = 10.0
    reversal_after: timedelta = timedelta(seconds=30)


# ---- 1. authorisation in the channel ----------------------------------------------------------------


def authorise(
    engine: sa.Engine, chnl_id: str, chnl_user_id: str, psn_no: str, pay_ord_id: str, now: datetime
) -> dict[str, Any]:
    """The insured authorises online payment of ``pay_ord_id`` in the channel app: a payAuthNo."""
    with engine.begin() as conn:
        row = store.get_order(conn, pay_ord_id)
        if row is None or row["psn_no"] != psn_no:
            raise OnlineError("payOrdId", "订单不存在或不属于本人")
        require_state(OrdStas(row["ord_stas"]), {OrdStas.PRICED}, "授权支付")
        pay_auth_no = f"AUTH{now:%Y%m%d%H%M%S}{secrets.token_hex(10).upper()}"
        conn.execute(store.pay_auth.insert().values(
            pay_auth_no=pay_auth_no, chnl_id=chnl_id, chnl_user_id=chnl_user_id, psn_no=psn_no,
            pay_ord_id=pay_ord_id, issued_at=now, expires_at=now + PAY_AUTH_TTL))  # fmt: skip
        conn.execute(store.event.insert().values(ref=pay_ord_id, kind="authorise", state="1",
                                                 detail={"chnlId": chnl_id}))  # fmt: skip
    return {"payAuthNo": pay_auth_no, "expiresAt": (now + PAY_AUTH_TTL).isoformat(),
            "split": Split.of_json(row["split"]).as_json()}  # fmt: skip


def _consume(conn: sa.Connection, row: dict[str, Any], data: dict[str, Any], now: datetime) -> str:
    """The payer: a live, unused payAuthNo of this order, or the e-voucher triple (a live ecToken
    of the person issued to this institution as ``ecAuthCode``)."""
    auth_no = core.text(data, "payAuthNo", "data")
    if not auth_no:
        for name in ("ecAuthCode", "ecChnlAppId", "ecChnlUserId"):
            core.text(data, name, "data", required=True, max_len=64)
        from yibao.voucher.store import has_presence  # the ecToken's person and institution

        if not has_presence(conn, row["psn_no"], row["fixmedins_code"], now):
            raise OnlineError("data.ecAuthCode", "电子凭证授权无效或已过期")
        return f"ec:{data['ecChnlUserId']}"
    a = store.pay_auth
    got = (
        conn.execute(sa.select(a).where(a.c.pay_auth_no == auth_no).with_for_update())
        .mappings()
        .first()
    )
    if got is None or got["pay_ord_id"] != row["pay_ord_id"] or got["psn_no"] != row["psn_no"]:
        raise OnlineError("data.payAuthNo", "支付授权码无效（须为参保人对本订单的授权）")
    if got["used_at"] is not None:
        raise OnlineError("data.payAuthNo", "支付授权码已使用")
    if now >= got["expires_at"]:
        raise OnlineError("data.payAuthNo", "支付授权码已过期，请重新授权")
    conn.execute(a.update().where(a.c.pay_auth_no == auth_no).values(used_at=now))
    return f"{got['chnl_id']}:{got['chnl_user_id']}"


# ---- 2.–3. paying ------------------------------------------------------------------------------------


def pay(
    engine: sa.Engine,
    app: App,
    data: dict[str, Any],
    now: datetime,
    provider: PaymentProvider,
    timing: Timing,
) -> dict[str, Any]:
    """6202 支付下单 (and the cashier's pay): see the module docstring. The answer's ``ordStas``
    is where the order stands when the answer is given."""
    from yibao.online.orders import order_of

    org_biz_ser = core.text(data, "orgBizSer", "data", required=True)
    with engine.begin() as conn:
        row = order_of(conn, app, data, lock=True)
        core.text(data, "payToken", "data", required=True)
        mdtrt_id = core.text(data, "mdtrtId", "data", required=True, max_len=40)
        if mdtrt_id != row["mdtrt_id"]:
            raise OnlineError("data.mdtrtId", "与订单的就诊ID不一致")
        require_state(OrdStas(row["ord_stas"]), {OrdStas.PRICED}, "下单支付")
        payer = _consume(conn, row, data, now)
        _move(conn, row, OrdStas.SETTLING, "order", pay_auth_no=data.get("payAuthNo") or "",
              org_biz_ser=org_biz_ser)  # fmt: skip
    return _carry_on(engine, row["pay_ord_id"], payer, now, provider, timing)


def pay_in_cashier(
    engine: sa.Engine, psn_no: str, pay_ord_id: str, pay_auth_no: str, now: datetime,
    provider: PaymentProvider, timing: Timing,
) -> dict[str, Any]:  # fmt: skip
    """收银台模式: the insured pays in the channel's cashier with the payAuthNo just issued."""
    with engine.begin() as conn:
        row = store.get_order(conn, pay_ord_id, lock=True)
        if row is None or row["psn_no"] != psn_no:
            raise OnlineError("payOrdId", "订单不存在或不属于本人")
        require_state(OrdStas(row["ord_stas"]), {OrdStas.PRICED}, "支付")
        payer = _consume(conn, row, {"payAuthNo": pay_auth_no}, now)
        _move(conn, row, OrdStas.SETTLING, "order", pay_auth_no=pay_auth_no,
              org_biz_ser=f"cashier:{pay_auth_no}")  # fmt: skip
    return _carry_on(engine, pay_ord_id, payer, now, provider, timing)


def _move(conn: sa.Connection, row: dict[str, Any], to: OrdStas, kind: str, **values: Any) -> None:
    w = store.order_transition(row["pay_ord_id"], row["version"], ord_stas=int(to), **values)
    if conn.exec_driver_sql(w.sql, dict(w.params)).rowcount != 1:
        raise OnlineError("payOrdId", "订单已被并发修改，请查询订单状态")
    conn.execute(store.event.insert().values(ref=row["pay_ord_id"], kind=kind, state=str(int(to))))
    row.update(values, ord_stas=int(to), version=row["version"] + 1)


def _carry_on(
    engine: sa.Engine, pay_ord_id: str, payer: str, now: datetime,
    provider: PaymentProvider, timing: Timing,
) -> dict[str, Any]:  # fmt: skip
    with engine.connect() as conn:
        row = store.get_order(conn, pay_ord_id)
    assert row is not None
    split = Split.of_json(row["split"])
    if split.own_pay_amt:
        try:
            provider.charge(
                f"{pay_ord_id}:pay", pay_ord_id, split.own_pay_amt, payer, business_day(now)
            )
        except ProviderError as exc:
            with engine.begin() as conn:
                _move(conn, row, OrdStas.FAILED, "cash-failed")
            raise OnlineError("ownPayAmt", f"自费部分支付失败：{exc}", kept=True) from exc
    with engine.begin() as conn:
        _move(conn, row, OrdStas.CASH_PAID, "cash", cash_paid=split.own_pay_amt)
    future = _POOL.submit(_settle_insurance, engine, pay_ord_id, now)
    try:
        future.result(timeout=timing.settle_timeout)
    except FutureTimeout:
        with engine.begin() as conn:  # an event row: nothing the in-flight statement holds
            conn.execute(store.event.insert().values(ref=pay_ord_id, kind="timeout", state="3"))
        log.warning("online_settle_timeout", pay_ord_id=pay_ord_id)
    except OnlineError as exc:
        _fail(engine, pay_ord_id, provider, now, exc.rule)
        exc.kept = True  # the order failed for good (15): a retry gets this answer
        raise
    with engine.connect() as conn:
        got = store.get_order(conn, pay_ord_id)
    assert got is not None
    return got


def _settle_flow(row: dict[str, Any], caller: Any, now: datetime) -> Flow[Settled]:
    """checkout's 2207 use case under the order's msgid, and the order 3 → 4, in one write."""
    bill = VisitBill(row["mdtrt_id"], row["psn_no"], row["med_type"], row["insutype"],
                     row["acct_used_flag"], row["psn_setlway"], row["chrg_bchno"], "")  # fmt: skip
    cmd = SettleVisit(caller, bill, {}, "01", row["settle_msgid"], now)
    settled = yield from settle_visit(cmd)
    agreed = Split.of_json(row["split"])
    if Split.of_setlinfo(dict(settled.record.setlinfo)) != agreed:
        raise OnlineError("split", "医保结算金额与预结算不一致（参保人确认的金额已变化），未结算")
    yield Write(
        store.order_transition(
            row["pay_ord_id"],
            row["version"],
            ord_stas=int(OrdStas.HI_PAID),
            setl_id=settled.record.setl_id,
            traced_at=now,
        ),
        store.add_event(
            row["pay_ord_id"], "insurance", str(int(OrdStas.HI_PAID)), setlId=settled.record.setl_id
        ),
    )
    return settled


def _settle_insurance(engine: sa.Engine, pay_ord_id: str, now: datetime) -> str:
    with engine.begin() as conn:
        row = store.get_order(conn, pay_ord_id)
        assert row is not None
        if OrdStas(row["ord_stas"]) != OrdStas.CASH_PAID:
            raise OnlineError("payOrdId", "订单已不在待医保结算状态")
        caller = core.caller_of(conn, row["fixmedins_code"])
        with core.refused():
            settled = core.run_flow(conn, _settle_flow(row, caller, now))
    return settled.record.setl_id


def _fail(
    engine: sa.Engine, pay_ord_id: str, provider: PaymentProvider, now: datetime, why: str
) -> None:
    """医保 refused for sure (nothing settled): refund the cash, order 15 (16 if that fails)."""
    with engine.begin() as conn:
        row = store.get_order(conn, pay_ord_id, lock=True)
        assert row is not None
        if OrdStas(row["ord_stas"]) not in IN_FLIGHT:
            return
        _move(conn, row, OrdStas.FAILED, "insurance-failed")
    _refund_cash(engine, row, provider, now, f"{pay_ord_id}:rev")


def _refund_cash(
    engine: sa.Engine, row: dict[str, Any], provider: PaymentProvider, now: datetime, key: str
) -> None:
    amt = int(row["cash_paid"]) - int(row["cash_refunded"])
    if amt <= 0:
        return
    try:
        provider.refund(key, row["pay_ord_id"], amt, business_day(now))
    except ProviderError as exc:
        log.error("online_cash_reversal_failed", pay_ord_id=row["pay_ord_id"], why=str(exc))
        with engine.begin() as conn:
            fresh = store.get_order(conn, row["pay_ord_id"], lock=True)
            assert fresh is not None
            _move(conn, fresh, OrdStas.CASH_REVERSAL_FAILED, "cash-reversal-failed")
        return
    with engine.begin() as conn:
        conn.execute(store.order.update().where(store.order.c.pay_ord_id == row["pay_ord_id"])
                     .values(cash_refunded=store.order.c.cash_refunded + amt,
                             version=store.order.c.version + 1))  # fmt: skip
        conn.execute(store.event.insert().values(ref=row["pay_ord_id"], kind="cash-refund",
                                                 detail={"amount": amt, "key": key}))  # fmt: skip


# ---- 4. automatic reversal -----------------------------------------------------------------------------


def unknown_orders(conn: sa.Connection, now: datetime, timing: Timing) -> list[str]:
    """Orders whose 医保 outcome is unknown: timed out (and not yet reversed) ``reversal_after``
    ago, or stuck in flight longer than the wait plus that (the centre died mid-way)."""
    o, e = store.order, store.event
    after = timing.reversal_after
    stuck = now - after - timedelta(seconds=timing.settle_timeout)
    timed_out = sa.select(e.c.ref).where(e.c.kind == "timeout", e.c.at < now - after)
    stmt = sa.select(o.c.pay_ord_id).where(
        sa.or_(
            sa.and_(o.c.pay_ord_id.in_(timed_out), o.c.timed_out_at.is_(None)),
            sa.and_(o.c.ord_stas.in_([int(s) for s in IN_FLIGHT]), o.c.updated_at < stuck),
        )
    )
    return list(conn.execute(stmt).scalars())


def reverse_one(
    engine: sa.Engine, pay_ord_id: str, provider: PaymentProvider, now: datetime
) -> int:
    """Reverse one order with an unknown outcome; the state it ends in."""
    with engine.begin() as conn:
        row = store.get_order(conn, pay_ord_id, lock=True)  # waits for an in-flight settlement
        assert row is not None
        stas = OrdStas(row["ord_stas"])
        if stas not in IN_FLIGHT and stas != OrdStas.HI_PAID:
            conn.execute(store.order.update().where(store.order.c.pay_ord_id == pay_ord_id)
                         .values(timed_out_at=now))  # fmt: skip
            return int(stas)
        setl_id = row["setl_id"] or _settled_for(conn, row["settle_msgid"])
        if setl_id:
            caller = core.caller_of(conn, row["fixmedins_code"])
            cmd = Cancel(
                caller, row["mdtrt_id"], row["psn_no"], setl_id, f"{row['settle_msgid']}R", now
            )
            with core.refused():
                done = core.run_flow(conn, cancel_settlement(cmd))
            _move(conn, row, OrdStas.HI_REVERSED, "reversal", timed_out_at=now,
                  cancel_setl_id=done.record.setl_id, setl_id=setl_id)  # fmt: skip
        else:
            _move(conn, row, OrdStas.FAILED, "reversal", timed_out_at=now)
    log.warning("online_reversed", pay_ord_id=pay_ord_id, settled=bool(setl_id))
    _refund_cash(engine, row, provider, now, f"{pay_ord_id}:rev")
    with engine.connect() as conn:
        final = store.get_order(conn, pay_ord_id)
    assert final is not None
    return int(final["ord_stas"])


def _settled_for(conn: sa.Connection, msgid: str) -> str:
    got = conn.execute(
        sa.text("SELECT setl_id FROM encounter_settlement WHERE msgid = :m AND kind = 'settle'"),
        {"m": msgid},
    ).scalar()
    return str(got or "")


def reverse_unknown(engine: sa.Engine, provider: PaymentProvider, timing: Timing,
                    now: datetime | None = None) -> list[tuple[str, int]]:  # fmt: skip
    """The sweeper: reverse every order whose 医保 outcome stayed unknown (see the module doc)."""
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        ids = unknown_orders(conn, now, timing)
    done = []
    for pay_ord_id in ids:
        try:
            done.append((pay_ord_id, reverse_one(engine, pay_ord_id, provider, now)))
        except OnlineError as exc:
            log.error("online_reversal_failed", pay_ord_id=pay_ord_id, why=exc.rule)
    return done
