"""Benefit status from payment (待遇状态): re-derive persons' blocks and store them in the registry.

For each person the contribution history is loaded in a few set queries — employee months with
their bill, due date, payment and the unit's deferrals; resident years with their payment — and
:mod:`yibao.funds.eligibility` turns it into blocks, which replace the person's blocks in the
registry (:mod:`yibao.registry.benefit`) in the caller's transaction. The settlement snapshot
then refuses a service date inside a block (:class:`yibao.registry.model.NoBenefit`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from functools import lru_cache

import sqlalchemy as sa

from yibao.funds import rules
from yibao.funds.eligibility import (
    Block,
    MonthDue,
    arrears_blocks,
    employee_waiting_blocks,
    gap_years,
    is_newborn,
    resident_blocks,
)
from yibao.funds.model import add_months, due_date
from yibao.registry import benefit as registry_benefit
from yibao.registry.benefit import BlockRow

_EMPLOYEE_MONTHS = """
SELECT a.psn_no, a.period, a.region, b.payer_kind, b.payer_id, b.due_date, p.paid_date
  FROM funds_assessment a JOIN funds_bill b ON b.bill_no = a.bill_no
  LEFT JOIN funds_payment p ON p.bill_no = a.bill_no
 WHERE a.psn_no = ANY(:p)
 ORDER BY a.psn_no, a.period
"""
_DEFERRALS = """
SELECT emp_no, period_from, period_to FROM funds_approval
 WHERE kind = 'deferral' AND emp_no = ANY(:u)
"""
_RESIDENT_YEARS = """
SELECT r.psn_no, r.year, r.region, r.cover_from, r.assisted, r.own, r.settled_on,
       p.paid_date, n.brdy
  FROM funds_resident_assessment r
  LEFT JOIN funds_payment p ON p.bill_no = r.bill_no
  JOIN person n ON n.psn_no = r.psn_no
 WHERE r.psn_no = ANY(:p)
 ORDER BY r.psn_no, r.year
"""
_ENROLLED = """
SELECT psn_no, insutype, psn_insu_date FROM enrolment
 WHERE psn_no = ANY(:p) AND insutype IN ('310', '390')
"""


@lru_cache(maxsize=4096)
def _due_day(region: str, period: date) -> int:
    return rules.employee_rules(region, period).due_day


def _effective_due(
    region: str, period: date, due: date, deferrals: list[tuple[date, date]]
) -> date:
    """The due date, or — under an approved deferral — the due date after the deferral ends."""
    for first, last in deferrals:
        if first <= period <= last:
            after = add_months(last, 1)
            return max(due, due_date(after, _due_day(region, after)))
    return due


def _employee_blocks(
    conn: sa.Connection, persons: Sequence[str], enrolled: dict[tuple[str, str], date]
) -> dict[str, list[Block]]:
    rows = conn.execute(sa.text(_EMPLOYEE_MONTHS), {"p": list(persons)}).all()
    units = sorted({r.payer_id for r in rows if r.payer_kind == "unit"})
    deferrals: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for d in conn.execute(sa.text(_DEFERRALS), {"u": units}):
        deferrals[d.emp_no].append((d.period_from, d.period_to))
    months: dict[str, list[MonthDue]] = defaultdict(list)
    region_of: dict[str, str] = {}
    for r in rows:
        unit_deferrals = deferrals.get(r.payer_id, []) if r.payer_kind == "unit" else []
        due = _effective_due(r.region, r.period, r.due_date, unit_deferrals)
        months[r.psn_no].append(MonthDue(r.period, due, r.paid_date))
        region_of[r.psn_no] = r.region
    out: dict[str, list[Block]] = {}
    for psn_no, ms in months.items():
        last = ms[-1].period
        e = rules.eligibility_rules(region_of[psn_no], last)
        blocks = arrears_blocks(ms, e.suspend_after)
        start = enrolled.get((psn_no, "310"))
        blocks += employee_waiting_blocks(
            sorted({m.period for m in ms}),
            prior_cover=start is not None and start < ms[0].period,
            first_months=e.employee_first,
            interrupt_months=e.employee_interrupt,
            after_interrupt_months=e.employee_after_interrupt,
        )
        out[psn_no] = blocks
    return out


def _resident_blocks(
    conn: sa.Connection, persons: Sequence[str], enrolled: dict[tuple[str, str], date]
) -> dict[str, list[Block]]:
    rows = conn.execute(sa.text(_RESIDENT_YEARS), {"p": list(persons)}).all()
    years: dict[str, list[sa.Row[tuple[object, ...]]]] = defaultdict(list)
    for r in rows:
        years[r.psn_no].append(r)
    out: dict[str, list[Block]] = {}
    for psn_no, ys in years.items():
        paid_years = {int(y.year) for y in ys if (y.settled_on or y.paid_date) is not None}
        assessed = {int(y.year) for y in ys}
        blocks: list[Block] = []
        for y in ys:
            year = int(y.year)
            rr = rules.resident_rules(y.region, year)
            e = rules.eligibility_rules(y.region, date(year, 1, 1))
            blocks += resident_blocks(
                year,
                paid=y.settled_on or y.paid_date,
                cover_from=y.cover_from,
                collection_end=rr.collection_end(year),
                gap_years=gap_years(year, assessed, paid_years, enrolled.get((psn_no, "390"))),
                exempt=int(y.assisted) > 0 or is_newborn(y.brdy, y.cover_from),
                fixed_months=e.resident_fixed,
                per_gap_year=e.resident_per_gap_year,
            )
        out[psn_no] = blocks
    return out


def refresh(conn: sa.Connection, psn_nos: Sequence[str]) -> int:
    """Re-derive and store the blocks of ``psn_nos`` (310 and 390); return how many persons."""
    persons = sorted(set(psn_nos))
    if not persons:
        return 0
    enrolled = {
        (str(r.psn_no), str(r.insutype)): r.psn_insu_date
        for r in conn.execute(sa.text(_ENROLLED), {"p": persons})
    }
    for insutype, derived in (
        ("310", _employee_blocks(conn, persons, enrolled)),
        ("390", _resident_blocks(conn, persons, enrolled)),
    ):
        rows = [
            BlockRow(psn_no, insutype, b.begin, b.end, b.reason, b.detail)
            for psn_no, blocks in derived.items()
            for b in _merge(blocks)
        ]
        registry_benefit.replace_blocks(conn, persons, insutype, rows)
    return len(persons)


def _merge(blocks: list[Block]) -> list[Block]:
    """Blocks with distinct (begin, reason): the registry's key."""
    seen: dict[tuple[date, str], Block] = {}
    for b in blocks:
        key = (b.begin, b.reason)
        old = seen.get(key)
        if old is None or (old.end is not None and (b.end is None or b.end > old.end)):
            seen[key] = b
    return sorted(seen.values(), key=lambda b: (b.begin, b.reason))


def refresh_unit(conn: sa.Connection, emp_no: str) -> int:
    """Refresh every person ever assessed on the unit's bills."""
    persons = conn.execute(
        sa.text(
            "SELECT DISTINCT a.psn_no FROM funds_assessment a JOIN funds_bill b"
            " ON b.bill_no = a.bill_no WHERE b.payer_kind = 'unit' AND b.payer_id = :e"
        ),
        {"e": emp_no},
    ).scalars()
    return refresh(conn, list(persons))


def refresh_region(conn: sa.Connection, region: str) -> int:
    persons = conn.execute(
        sa.text(
            "SELECT psn_no FROM funds_assessment WHERE region = :r"
            " UNION SELECT psn_no FROM funds_resident_assessment WHERE region = :r"
        ),
        {"r": region},
    ).scalars()
    return refresh(conn, list(persons))
