"""Daily reconciliation (日对账) of the mobile-payment centre: orders ↔ core settlements ↔ the payment
provider's statement.

For the orders of one business day: the 医保 part the centre booked (fund + account of a settled,
not reversed order) against the net of the core's settlements under the order's msgids
(``<payOrdId>S`` and its cancellations ``…R``/``…H``); the cash the centre booked (paid − refunded)
against the net of the provider's statement rows of the order. Every difference is listed
(:func:`yibao.online.model.compare`); a balanced day has none. Join keys as the reference gives
them (funds-and-services.md §6.5): payOrdId ↔ medOrgOrd ↔ mdtrt_id/setl_id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from yibao.online import store
from yibao.online.model import Difference, OrdStas, Split, compare
from yibao.online.provider import PaymentProvider

_HI_OPEN = {OrdStas.HI_PAID, OrdStas.BOOKED, OrdStas.DONE, OrdStas.CASH_REFUNDED,
            OrdStas.CASH_PART_REFUNDED}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DayReport:
    day: date
    orders: int
    hi_total: int  # fen, net, as the centre booked it
    cash_total: int
    settlement_total: int  # fen, net, the core's
    provider_total: int  # fen, net, the provider's
    differences: list[Difference]

    @property
    def balanced(self) -> bool:
        return not self.differences


def reconcile_day(
    engine: sa.Engine, day: date, provider: PaymentProvider,
    only: Callable[[str], bool] | None = None,
) -> DayReport:  # fmt: skip
    """The day's report; ``only`` keeps the orders of some institutions (a city's view: then
    statement rows of unknown orders are not this view's to report)."""
    o = store.order
    with engine.connect() as conn:
        rows = conn.execute(sa.select(o).where(o.c.business_day == day)).mappings().all()
        if only is not None:
            rows = [r for r in rows if only(r["fixmedins_code"])]
        msgids = {f"{r['settle_msgid']}{s}": r["pay_ord_id"] for r in rows for s in ("", "R", "H")}
        setl = conn.execute(
            sa.text("SELECT msgid, fund_pay_sumamt + acct_pay FROM encounter_settlement"
                    " WHERE msgid = ANY(:m)"),
            {"m": list(msgids)},
        ).all() if msgids else []  # fmt: skip
    orders: dict[str, tuple[int, int]] = {}
    for r in rows:
        split = Split.of_json(r["split"])
        hi = split.fund_pay + split.psn_acct_pay if OrdStas(r["ord_stas"]) in _HI_OPEN else 0
        orders[r["pay_ord_id"]] = (hi, int(r["cash_paid"]) - int(r["cash_refunded"]))
    settlements: dict[str, int] = {}
    for msgid, amt in setl:
        key = msgids[msgid]
        settlements[key] = settlements.get(key, 0) + int(amt)
    cash: dict[str, int] = {}
    known = set(orders)
    lines = [ln for d in _statement_days(engine, day) for ln in provider.statement(d)]
    strangers = {ln.pay_ord_id for ln in lines if ln.pay_ord_id not in known and only is None}
    if strangers:  # another day's orders are that day's business; unknown ones are orphans
        with engine.connect() as conn:
            strangers -= set(conn.execute(
                sa.select(o.c.pay_ord_id).where(o.c.pay_ord_id.in_(strangers))).scalars())  # fmt: skip
    for line in lines:
        if line.pay_ord_id in known or line.pay_ord_id in strangers:
            sign = 1 if line.kind == "pay" else -1
            cash[line.pay_ord_id] = cash.get(line.pay_ord_id, 0) + sign * line.amount
    diffs = compare(day, orders, settlements, cash)
    return DayReport(
        day, len(rows), sum(h for h, _ in orders.values()), sum(c for _, c in orders.values()),
        sum(settlements.values()), sum(cash.values()), diffs,
    )  # fmt: skip


def _statement_days(engine: sa.Engine, day: date) -> list[date]:
    """The statement days that hold movements of ``day``'s orders (a refund may come later)."""
    t, o = store.provider_txn, store.order
    with engine.connect() as conn:
        got = conn.execute(
            sa.select(t.c.business_day).distinct().where(
                t.c.pay_ord_id.in_(sa.select(o.c.pay_ord_id).where(o.c.business_day == day))
            )
        ).scalars().all()  # fmt: skip
    return sorted(set(got) | {day})
