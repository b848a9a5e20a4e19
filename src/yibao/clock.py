"""Beijing time (北京时间): the one zone every business date and time is decided and shown in.

China keeps no daylight saving time, so this is UTC+8 all year. A settlement's business day, a
CLI's default ``--date``, a page's times and a file's dates all come from here — never from the
machine's own zone (servers run in UTC: after 16:00 UTC it is already the next day in Beijing).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

__all__ = ["CHINA", "now", "today"]

CHINA = timezone(timedelta(hours=8), "北京时间")
"""A fixed offset rather than ``ZoneInfo("Asia/Shanghai")``: the same for every date since 1991
(the zone database also holds 1986–1991 summer time and older local mean time, which no business
date here needs), cheaper to convert on the settlement path, and ``utcoffset(None)`` is defined."""


def now() -> datetime:
    """The current moment in Beijing time (timezone-aware)."""
    return datetime.now(CHINA)


def today() -> date:
    """Today's date in Beijing."""
    return now().date()
