"""Benefits follow payment: suspension for arrears, waiting periods (pure rules)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from yibao.funds.eligibility import (
    MonthDue,
    arrears_blocks,
    employee_waiting_blocks,
    gap_years,
    resident_blocks,
)
from yibao.funds.model import add_months, due_date


def months(first: date, n: int, paid: dict[int, date | None]) -> list[MonthDue]:
    out = []
    for i in range(n):
        p = add_months(first, i)
        d = due_date(p, 26)
        out.append(MonthDue(p, d, paid.get(i, d)))
    return out


def test_three_overdue_months_suspend_until_all_are_paid() -> None:
    ms = months(date(2026, 6, 1), 6, {2: None, 3: None, 4: date(2026, 12, 3)})
    ms[2] = MonthDue(ms[2].period, ms[2].effective_due, date(2026, 12, 3))
    ms[3] = MonthDue(ms[3].period, ms[3].effective_due, date(2026, 12, 3))
    blocks = arrears_blocks(ms, 3)
    assert len(blocks) == 1
    assert blocks[0].begin == date(2026, 10, 27)  # the day after the 3rd overdue due date
    assert blocks[0].end == date(2026, 12, 3)  # restored on payment
    assert "欠缴3个月" in blocks[0].detail


def test_unpaid_stays_open_and_two_months_do_not_suspend() -> None:
    ms = months(date(2026, 6, 1), 6, {3: None, 4: None})
    assert arrears_blocks(ms, 3) == []
    ms = months(date(2026, 6, 1), 6, {2: None, 3: None, 4: None})
    (b,) = arrears_blocks(ms, 3)
    assert b.end is None


def test_deferral_moves_the_due_date_so_it_never_suspends() -> None:
    ms = months(date(2026, 6, 1), 6, {3: None, 4: None, 5: None})
    after = due_date(date(2027, 1, 1), 26)
    deferred = [MonthDue(m.period, after, None) if i >= 3 else m for i, m in enumerate(ms)]
    blocks = arrears_blocks(deferred, 3)
    assert blocks[0].begin == after + timedelta(days=1)  # only once the deferral is over


@given(
    st.lists(
        st.tuples(st.integers(0, 400), st.one_of(st.none(), st.integers(0, 500))), max_size=14
    ),
    st.integers(1, 4),
    st.integers(0, 600),
)
def test_blocks_match_the_direct_definition(
    spec: list[tuple[int, int | None]], n: int, probe: int
) -> None:
    """Suspended on a day iff ≥ n months were overdue at once since the block began and not all
    are paid — checked against a day-by-day count."""
    base = date(2026, 1, 1)
    ms = [MonthDue(base, base + timedelta(days=d), None if p is None else base + timedelta(days=p))
          for d, p in spec]  # fmt: skip
    on = base + timedelta(days=probe)
    blocks = arrears_blocks(ms, n)
    inside = any(b.begin <= on and (b.end is None or on < b.end) for b in blocks)
    suspended = False
    day = base
    while day <= on:
        count = sum(1 for m in ms if m.overdue_on(day))
        if count >= n:
            suspended = True
        elif count == 0:
            suspended = False
        day += timedelta(days=1)
    assert inside == suspended


def test_resident_late_or_after_a_gap_waits() -> None:
    end = date(2025, 12, 31)
    kw = {"cover_from": date(2026, 1, 1), "collection_end": end, "fixed_months": 3,
          "per_gap_year": 1}  # fmt: skip
    assert resident_blocks(2026, paid=date(2025, 11, 1), gap_years=0, exempt=False, **kw) == []
    late = resident_blocks(2026, paid=date(2026, 3, 10), gap_years=0, exempt=False, **kw)
    assert [(b.reason, b.begin, b.end) for b in late] == [
        ("unpaid", date(2026, 1, 1), date(2026, 3, 10)),
        ("waiting", date(2026, 3, 10), date(2026, 6, 10)),
    ]
    gap = resident_blocks(2026, paid=date(2025, 11, 1), gap_years=2, exempt=False, **kw)
    assert gap[0].reason == "waiting" and gap[0].end == date(2026, 6, 1)  # 3 + 2 months
    assert (
        resident_blocks(2026, paid=date(2026, 3, 10), gap_years=2, exempt=True, **kw)[-1].reason
        == "unpaid"
    )
    (unpaid,) = resident_blocks(2026, paid=None, gap_years=0, exempt=False, **kw)
    assert unpaid.end is None


def test_gap_years() -> None:
    since = date(2015, 1, 1)
    assert gap_years(2026, {2025}, {2025}, since) == 0
    assert gap_years(2026, {2024, 2025}, {2023}, since) == 2
    assert gap_years(2026, {2025}, set(), since) == 1  # 2024 before the platform: presumed cover
    assert gap_years(2026, set(), set(), date(2026, 2, 1)) == 0  # a first enrolment is no break


def test_employee_waiting_after_first_enrolment_and_interruption() -> None:
    covered = [date(2026, m, 1) for m in (1, 2, 3, 8, 9)]
    blocks = employee_waiting_blocks(covered, prior_cover=False, first_months=1,
                                     interrupt_months=3, after_interrupt_months=2)  # fmt: skip
    assert [(b.begin, b.end) for b in blocks] == [
        (date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 8, 1), date(2026, 10, 1)),
    ]
    assert employee_waiting_blocks(covered, prior_cover=True, first_months=1,
                                   interrupt_months=0, after_interrupt_months=0) == []  # fmt: skip
