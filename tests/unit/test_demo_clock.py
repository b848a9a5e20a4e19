"""The demo seeder's business clock: a past day's opening hours, or the real clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from yibao.demo.settlements import CHINA, CLOSING, OPENING, DemoClock


def test_past_day_starts_at_opening_and_never_passes_closing() -> None:
    clock = DemoClock(speed=1e30)  # at closing time at once, and there it stays
    day = date(2026, 11, 19)
    clock.past_day(day)
    at = clock().astimezone(CHINA)
    assert at.date() == day
    assert at.time() == CLOSING
    assert clock() == clock()
    assert clock().tzinfo is not None


def test_past_day_runs_forward_from_opening() -> None:
    clock = DemoClock()
    day = date(2026, 11, 20)
    clock.past_day(day)
    first, second = clock(), clock()
    opening = datetime.combine(day, OPENING, CHINA)
    assert opening <= first <= second <= datetime.combine(day, CLOSING, CHINA)


def test_real_clock_is_now() -> None:
    clock = DemoClock()
    clock.past_day(date(2026, 1, 5))
    clock.real()
    assert clock.is_real
    assert abs(clock() - datetime.now(UTC)) < timedelta(minutes=1)
