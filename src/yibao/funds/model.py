"""Contributions (缴费) as pure arithmetic over fen: rates, bases, account credits, late fees,
resident contributions and 资助参保. No I/O, no clock, no database.

Rates and shares are integer units of 1/10000 (as :mod:`yibao.policy` gives them); every
``amount × rate`` is rounded once, half up, to the fen (:func:`yibao.money.apply_ratio_units`),
exactly as the set-based SQL of the assessment does it (``(x * u + 5000) / 10000``).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from yibao.money import apply_ratio_units

RATIO = 10_000

# psn_type codes (人员类别, [JX]) of persons who no longer contribute (退休/离休 …)
RETIRED_PSN_TYPES = ("21", "31", "32", "33")

# Registry assistance class keys → the policy's class dimension (policy.model.ASSISTANCE_CLASSES)
POLICY_CLASS = {
    "extreme_poverty": "tekun",
    "orphan": "orphan",
    "dibao": "dibao",
    "near_dibao": "dibao_edge",
    "monitored": "monitored",
    "poverty_return": "poverty_return",
    "illness_poverty": "illness_poverty",
}


class FundsError(ValueError):
    """A refused funds operation: ``code`` stable, ``field`` named, message in Chinese."""

    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


# ------------------------------------------------------------------------------ periods (月份)


def month_start(d: date) -> date:
    return d.replace(day=1)


def add_months(d: date, n: int) -> date:
    """The same day ``n`` months later, clipped to the month's end (Jan 31 + 1 → Feb 28/29)."""
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def month_end(period: date) -> date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def parse_period(text: str) -> date:
    """``YYYY-MM`` (or a date) → the month's first day; :class:`FundsError` otherwise."""
    t = text.strip()
    try:
        if len(t) == 7:
            return date(int(t[:4]), int(t[5:7]), 1)
        return month_start(date.fromisoformat(t))
    except ValueError:
        raise FundsError(
            "PERIOD_INVALID", f"费款所属期应为YYYY-MM，收到{text!r}", "period"
        ) from None


def period_text(period: date) -> str:
    return f"{period.year:04d}-{period.month:02d}"


def months_in(first: date, last: date) -> list[date]:
    """The first days of the months from ``first`` to ``last`` inclusive."""
    out, p = [], month_start(first)
    while p <= last:
        out.append(p)
        p = add_months(p, 1)
    return out


def due_date(period: date, due_day: int) -> date:
    """The contribution of month ``period`` is due by day ``due_day`` of that month (当月缴纳)."""
    last = calendar.monthrange(period.year, period.month)[1]
    return period.replace(day=max(1, min(due_day, last)))


# --------------------------------------------------------------------- employee contributions


@dataclass(frozen=True, slots=True)
class EmployeeRules:
    """The 职工医保 contribution rules in force for one region and month (from policy)."""

    employer_rate: int
    employee_rate: int
    base_floor: int  # fen per month
    base_ceiling: int
    due_day: int
    large_amount_monthly: int = 0  # fen per employee per month (330100)
    large_amount_rate: int = 0
    flexible_rate: int | None = None  # None: employer + employee rate, all paid by the person
    civil_servant_rate: int = 0  # paid by the budget for 公务员 (320100)
    relief_rate: int | None = None  # employer rate during approved 阶段性减征
    relief_unit_types: tuple[str, ...] = ()
    account_employee_share: int = RATIO
    account_employer_share: int = 0
    account_cap_rate: int | None = None
    late_fee_daily_rate: int = 0
    deferral_max_months: int = 0
    deferral_unit_types: tuple[str, ...] = ()
    deferral_late_fee_waived: bool = True

    def relief_for(self, emp_type: str) -> int | None:
        """The reduced employer rate a unit of ``emp_type`` may get this month, if any."""
        if self.relief_rate is None or emp_type not in self.relief_unit_types:
            return None
        return self.relief_rate


@dataclass(frozen=True, slots=True)
class Contribution:
    """One person's contribution for one month (fen)."""

    base: int  # 缴费基数 after the floor/ceiling
    employer_rate: int  # the rate used (reduced during relief)
    employer: int  # 单位缴费 (for a flexible worker: the part at the employer rate)
    employee: int  # 个人缴费
    account: int  # 划入个人账户
    pooled: int  # 统筹基金 (employer + employee − account)
    large_amount: int  # 大额/重大疾病医疗补助 (330100), on top
    civil_servant: int  # 公务员医疗补助 by the budget (320100), on top
    relief: bool

    @property
    def payable(self) -> int:
        """What the payer owes for the person this month (the budget's part excluded)."""
        return self.employer + self.employee + self.large_amount


def clamp_base(declared: int, rules: EmployeeRules) -> int:
    """The declared wage clamped to the band (缴费基数上下限)."""
    return max(rules.base_floor, min(declared, rules.base_ceiling))


def account_credit(employee: int, employer: int, base: int, rules: EmployeeRules) -> int:
    """划入个人账户: shares of the employee and employer parts, limited by the cap on the base."""
    credit = apply_ratio_units(employee, rules.account_employee_share) + apply_ratio_units(
        employer, rules.account_employer_share
    )
    if rules.account_cap_rate is not None:
        credit = min(credit, apply_ratio_units(base, rules.account_cap_rate))
    return min(credit, employee + employer)


def employee_contribution(
    rules: EmployeeRules,
    declared_base: int,
    *,
    flexible: bool = False,
    relief_rate: int | None = None,
    civil_servant: bool = False,
) -> Contribution:
    """The month's contribution of one employee (or 灵活就业 person, who pays both parts)."""
    if declared_base < 0:
        raise FundsError("BASE_NEGATIVE", "缴费基数不能为负数", "wage_base")
    base = clamp_base(declared_base, rules)
    er_rate = rules.employer_rate if relief_rate is None or flexible else relief_rate
    if flexible and rules.flexible_rate is not None:
        er_rate = max(rules.flexible_rate - rules.employee_rate, 0)
    employer = apply_ratio_units(base, er_rate)
    employee = apply_ratio_units(base, rules.employee_rate)
    account = account_credit(employee, employer, base, rules)
    large = rules.large_amount_monthly + apply_ratio_units(base, rules.large_amount_rate)
    civil = apply_ratio_units(base, rules.civil_servant_rate) if civil_servant else 0
    return Contribution(
        base=base,
        employer_rate=er_rate,
        employer=employer,
        employee=employee,
        account=account,
        pooled=employer + employee - account,
        large_amount=large,
        civil_servant=civil,
        relief=relief_rate is not None and not flexible,
    )


def late_fee(principal: int, effective_due: date, paid: date, daily_rate: int) -> int:
    """滞纳金: principal × daily rate × days after the (effective) due date, half up, ≥ 0."""
    days = (paid - effective_due).days
    if days <= 0 or principal <= 0 or daily_rate <= 0:
        return 0
    return apply_ratio_units(principal * days, daily_rate)


# --------------------------------------------------------------------- resident contributions


@dataclass(frozen=True, slots=True)
class ResidentRules:
    """The 居民医保 funding rules for one region and year (from policy)."""

    personal: int  # fen per person per year
    subsidy: int  # 财政补助
    serious: int  # 大病保险筹资 moved from 390100 to 390200
    collection_start_month: int  # 集中参保期 in the year before
    collection_end_month: int
    assistance_share: Mapping[str, int]  # policy class → units of the personal part
    assistance_fixed: Mapping[str, int | None]  # policy class → fixed amount (fen) or None

    def collection_end(self, year: int) -> date:
        """Last day of the collection period for ``year`` (in the year before)."""
        return month_end(date(year - 1, self.collection_end_month, 1))

    def collection_start(self, year: int) -> date:
        return date(year - 1, self.collection_start_month, 1)


@dataclass(frozen=True, slots=True)
class ResidentContribution:
    """A resident's contribution for one year (fen)."""

    personal: int  # the personal amount for the year
    assisted: int  # paid by the 医疗救助基金 (资助参保)
    own: int  # left for the person to pay
    subsidy: int  # 财政补助 credited when the year is paid
    serious: int  # 大病保险 share moved out of 390100
    assist_class: str  # policy class that gave the most, "" if none


def assisted_amount(rules: ResidentRules, policy_class: str) -> int:
    """What the assistance fund pays for one class: a fixed amount or a share of the personal."""
    fixed = rules.assistance_fixed.get(policy_class, rules.assistance_fixed.get("default"))
    if fixed is not None:
        return min(fixed, rules.personal)
    share = rules.assistance_share.get(policy_class, rules.assistance_share.get("default", 0))
    return apply_ratio_units(rules.personal, share)


def resident_contribution(
    rules: ResidentRules, classes: tuple[str, ...] = ()
) -> ResidentContribution:
    """The year's contribution; with several assistance classes the most generous wins."""
    best_class, best = "", 0
    for key in classes:
        cls = POLICY_CLASS.get(key, key)
        amount = assisted_amount(rules, cls)
        if amount > best:
            best_class, best = cls, amount
    return ResidentContribution(
        personal=rules.personal,
        assisted=best,
        own=rules.personal - best,
        subsidy=rules.subsidy,
        serious=min(rules.serious, rules.personal + rules.subsidy),
        assist_class=best_class,
    )


def day_before(d: date) -> date:
    return d - timedelta(days=1)
