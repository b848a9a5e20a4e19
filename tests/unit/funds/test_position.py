"""可支付月数 (balance months) and the bureau's thresholds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from yibao.funds.position import (
    SpendingLine,
    Thresholds,
    balance_months,
    monthly_spending,
    months_from_monthly,
    status,
)

YI = 100_000_000 * 100  # 1亿元 in fen
T = Thresholds(alert_low=3, low=6, high=9, alert_high=15)


def test_ex11_national_2019_figures_give_22_3_months() -> None:
    """NHSA 2019: 累计结存 13000多亿, 统筹基金支出 7000多亿 → "超过22个月" (policy-rules.md EX11)."""
    assert balance_months(13_000 * YI, 7_000 * YI) == Decimal("22.3")


def test_no_spending_has_no_months_and_its_own_status() -> None:
    assert balance_months(5 * YI, 0) is None
    assert status(None, T) == "no_spending"


def test_thresholds_as_configured() -> None:
    cases = {"2.9": "critical_low", "3": "low", "5.9": "low", "6": "ok", "9": "ok",
             "9.1": "high", "15": "high", "15.1": "too_high"}  # fmt: skip
    for months, expected in cases.items():
        assert status(Decimal(months), T) == expected, months


def test_a_full_year_of_spending_is_the_plain_formula() -> None:
    as_of = date(2026, 12, 31)
    lines = [SpendingLine(7_000 * YI, date(2026, 1, 1))]
    assert months_from_monthly(13_000 * YI, monthly_spending(lines, as_of)) == Decimal("22.3")


def test_a_young_line_is_averaged_over_its_days_but_at_least_a_month() -> None:
    as_of = date(2026, 12, 31)
    ten_days = monthly_spending([SpendingLine(1_000_000, date(2026, 12, 22))], as_of)
    one_day = monthly_spending([SpendingLine(1_000_000, as_of)], as_of)
    assert ten_days == one_day  # both under 30 days: counted as one month's spending
    sixty = monthly_spending([SpendingLine(1_000_000, date(2026, 11, 2))], as_of)
    assert sixty == Decimal(1_000_000) * 365 / 12 / 60


@given(
    balance=st.integers(min_value=0, max_value=10**16),
    spending=st.integers(min_value=1, max_value=10**16),
)
def test_months_times_monthly_spending_is_the_balance(balance: int, spending: int) -> None:
    months = balance_months(balance, spending)
    assert months is not None
    exact = Decimal(balance) * 12 / Decimal(spending)
    assert abs(months - exact) <= Decimal("0.05")
