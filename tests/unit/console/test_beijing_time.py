"""Every moment on screen is Beijing time, through the one formatter (``china_time``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from yibao.web.render import CHINA, china_time


def test_a_utc_moment_is_shown_in_beijing_time() -> None:
    assert china_time(datetime(2026, 12, 3, 16, 30, tzinfo=UTC)) == "2026-12-04 00:30:00"
    assert china_time(datetime(2026, 12, 3, 16, 30, tzinfo=UTC), "%H:%M") == "00:30"
    assert china_time(None) == "—"
    assert CHINA.utcoffset(None) == timedelta(hours=8)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=-12 * 60, max_value=14 * 60),
)
def test_the_same_moment_reads_the_same_from_any_zone(moment: datetime, offset: int) -> None:
    zone = timezone(timedelta(minutes=offset))
    utc = moment.replace(tzinfo=UTC)
    assert china_time(utc.astimezone(zone)) == china_time(utc)
    assert china_time(utc) == (moment + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
