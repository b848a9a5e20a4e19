"""Step 9: 医疗救助, then 倾斜救助 (medical assistance, policy-rules.md §1.2 Step 9 and §6).

For a person holding an assistance class on the service date: the policy-range share left after
the pooled fund, 大病/大额 and 公务员补助 (with or without the deductible) counts toward the
year's base; above the class's annual deductible it is paid at the class's ratio, up to its caps
(all lines together, and per line). A second layer (倾斜救助) pays a ratio of what is still left
above a yearly threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

from yibao.money import fen_str
from yibao.policy.model import KEY_LABELS, ResolvedPolicy
from yibao.settlement.arith import pay, ratio_dec
from yibao.settlement.bill import FUND_NAMES, Bill
from yibao.settlement.model import SetlDetail, TraceStep, Used
from yibao.settlement.rules import used

P = "assistance."


@dataclass(frozen=True, slots=True)
class AssistanceRule:
    incl_dedc: bool
    deductible: int
    units: int
    cap: int | None  # all lines together
    setting_cap: int | None
    uses: tuple[Used, ...]
    tilt_units: int
    tilt_threshold: int
    tilt_cap: int | None
    tilt_uses: tuple[Used, ...]


def assistance_rule(
    policy: ResolvedPolicy, cls: str, setting: str, enrol_months: int
) -> AssistanceRule:
    """The class's rule on this line (cached)."""
    key = ("assistance", cls, setting, enrol_months)
    hit = policy.cache.get(key)
    if hit is None:
        c, s, wage = (cls,), (setting,), policy.value("region.avg_wage_annual")
        ded: int = policy.pick(P + "deductible", c, s)
        u: int = policy.pick(P + "ratio", c, s)
        cap = policy.pick(P + "cap", c).amount_for(enrol_months, wage)
        cap_set = policy.pick(P + "setting_cap", c, s).amount_for(enrol_months, wage)
        uses = (used(policy, P + "enabled", True), used(policy, P + "deductible", ded),
                used(policy, P + "ratio", u), used(policy, P + "cap", cap),
                used(policy, P + "setting_cap", cap_set))  # fmt: skip
        t_units: int = policy.pick(P + "tilt_ratio", c)
        t_thr: int = policy.pick(P + "tilt_threshold", c)
        t_cap = policy.pick(P + "tilt_cap", c).amount_for(enrol_months, wage)
        t_uses = (used(policy, P + "tilt_threshold", t_thr), used(policy, P + "tilt_ratio", t_units),
                  used(policy, P + "tilt_cap", t_cap))  # fmt: skip
        hit = policy.cache[key] = AssistanceRule(
            policy.value(P + "base_includes_deductible"), ded, u, cap, cap_set, uses, t_units,
            t_thr, t_cap, t_uses,
        )  # fmt: skip
    return hit


def assistance(b: Bill) -> None:
    """Pay 医疗救助 (and 倾斜救助) for the bill's assistance class."""
    pol, cls, acc, setting = b.policy, b.cls, b.acc, b.setting
    if (
        b.basic is None
        or cls is None
        or not pol.value(P + "enabled")
        or setting not in pol.value(P + "settings")
    ):
        return
    rule = assistance_rule(pol, cls, setting, b.person.enrol_months)
    remaining = b.psn_scp - b.serious_pay - b.cvl_pay
    base = b.maf_base = remaining if rule.incl_dedc else max(0, remaining - b.act_dedc)
    rooms = []
    if rule.cap is not None:
        rooms.append(max(0, rule.cap - sum(acc.maf_pay.values())))
    if rule.setting_cap is not None:
        rooms.append(max(0, rule.setting_cap - acc.maf_pay.get(setting, 0)))
    room = min(rooms) if rooms else None
    ytd = acc.maf_base.get(setting, 0)
    b.maf1, _ = pay(ytd, base, ((0, rule.units),), room, floor=rule.deductible)
    info = (
        f"救助类别 {KEY_LABELS.get(cls, cls)}; 本次基数 {fen_str(base)} (年度累计 {fen_str(ytd)}); "
        f"起付标准 {fen_str(rule.deductible)}; 比例 {ratio_dec(rule.units)}"
        + (f"; 剩余限额 {fen_str(room)}" if room is not None else "; 不设封顶")
    )
    b.trace.append(TraceStep("assistance", "医疗救助", b.maf1, info, rule.uses))
    if rule.tilt_units:
        info = f"{info}; {_tilt(b, rule, remaining - b.maf1)}"
    total = b.maf1 + b.maf2
    limit = room if room is not None else total
    b.details.append(SetlDetail("610100", FUND_NAMES["610100"], base, limit, total, info))


def _tilt(b: Bill, rule: AssistanceRule, base: int) -> str:
    """倾斜救助 on what is left after 医疗救助; returns its explanation."""
    acc = b.acc
    room = None if rule.tilt_cap is None else max(0, rule.tilt_cap - acc.maf2_pay)
    b.maf2_base = base
    b.maf2, _ = pay(acc.maf2_base, base, ((0, rule.tilt_units),), room, floor=rule.tilt_threshold)
    info = (
        f"救助后自付 {fen_str(base)} (年度累计 {fen_str(acc.maf2_base)}) 超过 "
        f"{fen_str(rule.tilt_threshold)} 部分 × {ratio_dec(rule.tilt_units)}"
        + (f"; 剩余限额 {fen_str(room)}" if room is not None else "")
    )
    b.trace.append(TraceStep("assistance_tilt", "倾斜救助", b.maf2, info, rule.tilt_uses))
    return info
