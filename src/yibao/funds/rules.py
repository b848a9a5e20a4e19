"""The funding rules in force (筹资规则): policy parameters → :mod:`yibao.funds.model` records.

Reads the shipped policy files through :func:`yibao.policy.resolve` (cached per region and date);
a missing value is a :class:`~yibao.funds.model.FundsError` naming the region, key and date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from yibao.funds.model import EmployeeRules, FundsError, ResidentRules
from yibao.funds.position import Thresholds
from yibao.policy import PolicyError, ResolvedPolicy, resolve


def _policy(region: str, on: date) -> ResolvedPolicy:
    try:
        return resolve(region, on)
    except PolicyError as exc:
        raise FundsError("POLICY", f"政策参数：{exc}", "admdvs") from exc


def _v(p: ResolvedPolicy, key: str) -> Any:
    try:
        return p.value(key)
    except PolicyError as exc:
        raise FundsError("POLICY", f"政策参数缺失：{exc}", key) from exc


def employee_rules(region: str, period: date) -> EmployeeRules:
    """职工医保 rules in force on the first day of ``period``."""
    p = _policy(region, period)
    floor, ceiling = (
        _v(p, "contribution.employee.base_floor"),
        _v(p, "contribution.employee.base_ceiling"),
    )
    if floor > ceiling:
        raise FundsError("POLICY", f"{region}: 缴费基数下限高于上限 ({period})", "base_floor")
    return EmployeeRules(
        employer_rate=_v(p, "contribution.employee.employer_rate"),
        employee_rate=_v(p, "contribution.employee.employee_rate"),
        base_floor=floor,
        base_ceiling=ceiling,
        due_day=_v(p, "contribution.due_day"),
        large_amount_monthly=_v(p, "contribution.employee.large_amount_monthly"),
        large_amount_rate=_v(p, "contribution.employee.large_amount_rate"),
        flexible_rate=_v(p, "contribution.flexible.rate"),
        civil_servant_rate=_v(p, "contribution.civil_servant.rate"),
        relief_rate=_v(p, "contribution.relief.employer_rate"),
        relief_unit_types=tuple(_v(p, "contribution.relief.unit_types")),
        account_employee_share=_v(p, "account.employee_share"),
        account_employer_share=_v(p, "account.employer_share"),
        account_cap_rate=_v(p, "account.cap_rate"),
        late_fee_daily_rate=_v(p, "contribution.late_fee_daily_rate"),
        deferral_max_months=_v(p, "contribution.deferral.max_months"),
        deferral_unit_types=tuple(_v(p, "contribution.deferral.unit_types")),
        deferral_late_fee_waived=_v(p, "contribution.deferral.late_fee_waived"),
    )


def resident_rules(region: str, year: int) -> ResidentRules:
    """居民医保 rules for ``year`` (values in force on January 1)."""
    p = _policy(region, date(year, 1, 1))
    share = _v(p, "contribution.assistance.share")
    fixed = _v(p, "contribution.assistance.fixed")
    start = _v(p, "contribution.resident.collection_start_month")
    end = _v(p, "contribution.resident.collection_end_month")
    if not (1 <= start <= end <= 12):
        raise FundsError("POLICY", f"{region}: 集中参保期月份不合法 ({start}–{end})", "collection")
    return ResidentRules(
        personal=_v(p, "contribution.resident.personal"),
        subsidy=_v(p, "contribution.resident.subsidy"),
        serious=_v(p, "contribution.resident.serious_per_capita"),
        collection_start_month=start,
        collection_end_month=end,
        assistance_share=share if isinstance(share, dict) else {"default": share},
        assistance_fixed=fixed if isinstance(fixed, dict) else {"default": fixed},
    )


@dataclass(frozen=True, slots=True)
class EligibilityRules:
    """待遇资格 parameters in force on a date."""

    suspend_after: int
    resident_fixed: int
    resident_per_gap_year: int
    employee_first: int
    employee_interrupt: int
    employee_after_interrupt: int
    retiree_monthly_credit: int


def eligibility_rules(region: str, on: date) -> EligibilityRules:
    p = _policy(region, on)
    return EligibilityRules(
        suspend_after=_v(p, "benefit.arrears_suspend_months"),
        resident_fixed=_v(p, "benefit.resident.waiting_fixed_months"),
        resident_per_gap_year=_v(p, "benefit.resident.waiting_per_gap_year"),
        employee_first=_v(p, "benefit.employee.waiting_months_first"),
        employee_interrupt=_v(p, "benefit.employee.interrupt_months"),
        employee_after_interrupt=_v(p, "benefit.employee.waiting_months_after_interrupt"),
        retiree_monthly_credit=_v(p, "account.retiree_monthly_credit"),
    )


def thresholds(region: str, on: date) -> Thresholds:
    p = _policy(region, on)
    return Thresholds(
        alert_low=_v(p, "fund.months_alert_low"),
        low=_v(p, "fund.months_low"),
        high=_v(p, "fund.months_high"),
        alert_high=_v(p, "fund.months_alert_high"),
    )


def param_sources(region: str, on: date, keys: tuple[str, ...]) -> list[dict[str, object]]:
    """Key, label, value as written, since, and reference (or 假设 reason) for a page or trace."""
    p = _policy(region, on)
    out = []
    for key in keys:
        if p.has(key):
            u = p.use(key)
            out.append(
                {
                    "key": key,
                    "label": u.label,
                    "value": u.shown,
                    "since": u.since.isoformat(),
                    "region": u.region,
                    "source": u.source(),
                    "assumed": u.assumed,
                }
            )
    return out
