"""Funds read models (基金查询) for the console, the API and the CLI: fund position and balance
months, monthly and daily flows, unit contributions and arrears. Read-only; the caller's
connection; no person data except :func:`person_contributions` (the caller checks the role).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from yibao.db.probe import tables_exist
from yibao.funds import rules, store
from yibao.funds.model import add_months, due_date, month_start, period_text
from yibao.funds.position import (
    STATUS_LABELS,
    WINDOW_DAYS,
    SpendingLine,
    monthly_spending,
    months_from_monthly,
    status,
)
from yibao.funds.postings import FUND_NAMES, PERSONAL, POOLED
from yibao.ledger import account_balances, flow_category, flows
from yibao.registry.benefit import blocks_of


def available(conn: sa.Connection) -> bool:
    """Whether contributions are stored here (the funds migration has run)."""
    return tables_exist(conn, "funds_bill")


EPOCH = date(1900, 1, 1)


@dataclass(slots=True)
class FundLine:
    """One fund of a region on a date (基金收支与可支付月数)."""

    fund_pay_type: str
    name: str
    balance: int
    income_12m: int
    spending_12m: int
    monthly_spending: Decimal
    months: Decimal | None
    status: str
    status_label: str
    short_history: bool  # some spending line exists for less than 12 months
    income_by_code: dict[str, int] = field(default_factory=dict)
    spending_by_code: dict[str, int] = field(default_factory=dict)


def _balances(conn: sa.Connection, region: str, as_of: date) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for kind in ("fund", "personal"):
        for b in account_balances(conn, as_of, kind=kind, region=region):
            out[b.fund_pay_type] += b.balance
    return out


def fund_position(conn: sa.Connection, region: str, as_of: date) -> list[FundLine]:
    """Every fund of the region (and its personal accounts as 310200) on ``as_of``."""
    balances = _balances(conn, region, as_of)
    start = as_of - timedelta(days=WINDOW_DAYS - 1)
    income: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    spending: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    first: dict[tuple[str, str], date] = {}
    for f in flows(conn, region=region, day_from=start, day_to=as_of, grain="month"):
        cat, sign = flow_category(f.code, f.side)
        if cat == "income":
            income[f.fund_pay_type][f.code] += sign * f.amount
        elif cat == "spending":
            spending[f.fund_pay_type][f.code] += sign * f.amount
            key = (f.fund_pay_type, f.code)
            first[key] = min(first.get(key, f.first_date), f.first_date)
    t = rules.thresholds(region, as_of)
    out = []
    for fpt in sorted(set(balances) | set(income) | set(spending), key=fund_order):
        lines = [
            SpendingLine(amount, first[(fpt, code)])
            for code, amount in spending[fpt].items()
            if amount > 0 and (fpt, code) in first
        ]
        monthly = monthly_spending(lines, as_of)
        months = months_from_monthly(balances.get(fpt, 0), monthly)
        st = status(months, t)
        out.append(
            FundLine(
                fund_pay_type=fpt,
                name=FUND_NAMES.get(fpt, fpt),
                balance=balances.get(fpt, 0),
                income_12m=sum(income[fpt].values()),
                spending_12m=sum(spending[fpt].values()),
                monthly_spending=monthly.quantize(Decimal(1)),
                months=months,
                status=st,
                status_label=STATUS_LABELS[st],
                short_history=any((as_of - x.first_date).days + 1 < WINDOW_DAYS for x in lines),
                income_by_code=dict(income[fpt]),
                spending_by_code=dict(spending[fpt]),
            )
        )
    return out


def fund_order(fpt: str) -> tuple[int, str]:
    order = [POOLED, PERSONAL, "330100", "320100", "390100", "390200", "610100"]
    return (order.index(fpt) if fpt in order else len(order), fpt)


def pooled_months(conn: sa.Connection, region: str, as_of: date) -> Decimal | None:
    """可支付月数 of the pooled fund (统筹基金 310100) — what relief and deferral rules look at."""
    return next(
        (x.months for x in fund_position(conn, region, as_of) if x.fund_pay_type == POOLED), None
    )


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One fund in one period: income, spending, opening carry-over and the closing balance."""

    fund_pay_type: str
    period: date
    income: int
    spending: int
    opening: int
    closing: int


def fund_series(
    conn: sa.Connection, region: str, day_from: date, day_to: date, grain: str = "month"
) -> list[SeriesPoint]:
    """Income, spending and closing balance per fund and month (or day) in the range.

    ``closing`` is cumulative from the first posting, so it equals the ledger balance at the end of
    each period: income − spending + opening = closing − previous closing.
    """
    acc: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for f in flows(conn, region=region, day_from=EPOCH, day_to=day_to, grain=grain):
        cat, sign = flow_category(f.code, f.side)
        idx = {"income": 0, "spending": 1, "opening": 2}[cat]
        acc[(f.fund_pay_type, f.period)][idx] += sign * f.amount
    out: list[SeriesPoint] = []
    running: dict[str, int] = defaultdict(int)
    for (fpt, period), (inc, spend, opening) in sorted(acc.items()):
        running[fpt] += inc - spend + opening
        if period >= (month_start(day_from) if grain == "month" else day_from):
            out.append(SeriesPoint(fpt, period, inc, spend, opening, running[fpt]))
    return out


# ------------------------------------------------------------------------- units (单位缴费)


@dataclass(slots=True)
class UnitSummary:
    """One unit's contributions: assessed, paid, arrears (fen) and its approvals."""

    emp_no: str
    emp_name: str
    emp_type: str
    region: str
    employees: int
    assessed: int = 0
    paid: int = 0
    late_fees: int = 0
    arrears: int = 0  # overdue and not under deferral
    deferred: int = 0  # unpaid under an approved deferral
    not_due: int = 0  # unpaid, due date not passed
    last_period: str = ""
    relief_months: int = 0
    approvals: list[store.Approval] = field(default_factory=list)


def _effective_due(b: store.BillRow, deferrals: list[store.Approval]) -> tuple[date, bool]:
    for a in deferrals:
        if a.period_from <= b.period <= a.period_to:
            after = add_months(a.period_to, 1)
            return max(
                b.due_date, due_date(after, rules.employee_rules(b.region, after).due_day)
            ), True
    return b.due_date, False


def units(
    conn: sa.Connection, regions: list[str] | None, as_of: date, year_from: date
) -> list[UnitSummary]:
    """Units in ``regions`` (None = all) with their bills since ``year_from``."""
    rows = conn.execute(
        sa.text(
            "SELECT u.emp_no, u.emp_name, u.emp_type, u.admdvs,"
            " (SELECT COUNT(*) FROM employment e WHERE e.emp_no = u.emp_no"
            "   AND e.begin_date <= :d AND (e.end_date IS NULL OR e.end_date >= :d)) AS n"
            " FROM unit u WHERE (CAST(:r AS text[]) IS NULL OR u.admdvs = ANY(:r))"
            " ORDER BY u.admdvs, u.emp_no"
        ),
        {"r": regions, "d": as_of},
    ).all()
    out = {
        r.emp_no: UnitSummary(r.emp_no, r.emp_name, r.emp_type, r.admdvs, int(r.n)) for r in rows
    }
    if not out:
        return []
    approvals = store.approvals(conn, emp_nos=list(out))
    by_unit: dict[str, list[store.Approval]] = defaultdict(list)
    for a in approvals:
        by_unit[a.emp_no].append(a)
        out[a.emp_no].approvals.append(a)
    bills = store.bills(
        conn,
        "b.payer_kind = 'unit' AND b.payer_id = ANY(%(u)s) AND b.period >= %(f)s",
        {"u": list(out), "f": year_from},
    )
    for b in bills:
        u = out[b.payer_id]
        u.assessed += b.amount
        u.last_period = max(u.last_period, period_text(b.period))
        if b.paid_date is not None and b.paid_date <= as_of:
            u.paid += b.amount
            u.late_fees += b.late_fee or 0
            continue
        eff, deferred = _effective_due(b, [a for a in by_unit[b.payer_id] if a.kind == "deferral"])
        if eff >= as_of:
            if deferred:
                u.deferred += b.amount
            else:
                u.not_due += b.amount
        else:
            u.arrears += b.amount
    for a in approvals:
        if a.kind == "relief":
            out[a.emp_no].relief_months += len(_months(a.period_from, a.period_to))
    return list(out.values())


def _months(a: date, b: date) -> list[date]:
    out, p = [], a
    while p <= b:
        out.append(p)
        p = add_months(p, 1)
    return out


def unit_bills(conn: sa.Connection, emp_no: str) -> list[store.BillRow]:
    return store.bills(conn, "b.payer_kind = 'unit' AND b.payer_id = %(e)s", {"e": emp_no})


def unit_region(conn: sa.Connection, emp_no: str) -> str | None:
    return conn.execute(
        sa.text("SELECT admdvs FROM unit WHERE emp_no = :e"), {"e": emp_no}
    ).scalar()


def region_totals(
    conn: sa.Connection, regions: list[str] | None, year_from: date, as_of: date
) -> list[dict[str, object]]:
    """Aggregates per region and scheme (for the analyst): bills, person-months, assessed, paid,
    overdue (not under deferral), deferred, late fees (fen)."""
    bills = store.bills(
        conn,
        "b.period >= %(f)s AND b.period <= %(t)s"
        " AND (CAST(%(r)s AS text[]) IS NULL OR b.region = ANY(%(r)s))",
        {"f": year_from, "t": as_of, "r": regions},
    )
    deferrals: dict[str, list[store.Approval]] = defaultdict(list)
    units_ = sorted({b.payer_id for b in bills if b.payer_kind == "unit"})
    for a in store.approvals(conn, emp_nos=units_, kind="deferral"):
        deferrals[a.emp_no].append(a)
    out: dict[tuple[str, str], dict[str, object]] = {}
    for b in bills:
        t = out.setdefault(
            (b.region, b.scheme),
            {"region": b.region, "scheme": b.scheme, "bills": 0, "person_months": 0,
             "assessed": 0, "paid": 0, "overdue": 0, "deferred": 0, "late_fees": 0},
        )  # fmt: skip
        add = {"bills": 1, "person_months": b.persons, "assessed": b.amount}
        if b.paid_date is not None and b.paid_date <= as_of:
            add.update(paid=b.amount, late_fees=b.late_fee or 0)
        else:
            eff, deferred = _effective_due(b, deferrals.get(b.payer_id, []))
            if eff < as_of:
                add["overdue"] = b.amount
            elif deferred:
                add["deferred"] = b.amount
        for k, v in add.items():
            t[k] = int(str(t[k])) + v
    return [out[k] for k in sorted(out)]


def person_contributions(conn: sa.Connection, psn_no: str) -> dict[str, object]:
    """A person's assessed months and resident years with payment state, and benefit blocks."""
    months = [
        dict(r._mapping)
        for r in conn.execute(
            sa.text(
                "SELECT a.period, a.bill_no, a.base, a.employer, a.employee, a.account, a.relief,"
                " b.due_date, p.paid_date FROM funds_assessment a"
                " JOIN funds_bill b ON b.bill_no = a.bill_no"
                " LEFT JOIN funds_payment p ON p.bill_no = a.bill_no"
                " WHERE a.psn_no = :p ORDER BY a.period"
            ),
            {"p": psn_no},
        )
    ]
    years = [
        dict(r._mapping)
        for r in conn.execute(
            sa.text(
                "SELECT r.year, r.bill_no, r.personal, r.assisted, r.own, r.subsidy,"
                " r.assist_class, COALESCE(r.settled_on, p.paid_date) AS paid_date"
                " FROM funds_resident_assessment r"
                " LEFT JOIN funds_payment p ON p.bill_no = r.bill_no"
                " WHERE r.psn_no = :p ORDER BY r.year"
            ),
            {"p": psn_no},
        )
    ]
    blocks = [
        {"insutype": b.insutype, "begin": b.begin, "end": b.end, "reason": b.reason,
         "detail": b.detail}
        for b in blocks_of(conn, psn_no)
    ]  # fmt: skip
    return {"psn_no": psn_no, "months": months, "resident_years": years, "blocks": blocks}


@dataclass(slots=True)
class CollectionMonth:
    """One month of a region's bills by state on ``as_of`` (fen)."""

    period: date
    assessed: int = 0
    paid: int = 0
    overdue: int = 0
    deferred: int = 0
    not_due: int = 0
    late_fees: int = 0
    persons: int = 0


def monthly_collection(
    conn: sa.Connection, regions: list[str] | None, first: date, as_of: date
) -> list[CollectionMonth]:
    """Employee and flexible bills per month since ``first``: paid, overdue, deferred, not due."""
    bills = store.bills(
        conn,
        "b.scheme <> 'resident' AND b.period >= %(f)s AND b.period <= %(t)s"
        " AND (CAST(%(r)s AS text[]) IS NULL OR b.region = ANY(%(r)s))",
        {"f": first, "t": as_of, "r": regions},
    )
    deferrals: dict[str, list[store.Approval]] = defaultdict(list)
    units_ = sorted({b.payer_id for b in bills if b.payer_kind == "unit"})
    for a in store.approvals(conn, emp_nos=units_, kind="deferral"):
        deferrals[a.emp_no].append(a)
    out: dict[date, CollectionMonth] = {}
    for b in bills:
        m = out.setdefault(b.period, CollectionMonth(b.period))
        m.assessed += b.amount
        m.persons += b.persons
        if b.paid_date is not None and b.paid_date <= as_of:
            m.paid += b.amount
            m.late_fees += b.late_fee or 0
            continue
        eff, deferred = _effective_due(b, deferrals.get(b.payer_id, []))
        if eff >= as_of:
            if deferred:
                m.deferred += b.amount
            else:
                m.not_due += b.amount
        else:
            m.overdue += b.amount
    return [out[k] for k in sorted(out)]


def position_history(
    conn: sa.Connection, region: str, fund_pay_type: str, month_ends: list[date]
) -> list[tuple[date, int, Decimal | None]]:
    """(month end, balance, 可支付月数) of one fund at each date, for the trend chart."""
    out = []
    for d in month_ends:
        line = next(
            (x for x in fund_position(conn, region, d) if x.fund_pay_type == fund_pay_type), None
        )
        out.append((d, line.balance if line else 0, line.months if line else None))
    return out


def funded_regions(conn: sa.Connection) -> list[str]:
    """Regions with any fund account in the ledger (for the console's region choice)."""
    return list(
        conn.execute(
            sa.text("SELECT DISTINCT region FROM ledger_account WHERE kind = 'fund' ORDER BY 1")
        ).scalars()
    )
