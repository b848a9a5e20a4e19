"""Open the bill and find its benefit line (待遇类型, policy-rules.md §1.1-§1.2): the scheme
from ``insutype``, the setting from ``med_type``, the hospital level, local or cross-region, the
person's group and assistance class — and the pooled fund's rule for all of these."""

from __future__ import annotations

from datetime import date

from yibao.policy.model import KEY_LABELS, ResolvedPolicy
from yibao.settlement.bill import Bill
from yibao.settlement.model import (
    EMPLOYEE_INSUTYPES,
    FILINGS,
    RESIDENT_INSUTYPES,
    Accumulators,
    Encounter,
    Person,
    SettlementError,
    TraceStep,
    Used,
)
from yibao.settlement.rules import basic_rule, group_chain

LEVEL_OF_HOSP_LV = {
    **dict.fromkeys(("1", "2", "3", "4", "12", "03"), "3"),
    **dict.fromkeys(("5", "6", "7", "13", "02"), "2"),
    **dict.fromkeys(("8", "9", "10", "14", "01"), "1"),
    **dict.fromkeys(("11", "00"), "0"),
}
# Priority when a person holds several assistance classes: the most protected first.
CLASS_PRIORITY = (
    "tekun",
    "orphan",
    "dibao",
    "poverty_return",
    "dibao_edge",
    "monitored",
    "illness_poverty",
)


def open_bill(person: Person, enc: Encounter, acc: Accumulators, policy: ResolvedPolicy) -> Bill:
    """Check the inputs and find the benefit line; :class:`SettlementError` names the field."""
    if policy.admdvs != person.insuplc_admdvs:
        raise SettlementError(
            f"insuplc_admdvs: 参保地为 {person.insuplc_admdvs}, 但传入的是 {policy.admdvs} 的政策"
        )
    if acc.year != enc.begntime.year:
        raise SettlementError(
            f"accumulators.year: {acc.year} 不是 {enc.begntime.isoformat()} 所属的医保年度"
        )
    scheme = _scheme(person)
    setting = _setting(policy, enc.med_type)
    level = _level(enc)
    if enc.acct_used_flag not in ("0", "1", "2"):
        raise SettlementError(f"acct_used_flag: {enc.acct_used_flag!r} 须为 0、1 或 2")
    scope = _scope(person, enc)
    groups = group_chain(person, scheme)
    basic = None
    if setting != "account_only":
        basic = basic_rule(
            policy, scheme, setting, groups, level, scope, enc.filing, person.enrol_months,
            enc.dise_codg if setting == "chronic" else None,
        )  # fmt: skip
    cls = assistance_class(person, enc.begntime)
    return Bill(person, enc, acc, policy, scheme, setting, level, scope, groups, cls, basic)


def _scheme(person: Person) -> str:
    if person.insutype in EMPLOYEE_INSUTYPES:
        return "employee"
    if person.insutype in RESIDENT_INSUTYPES:
        return "resident"
    raise SettlementError(
        f"insutype: {person.insutype!r} 不是本引擎结算的险种 (310 职工 / 390 居民)"
    )


def _setting(policy: ResolvedPolicy, med_type: str) -> str:
    setting_map: dict[str, str] = policy.value("med_type.setting")
    setting = setting_map.get(med_type)
    if setting is None:
        raise SettlementError(
            f"med_type: {med_type!r} 在 {policy.admdvs} 没有对应的待遇类型 (med_type.setting)"
        )
    return setting


def _level(enc: Encounter) -> str:
    level = enc.level if enc.level is not None else LEVEL_OF_HOSP_LV.get(enc.hosp_lv)
    if level is not None and len(level) == 2:  # dedc_hosp_lv style "01"/"02"/"03"
        level = level[1]
    if level not in ("0", "1", "2", "3"):
        raise SettlementError(
            f"hosp_lv: {enc.hosp_lv!r} (level {enc.level!r}) 不是医院等级代码 (hosp_lv 1-14, level 0-3)"
        )
    return level


def _scope(person: Person, enc: Encounter) -> str | None:
    if person.insuplc_admdvs[:4] == enc.mdtrtarea_admvs[:4]:
        return None
    if enc.filing not in FILINGS:
        raise SettlementError(f"filing: {enc.filing!r} 须为 {', '.join(FILINGS)} 之一")
    if person.insuplc_admdvs[:2] == enc.mdtrtarea_admvs[:2]:
        return "in_province"
    return "cross_province"


def assistance_class(person: Person, day: date) -> str | None:
    """The assistance class (救助类别) in force on ``day``, the most protected first."""
    if not person.assistance:
        return None
    held = {a.cls for a in person.assistance if a.active_on(day)}
    for c in CLASS_PRIORITY:
        if c in held:
            return c
    return None


def benefit_line(b: Bill) -> None:
    """Trace line 待遇类型: which line pays, for which group, level and place (one TraceStep
    per distinct line, cached on the policy: a step is never changed once made)."""
    key = ("line", b.enc.med_type, b.setting, b.groups, b.level, b.scope, b.enc.filing, b.cls)
    step = b.policy.cache.get(key)
    if step is None:
        text = _t_line(b.setting, b.groups, b.level, b.scope, b.enc.filing, b.cls)
        use = Used(b.policy.use("med_type.setting"), {b.enc.med_type: b.setting})
        step = b.policy.cache[key] = TraceStep("line", "待遇类型", 0, text, (use,))
    b.trace.append(step)


def _t_line(
    setting: str, groups: tuple[str, ...], level: str, scope: str | None, filing: str,
    cls: str | None,
) -> str:  # fmt: skip
    where = "本地就医"
    if scope is not None:
        where = f"{KEY_LABELS[scope]}就医（{KEY_LABELS.get(filing, filing)}）"
    return (
        f"{KEY_LABELS.get(setting, setting)}；人群 {KEY_LABELS.get(groups[0], groups[0])}；"
        f"医院级别 {KEY_LABELS.get(level, level)}；{where}"
        + (f"；救助类别 {KEY_LABELS.get(cls, cls)}" if cls else "")
    )
