"""Benefits follow payment (待遇随缴费): waiting periods and suspension as dated blocks. Pure.

A *block* is a period without benefits ``[begin, end)`` (``end`` None = until paid). The funds
service derives every person's blocks from assessments, payments and approvals and stores them in
the registry, where the settlement snapshot reads them.

- **Suspension for arrears (欠费暂停)**: a month is *overdue* from the day after its effective
  due date until it is paid; the effective due date of a month under approved deferral (缓缴) is
  the due date of the month after the deferral ends, so deferral never suspends. Benefits stop on
  the first day ``suspend_after`` months are overdue at once and resume on the day the last
  overdue month is paid (restoration on payment, 补缴后恢复).
- **Resident waiting period (居民待遇等待期)**: enrolling outside the collection period, or after
  a gap, gives ``fixed`` months plus ``per_gap_year`` months for each year without cover,
  counted from when the year's payment arrives (and not before January 1); the assisted
  (资助参保) and newborns are exempt. An unpaid resident year has no benefit until paid.
- **Employee waiting period (职工待遇等待期)**: after the first contribution month or a gap of at
  least ``interrupt_months`` uncovered months, ``months`` months from the (re)start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from yibao.funds.model import add_months, period_text


@dataclass(frozen=True, slots=True)
class MonthDue:
    """One assessed month of a person: when it is due (after deferral) and when it was paid."""

    period: date
    effective_due: date
    paid: date | None = None

    def overdue_from(self) -> date:
        return self.effective_due + timedelta(days=1)

    def overdue_on(self, on: date) -> bool:
        return self.overdue_from() <= on and (self.paid is None or on < self.paid)


@dataclass(frozen=True, slots=True)
class Block:
    """A period without benefits: ``reason`` waiting | arrears | unpaid; ``end`` exclusive."""

    begin: date
    end: date | None
    reason: str
    detail: str = ""


def arrears_blocks(months: Sequence[MonthDue], suspend_after: int) -> list[Block]:
    """Suspension periods: from the day ``suspend_after`` months are overdue at once until the
    day none is. ``suspend_after`` 0 never suspends."""
    if suspend_after <= 0:
        return []
    events: list[tuple[date, int, MonthDue]] = []
    for m in months:
        start = m.overdue_from()
        if m.paid is not None and m.paid <= start:
            continue  # paid by its due date: never overdue
        events.append((start, 1, m))
        if m.paid is not None:
            events.append((m.paid, -1, m))
    events.sort(key=lambda e: (e[0], e[1]))  # on one day, payments (−1) before new arrears
    blocks: list[Block] = []
    open_at: date | None = None
    overdue: list[MonthDue] = []
    i = 0
    while i < len(events):
        day = events[i][0]
        while i < len(events) and events[i][0] == day:
            _, step, m = events[i]
            if step > 0:
                overdue.append(m)
            else:
                overdue.remove(m)
            i += 1
        if open_at is None and len(overdue) >= suspend_after:
            open_at = day
            periods = sorted(o.period for o in overdue)
            detail = (
                f"欠缴{len(periods)}个月({period_text(periods[0])}至{period_text(periods[-1])})"
            )
            blocks.append(Block(day, None, "arrears", detail))
        elif open_at is not None and not overdue:
            last = blocks[-1]
            blocks[-1] = Block(last.begin, day, last.reason, last.detail)
            open_at = None
    return blocks


def is_suspended(months: Sequence[MonthDue], suspend_after: int, on: date) -> bool:
    """Direct definition, for checking :func:`arrears_blocks`: suspended on ``on``?"""
    return any(
        b.begin <= on and (b.end is None or on < b.end)
        for b in arrears_blocks(months, suspend_after)
    )


def resident_blocks(
    year: int,
    *,
    paid: date | None,
    cover_from: date,
    collection_end: date,
    gap_years: int,
    exempt: bool,
    fixed_months: int,
    per_gap_year: int,
) -> list[Block]:
    """Blocks of one resident year: unpaid until paid, then a waiting period when due.

    ``cover_from`` is when cover would start (January 1, or a later enrolment date).
    """
    start = max(date(year, 1, 1), cover_from)
    end_of_year = date(year + 1, 1, 1)
    blocks: list[Block] = []
    if paid is None:
        return [Block(start, None, "unpaid", f"{year}年度居民医保个人缴费未缴")]
    if paid > start:
        blocks.append(Block(start, min(paid, end_of_year), "unpaid", f"{year}年度缴费前"))
    late = paid > collection_end
    if exempt or not (late or gap_years > 0) or fixed_months <= 0:
        return blocks
    months = fixed_months + per_gap_year * gap_years
    begin = max(start, paid)
    why = "集中参保期外参保" if late else ""
    if gap_years:
        why = (why + "，" if why else "") + f"断保{gap_years}年"
    blocks.append(Block(begin, add_months(begin, months), "waiting", f"{why}，等待期{months}个月"))
    return blocks


def employee_waiting_blocks(
    covered: Sequence[date],
    *,
    prior_cover: bool,
    first_months: int,
    interrupt_months: int,
    after_interrupt_months: int,
) -> list[Block]:
    """Waiting periods of an employee from the months with contributions (sorted, distinct).

    ``prior_cover``: insured before the first month the platform assessed (no first-enrolment
    wait then).
    """
    blocks: list[Block] = []
    if not covered:
        return blocks
    if not prior_cover and first_months > 0:
        start = covered[0]
        blocks.append(
            Block(
                start,
                add_months(start, first_months),
                "waiting",
                f"首次参保等待期{first_months}个月",
            )
        )
    if interrupt_months <= 0 or after_interrupt_months <= 0:
        return blocks
    for before, after in pairwise(covered):
        gap = (after.year - before.year) * 12 + after.month - before.month - 1
        if gap >= interrupt_months:
            blocks.append(
                Block(
                    after,
                    add_months(after, after_interrupt_months),
                    "waiting",
                    f"中断缴费{gap}个月后再参保，等待期{after_interrupt_months}个月",
                )
            )
    return blocks


def gap_years(year: int, assessed: set[int], paid: set[int], enrolled_since: date | None) -> int:
    """Years without cover (断保年数) right before ``year``.

    A year the platform assessed counts as covered when paid; a year before the platform
    assessed anything is presumed covered if the person was enrolled by its end. Going back to
    before the first enrolment means a first enrolment, not a break: 0.
    """
    gap, z = 0, year - 1
    while True:
        if enrolled_since is None or enrolled_since > date(z, 12, 31):
            return 0
        if z not in assessed or z in paid:
            return gap
        gap, z = gap + 1, z - 1


def is_newborn(brdy: date, cover_from: date) -> bool:
    """新生儿: born within the year before cover starts (exempt from the waiting period)."""
    return (cover_from - brdy).days < 366
