"""Fund projection (基金收支测算): income, spending, balance and 可支付月数 by month for N years.

Pure. Spending of the pooled fund (统筹基金, ``hifp_pay``) comes from the replayed year, per city
and scheme and calendar month, scaled from the sample to the insured population and grown by
``funds.growth.spending``; income comes from an :class:`~.income.IncomeSource`. The balance starts
at ``funds.{scheme}.opening_months`` months of the previous twelve months' spending.

可支付月数 = 累计结存 ÷ (近12个月统筹基金支出 ÷ 12) (policy-rules.md §5.1; EX11: 13000亿 ÷ (7000亿 ÷
12) = 22.3), rounded half up to one decimal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from yibao.simulation.income import IncomeSource, growth, round_half_up

SCHEME_OF_INSUTYPE = {"310": "employee", "390": "resident", "391": "resident", "380": "resident"}


def months_payable(balance: int, last_12_months_spending: int) -> Decimal:
    """累计结存可支付月数, one decimal (half up); 0 spending → 0."""
    if last_12_months_spending <= 0:
        return Decimal("0.0")
    return (Decimal(balance) * 12 / Decimal(last_12_months_spending)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


@dataclass(frozen=True)
class ProjectionRow:
    scenario: str
    admdvs: str
    scheme: str
    month: str  # YYYY-MM
    income: int  # fen
    spending: int
    balance: int
    months_payable: Decimal


def add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


def project(
    scenario: str,
    profile: Mapping[tuple[str, str], Mapping[int, int]],
    data_year: int,
    scale: Mapping[tuple[str, str], Fraction],
    income: IncomeSource,
    start: date,
    years: int,
) -> list[ProjectionRow]:
    """Rows for every (city, scheme) of ``profile`` (calendar month → simulated spending, fen)."""
    rows: list[ProjectionRow] = []
    for (admdvs, scheme), by_month in sorted(profile.items()):
        f = scale.get((admdvs, scheme), Fraction(1))
        g = income.value(admdvs, "funds.growth.spending", start)

        def spend(
            day: date, g: int = g, f: Fraction = f, by_month: Mapping[int, int] = by_month
        ) -> int:
            return round_half_up(by_month.get(day.month, 0) * f * growth(g, day.year - data_year))

        trail = [spend(add_months(start, k - 12)) for k in range(12)]
        opening = Fraction(income.value(admdvs, f"funds.{scheme}.opening_months", start), 100)
        balance = round_half_up(opening * Fraction(sum(trail), 12))
        for k in range(years * 12):
            day = add_months(start, k)
            out = spend(day)
            inc = income.monthly_income(admdvs, scheme, day)
            balance += inc - out
            trail = [*trail[1:], out]
            rows.append(
                ProjectionRow(
                    scenario,
                    admdvs,
                    scheme,
                    f"{day.year:04d}-{day.month:02d}",
                    inc,
                    out,
                    balance,
                    months_payable(balance, sum(trail)),
                )
            )
    return rows
