"""Fund position (基金收支与可支付月数): balance months and the bureau's thresholds. Pure.

``可支付月数 = 累计结存 ÷ (近12个月基金支出 ÷ 12)`` (policy-rules.md §5.1; EX11: 13000亿 ÷
(7000亿 ÷ 12) ≈ 22.3). A spending line that exists for less than the 12 months on the platform
(e.g. settlements started last week) is averaged over the days it exists — at least 30, so a
single day is never multiplied by thirty — and a new platform's months are not inflated by a
year's denominator holding a few days of spending.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

WINDOW_DAYS = 365  # 近12个月
MIN_HISTORY_DAYS = 30  # a line younger than a month counts as one month (no extrapolating a day)
TENTH = Decimal("0.1")

STATUS_LABELS: dict[str, str] = {
    "critical_low": "结余不足",
    "low": "偏低",
    "ok": "合理",
    "high": "偏高",
    "too_high": "结余过多",
    "no_spending": "无支出",
}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The bureau's balance-month thresholds (policy ``fund.months_*``)."""

    alert_low: int  # below: 结余不足
    low: int  # below: 偏低
    high: int  # up to: 合理
    alert_high: int  # up to: 偏高; above: 结余过多


def balance_months(balance: int, spending_12m: int) -> Decimal | None:
    """累计结存可支付月数 = balance ÷ (12-month spending ÷ 12), one decimal, half up.

    None when nothing was spent (the months are unbounded).
    """
    if spending_12m <= 0:
        return None
    return (Decimal(balance) * 12 / Decimal(spending_12m)).quantize(TENTH, ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class SpendingLine:
    """Spending of one kind in the 12-month window and the first day it occurred on."""

    amount: int
    first_date: date


def monthly_spending(lines: Sequence[SpendingLine], as_of: date) -> Decimal:
    """Average monthly spending: each line over min(365, max(30, days since it began)) days,
    × 365/12."""
    total = Decimal(0)
    for line in lines:
        days = min(WINDOW_DAYS, max(MIN_HISTORY_DAYS, (as_of - line.first_date).days + 1))
        total += Decimal(line.amount) * WINDOW_DAYS / 12 / days
    return total


def months_from_monthly(balance: int, monthly: Decimal) -> Decimal | None:
    """Balance months from an average monthly spending (one decimal, half up)."""
    if monthly <= 0:
        return None
    return (Decimal(balance) / monthly).quantize(TENTH, ROUND_HALF_UP)


def status(months: Decimal | None, t: Thresholds) -> str:
    """The status key of :data:`STATUS_LABELS` for the bureau's thresholds."""
    if months is None:
        return "no_spending"
    if months < t.alert_low:
        return "critical_low"
    if months < t.low:
        return "low"
    if months <= t.high:
        return "ok"
    if months <= t.alert_high:
        return "high"
    return "too_high"
