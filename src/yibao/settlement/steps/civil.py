"""Step 8: 公务员医疗补助 (civil servants' supplement, policy-rules.md §1.2 Step 8).

For employees with the civil-servant flag, on the lines the region names: a ratio (by group) of
the policy-range share left after the pooled fund and 大病/大额 (with or without the
deductible), up to an annual cap.
"""

from __future__ import annotations

from dataclasses import dataclass

from yibao.money import apply_ratio_units, fen_str
from yibao.policy.model import ResolvedPolicy
from yibao.settlement.arith import ratio_dec
from yibao.settlement.bill import FUND_NAMES, Bill
from yibao.settlement.model import SetlDetail, TraceStep, Used
from yibao.settlement.rules import used

P = "employee.civil_servant."


@dataclass(frozen=True, slots=True)
class CivilRule:
    incl_dedc: bool
    units: int
    cap: int | None
    uses: tuple[Used, ...]


def civil_rule(policy: ResolvedPolicy, groups: tuple[str, ...], enrol_months: int) -> CivilRule:
    """The supplement's ratio for the group and cap for the enrolment months (cached)."""
    key = ("civil", groups, enrol_months)
    hit = policy.cache.get(key)
    if hit is None:
        incl: bool = policy.value(P + "base_includes_deductible")
        u: int = policy.pick(P + "ratio", groups)
        cap = policy.value(P + "cap").amount_for(
            enrol_months, policy.value("region.avg_wage_annual")
        )
        uses = (used(policy, P + "enabled", True), used(policy, P + "ratio", u),
                used(policy, P + "cap", cap), used(policy, P + "base_includes_deductible", incl))  # fmt: skip
        hit = policy.cache[key] = CivilRule(incl, u, cap, uses)
    return hit


def civil_servant(b: Bill) -> None:
    """Pay the civil servants' supplement where it applies."""
    pol = b.policy
    if (
        b.basic is None
        or b.scheme != "employee"
        or not b.person.cvlserv_flag
        or not pol.value(P + "enabled")
        or b.setting not in pol.value(P + "settings")
    ):
        return
    rule = civil_rule(pol, b.groups, b.person.enrol_months)
    remaining = b.psn_scp - b.serious_pay
    base = remaining if rule.incl_dedc else max(0, remaining - b.act_dedc)
    room = None if rule.cap is None else max(0, rule.cap - b.acc.cvlserv_pay)
    paid = apply_ratio_units(base, rule.units)
    if room is not None and paid > room:
        paid = room
    b.cvl_pay = paid
    info = f"基数 {fen_str(base)} × 比例 {ratio_dec(rule.units)}" + (
        f"; 剩余限额 {fen_str(room)}" if room is not None else ""
    )
    b.trace.append(TraceStep("civil_servant", "公务员医疗补助", paid, info, rule.uses))
    limit = room if room is not None else paid
    b.details.append(SetlDetail("320100", FUND_NAMES["320100"], base, limit, paid, info))
