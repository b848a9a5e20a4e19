"""The settlement engine (结算引擎): ``settle(person, encounter, accumulators, policy)``.

A pure function over integer fen. Order of the one-stop split (一站式结算, policy-rules.md §1.2):

1. item split (明细分割): 全自费 (丙类/目录外/限制使用未审批), 超限价, 乙类先行自付, 政策范围内;
2. benefit line (待遇类型) from med_type; group from insutype/psn_type/age; level; cross-region;
3. deductible (起付线): per admission (later admissions, long-stay re-charge) or annual;
4. pooled fund (统筹基金): flat or cumulative-banded ratio, cross-region adjustment, annual cap
   on fund payment or on eligible cost (珠海口径), per-disease limit for 门诊慢特病;
5. 大病保险/大额补助: base (co-pay, deductible, over-cap, minus cross-region reduction as the
   region says), once-a-year deductible, bands, cap, special-group tilt;
6. 公务员医疗补助; 7. 医疗救助 by class, then 倾斜救助; 8. personal account (own, 共济), cash.

Every ratio × amount is rounded once, half up, with :func:`yibao.money.apply_ratio_units`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from yibao.money import apply_ratio_units, fen_str
from yibao.policy.model import (
    XR_NONE,
    Bands,
    Cap,
    DiseaseRule,
    ParamUse,
    ResolvedPolicy,
    XrRule,
)
from yibao.settlement.model import (
    CLASS_A,
    CLASS_B,
    CLASS_C,
    EMPLOYEE_INSUTYPES,
    FILINGS,
    MINOR_PSN_TYPES,
    RESIDENT_INSUTYPES,
    RETIRED_PSN_TYPES,
    SENIOR_PSN_TYPES,
    Accumulators,
    Deferred,
    Encounter,
    ItemSplit,
    Person,
    SetlDetail,
    SetlInfo,
    SettlementError,
    SettlementResult,
    TraceStep,
)

FUND_NAMES = {
    "310100": "职工基本医疗保险统筹基金",
    "390100": "城乡居民基本医疗保险基金",
    "320100": "公务员医疗补助基金",
    "330100": "大额医疗费用补助基金",
    "390200": "城乡居民大病医疗保险基金",
    "310300": "职工大病补助基金",
    "390300": "城乡居民大病补充保险基金",
    "610100": "医疗救助基金",
    "310200": "城镇职工基本医疗保险个人账户基金",
}
SETTING_LABELS = {"inpatient": "住院", "outpatient": "门诊统筹", "chronic": "门诊慢特病"}
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

_UNITS: dict[Decimal, int] = {}


def _units(ratio: Decimal) -> int:
    u = _UNITS.get(ratio)
    if u is None:
        scaled = ratio * 10_000
        if scaled != scaled.to_integral_value() or ratio < 0 or ratio > 1:
            raise SettlementError(f"selfpay_prop: {ratio} 须在0..1之间且最多4位小数")
        u = int(scaled)
        _UNITS[ratio] = u
    return u


def _ratio_dec(units: int) -> Decimal:
    return (Decimal(units) / 10_000).quantize(Decimal("0.0001"))


def _times(fen: int, cnt: Decimal) -> int:
    """``fen × cnt`` rounded half up (price limit × quantity)."""
    if cnt == cnt.to_integral_value():
        return fen * int(cnt)
    return int((Decimal(fen) * cnt).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _pay(
    start: int, amount: int, bands: Bands, room: int | None, floor: int = 0
) -> tuple[int, int]:
    """Pay ``amount`` lying at ``[start, start+amount)`` on a cumulative axis.

    Positions below ``floor`` (an annual deductible) and below the first band pay nothing; each
    band segment pays its ratio (rounded half up per segment). ``room`` caps the payment; then the
    returned *consumed* amount is where the cap was reached (the rest is over the cap).
    Returns ``(paid, consumed)``.
    """
    if amount <= 0:
        return 0, 0
    end = start + amount
    cur = start
    paid = 0
    nb = len(bands)
    while cur < end:
        if cur < floor:
            units, nxt = 0, floor
        elif cur < bands[0][0]:
            units, nxt = 0, bands[0][0]
        else:
            i = 0
            while i + 1 < nb and bands[i + 1][0] <= cur:
                i += 1
            units = bands[i][1]
            nxt = bands[i + 1][0] if i + 1 < nb else end
        seg_end = end if nxt > end else nxt
        seg = seg_end - cur
        p = apply_ratio_units(seg, units)
        if room is not None and paid + p > room:
            left = room - paid
            x = -(-(left * 10_000 - 5_000) // units) if left > 0 else 0
            x = min(max(x, 0), seg)
            return room, cur + x - start
        paid += p
        cur = seg_end
    return paid, amount


def _adjust(units: int, rule: XrRule) -> int:
    if rule.adjust == "multiply":
        return apply_ratio_units(units, rule.value_units)
    if rule.adjust == "minus_pp":
        return max(0, units - rule.value_units)
    if rule.adjust == "set_ratio":
        return rule.value_units
    return units


def _as_bands(ratio: int | Bands) -> Bands:
    return ((0, ratio),) if isinstance(ratio, int) else ratio


def _adjust_bands(bands: Bands, rule: XrRule) -> Bands:
    if rule.adjust in ("multiply", "minus_pp", "set_ratio"):
        return tuple((f, _adjust(u, rule)) for f, u in bands)
    return bands


def _ratio_at(bands: Bands, pos: int) -> int:
    units = 0
    for f, u in bands:
        if f <= pos:
            units = u
    return units if pos >= bands[0][0] else bands[0][1]


# --------------------------------------------------------------------------- trace texts


def _t_split(tot: int, ful: int, over: int, pre: int, ins: int) -> str:
    return (
        f"医疗费总额 {fen_str(tot)} = 全自费 {fen_str(ful)} + 超限价 {fen_str(over)} "
        f"+ 先行自付 {fen_str(pre)} + 政策范围内 {fen_str(ins)}"
    )


def _t_line(
    setting: str,
    groups: tuple[str, ...],
    level: str,
    scope: str | None,
    filing: str,
    cls: str | None,
) -> str:
    where = "本地就医"
    if scope is not None:
        where = f"异地就医({'省内' if scope == 'in_province' else '跨省'}, 备案 {filing})"
    return (
        f"{SETTING_LABELS.get(setting, '仅个人账户/现金')}; 人群 {'/'.join(groups)}; "
        f"医院级别 {level}; {where}" + (f"; 救助类别 {cls}" if cls else "")
    )


def _t_dedc(d: int, why: str) -> str:
    return f"起付标准 {fen_str(d)} ({why})"


def _t_pooled(
    inscp: int, dedc: int, units: int, start: int, nbands: int, capped: bool, limit: int,
    over_cap: int, reduction: int,
) -> str:  # fmt: skip
    return (
        f"(政策范围内 {fen_str(inscp)} − 起付线 {fen_str(dedc)}) × 比例 {_ratio_dec(units)}"
        + (f"; 分段累计起点 {fen_str(start)}" if nbands > 1 else "")
        + (f"; 可支付限额 {fen_str(limit)}" if capped else "")
        + (f"; 超限额 {fen_str(over_cap)}" if over_cap else "")
        + (f"; 异地降低 {fen_str(reduction)}" if reduction else "")
    )


def _t_serious(
    base: int, ytd: int, ded: int, paid_b: int, sep_over: bool, over_cap: int, paid_o: int,
    room: int | None, tilted: bool,
) -> str:  # fmt: skip
    return (
        f"本次基数 {fen_str(base)} (年度累计起点 {fen_str(ytd)}); "
        f"年度起付线 {fen_str(ded)}; 分段支付 {fen_str(paid_b)}"
        + (f"; 超限额部分 {fen_str(over_cap)} 支付 {fen_str(paid_o)}" if sep_over else "")
        + (f"; 剩余限额 {fen_str(room)}" if room is not None else "; 不设封顶")
        + ("; 倾斜人群" if tilted else "")
    )


def _t_account(psn_part: int, payable: int, flag: str, own: int, balc: int, mulaid: int) -> str:
    return (
        f"个人负担 {fen_str(psn_part)}, 账户可支付 {fen_str(payable)}; 标志 {flag}; "
        f"本人账户 {fen_str(own)} (余额 {fen_str(balc)}), 共济 {fen_str(mulaid)}"
    )


def _t_cash(psn_part: int, acct_pay: int) -> str:
    return f"个人负担 {fen_str(psn_part)} − 账户 {fen_str(acct_pay)}"


# --------------------------------------------------------------------------- resolved rules


@dataclass(frozen=True, slots=True)
class _Basic:
    covered: bool
    dedc_first: int
    dedc_later: int | None
    mode: str
    recharge_days: int
    exempt: frozenset[str]
    dedc_annual_cap: int
    bands: Bands  # already cross-region adjusted
    bands_local: Bands
    cap: int | None
    basis: str
    pool: str
    xr: XrRule
    disease: DiseaseRule | None
    uses: tuple[ParamUse, ...]
    dedc_uses: tuple[ParamUse, ...]


@dataclass(frozen=True, slots=True)
class _Serious:
    fund_pay_type: str
    incl_copay: bool
    incl_dedc: bool
    incl_over_cap: bool
    excl_xr: bool
    over_cap_ratio: int | None
    deductible: int
    bands: Bands
    cap: int | None
    uses: tuple[ParamUse, ...]
    nego_only: bool = False  # outpatient line: only 国谈药 personal share counts (深圳)


def _basic_rule(
    policy: ResolvedPolicy,
    scheme: str,
    setting: str,
    groups: tuple[str, ...],
    level: str,
    scope: str | None,
    filing: str,
    enrol_months: int,
    dise: str | None,
) -> _Basic:
    key = ("basic", scheme, setting, groups, level, scope, filing, enrol_months, dise)
    hit = policy.cache.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    p = f"{scheme}.{setting}."
    g, lv = groups, (level,)
    disease: DiseaseRule | None = None
    uses: list[ParamUse] = []
    covered = bool(policy.value(p + "covered"))
    if setting == "chronic" and covered:
        diseases: dict[str, DiseaseRule] = policy.value(p + "diseases")
        if dise is None or dise not in diseases:
            raise SettlementError(
                f"dise_codg: {dise!r} 不在 {policy.admdvs} 的门诊慢特病病种目录中 "
                f"({', '.join(sorted(diseases)) or '目录为空'})"
            )
        disease = diseases[dise]
        uses.append(policy.use(p + "diseases"))
    if not covered:
        rule = _Basic(
            False, 0, None, "per_admission", 0, frozenset(), 0, ((0, 0),), ((0, 0),), None, "fund",
            setting, XR_NONE, disease, (*uses, policy.use(p + "covered")), (),
        )  # fmt: skip
        policy.cache[key] = rule
        return rule
    dedc_first: int = policy.pick(p + "deductible", g, lv)
    later = policy.pick(p + "deductible_later", g, lv)
    if disease is not None and disease.deductible is not None:
        dedc_first, later = disease.deductible, None
    ratio = policy.pick(p + "ratio", g, lv)
    if disease is not None and disease.ratio is not None:
        ratio = disease.ratio
    bands_local = _as_bands(ratio)
    xr = XR_NONE if scope is None else policy.pick(p + "cross_region", (scope,), (filing,))
    cap_spec: Cap = policy.pick(p + "cap", g)
    cap = cap_spec.amount_for(enrol_months, policy.value("region.avg_wage_annual"))
    dedc_uses = [policy.use(p + "deductible"), policy.use(p + "deductible_mode")]
    if later is not None:
        dedc_uses.append(policy.use(p + "deductible_later"))
    if policy.value(p + "deductible_recharge_days"):
        dedc_uses.append(policy.use(p + "deductible_recharge_days"))
    if policy.value(p + "deductible_annual_cap"):
        dedc_uses.append(policy.use(p + "deductible_annual_cap"))
    uses += [policy.use(p + "ratio"), policy.use(p + "cap"), policy.use(p + "cap_basis")]
    if scope is not None:
        uses.append(policy.use(p + "cross_region"))
        if xr.deductible is not None:
            dedc_uses.append(policy.use(p + "cross_region"))
    rule = _Basic(
        covered=xr.adjust != "not_paid",
        dedc_first=dedc_first,
        dedc_later=later,
        mode=policy.value(p + "deductible_mode"),
        recharge_days=policy.value(p + "deductible_recharge_days"),
        exempt=frozenset(policy.value(p + "deductible_exempt_med_types")),
        dedc_annual_cap=policy.value(p + "deductible_annual_cap"),
        bands=_adjust_bands(bands_local, xr),
        bands_local=bands_local,
        cap=cap,
        basis=policy.value(p + "cap_basis"),
        pool=policy.value(p + "cap_pool") or setting,
        xr=xr,
        disease=disease,
        uses=tuple(uses),
        dedc_uses=tuple(dedc_uses),
    )
    policy.cache[key] = rule
    return rule


def _serious_rule(
    policy: ResolvedPolicy,
    scheme: str,
    setting: str,
    scope: str | None,
    filing: str,
    tilted: bool,
    enrol_months: int,
) -> _Serious | None:
    key = ("serious", scheme, setting, scope, filing, tilted, enrol_months)
    if key in policy.cache:
        return policy.cache[key]  # type: ignore[no-any-return]
    p = f"{scheme}.serious."
    rule: _Serious | None = None
    in_line = setting in policy.value(p + "settings")
    nego_only = (
        not in_line and setting == "outpatient" and bool(policy.value(p + "nego_outpatient"))
    )
    if policy.value(p + "enabled") and (in_line or nego_only):
        uses = [policy.use(p + k) for k in ("enabled", "deductible", "bands", "cap")]
        if nego_only:
            uses.append(policy.use(p + "nego_outpatient"))
        deductible: int = policy.value(p + "deductible")
        bands: Bands = policy.value(p + "bands")
        cap: int | None = policy.value(p + "cap").amount_for(
            enrol_months, policy.value("region.avg_wage_annual")
        )
        if tilted:
            if policy.value(p + "tilt_deductible") is not None:
                deductible = policy.value(p + "tilt_deductible")
                uses.append(policy.use(p + "tilt_deductible"))
            else:
                deductible = apply_ratio_units(
                    deductible, policy.value(p + "tilt_deductible_factor")
                )
                uses.append(policy.use(p + "tilt_deductible_factor"))
            if policy.value(p + "tilt_bands") is not None:
                bands = policy.value(p + "tilt_bands")
                uses.append(policy.use(p + "tilt_bands"))
            else:
                pp: int = policy.value(p + "tilt_plus_pp")
                bands = tuple((f, min(10_000, u + pp)) for f, u in bands)
                uses.append(policy.use(p + "tilt_plus_pp"))
            if policy.value(p + "tilt_no_cap"):
                cap = None
                uses.append(policy.use(p + "tilt_no_cap"))
        if scope is not None:
            xr: XrRule = policy.pick(p + "cross_region", (scope,), (filing,))
            bands = _adjust_bands(bands, xr)
            uses.append(policy.use(p + "cross_region"))
        ocr = policy.value(p + "over_cap_ratio")
        if ocr is not None:
            uses.append(policy.use(p + "over_cap_ratio"))
        rule = _Serious(
            fund_pay_type=policy.value(p + "fund_pay_type"),
            incl_copay=policy.value(p + "base_includes_copay"),
            incl_dedc=policy.value(p + "base_includes_deductible"),
            incl_over_cap=policy.value(p + "base_includes_over_cap"),
            excl_xr=policy.value(p + "base_excludes_xr_reduction"),
            over_cap_ratio=ocr,
            deductible=deductible,
            bands=bands,
            cap=cap,
            uses=tuple(uses),
            nego_only=nego_only,
        )
    policy.cache[key] = rule
    return rule


def _group_chain(person: Person, scheme: str) -> tuple[str, ...]:
    if scheme == "employee":
        base = "retired" if person.psn_type in RETIRED_PSN_TYPES else "active"
        return (f"tier{person.tier}_{base}", base) if person.tier else (base,)
    if person.psn_type in MINOR_PSN_TYPES or person.age < 18:
        return ("minor",)
    if person.psn_type in SENIOR_PSN_TYPES or person.age >= 60:
        return ("senior",)
    return ("adult",)


def _get(m: Mapping[str, int], k: str) -> int:
    return m.get(k, 0)


# --------------------------------------------------------------------------- the engine


def settle(
    person: Person, encounter: Encounter, accumulators: Accumulators, policy: ResolvedPolicy
) -> SettlementResult:
    """Split one bill between every payer. Pure: same inputs, same result; nothing is mutated.

    ``policy`` must be the insured region's policy (参保地政策) in force on the service date;
    ``accumulators`` the person's totals for the 医保年度 of ``encounter.begntime``.
    Raises :class:`SettlementError` naming the field and rule when the bill cannot be settled.
    """
    acc = accumulators
    enc = encounter
    trace: list[TraceStep] = []
    if policy.admdvs != person.insuplc_admdvs:
        raise SettlementError(
            f"insuplc_admdvs: 参保地为 {person.insuplc_admdvs}, 但传入的是 {policy.admdvs} 的政策"
        )
    if acc.year != enc.begntime.year:
        raise SettlementError(
            f"accumulators.year: {acc.year} 不是 {enc.begntime.isoformat()} 所属的医保年度"
        )
    if person.insutype in EMPLOYEE_INSUTYPES:
        scheme = "employee"
    elif person.insutype in RESIDENT_INSUTYPES:
        scheme = "resident"
    else:
        raise SettlementError(
            f"insutype: {person.insutype!r} 不是本引擎结算的险种 (310 职工 / 390 居民)"
        )
    setting_map: dict[str, str] = policy.value("med_type.setting")
    setting = setting_map.get(enc.med_type)
    if setting is None:
        raise SettlementError(
            f"med_type: {enc.med_type!r} 在 {policy.admdvs} 没有对应的待遇类型 (med_type.setting)"
        )
    level = enc.level if enc.level is not None else LEVEL_OF_HOSP_LV.get(enc.hosp_lv)
    if level is not None and len(level) == 2:  # dedc_hosp_lv style "01"/"02"/"03"
        level = level[1]
    if level not in ("0", "1", "2", "3"):
        raise SettlementError(
            f"hosp_lv: {enc.hosp_lv!r} (level {enc.level!r}) 不是医院等级代码 (hosp_lv 1-14, level 0-3)"
        )
    if enc.acct_used_flag not in ("0", "1", "2"):
        raise SettlementError(f"acct_used_flag: {enc.acct_used_flag!r} 须为 0、1 或 2")
    local = person.insuplc_admdvs[:4] == enc.mdtrtarea_admvs[:4]
    scope: str | None = None
    if not local:
        scope = (
            "in_province"
            if person.insuplc_admdvs[:2] == enc.mdtrtarea_admvs[:2]
            else "cross_province"
        )
        if enc.filing not in FILINGS:
            raise SettlementError(f"filing: {enc.filing!r} 须为 {', '.join(FILINGS)} 之一")
    groups = _group_chain(person, scheme)
    day = enc.begntime
    cls = None
    held = {a.cls for a in person.assistance if a.active_on(day)}
    for c in CLASS_PRIORITY:
        if c in held:
            cls = c
            break

    basic: _Basic | None = None
    if setting != "account_only":
        basic = _basic_rule(
            policy, scheme, setting, groups, level, scope, enc.filing, person.enrol_months,
            enc.dise_codg if setting == "chronic" else None,
        )  # fmt: skip
    extra_fp = (
        basic.xr.value_units if basic is not None and basic.xr.adjust == "extra_first_pay" else 0
    )

    # 1. item split -------------------------------------------------------------------------
    splits: list[ItemSplit] = []
    tot = ful_t = over_t = pre_t = inscp_t = 0
    for it in enc.items:
        amt = it.det_item_fee_sumamt
        if amt < 0:
            raise SettlementError(
                f"det_item_fee_sumamt: 明细 {it.feedetl_sn} 金额为负 (退费请用撤销)"
            )
        lv = it.chrgitm_lv
        ful = over = pre = 0
        memo = ""
        if not it.in_catalog or lv == CLASS_C:
            ful = amt
            memo = "目录外" if not it.in_catalog else "丙类全自费"
        elif it.lmt_used_flag == "1" and it.hosp_appr_flag == "2":
            ful = amt
            memo = "限制使用审批不通过"
        elif lv in (CLASS_A, CLASS_B):
            if it.pric_uplmt_amt is not None:
                limit = _times(it.pric_uplmt_amt, it.cnt)
                if amt > limit:
                    over = amt - limit
            allowed = amt - over
            if lv == CLASS_B:
                pre = apply_ratio_units(allowed, _units(it.selfpay_prop))
            if extra_fp:
                pre += apply_ratio_units(allowed - pre, extra_fp)
        else:
            raise SettlementError(
                f"chrgitm_lv: 明细 {it.feedetl_sn} 的等级 {lv!r} 无效 (01 甲 / 02 乙 / 03 丙)"
            )
        ins = amt - ful - over - pre
        tot += amt
        ful_t += ful
        over_t += over
        pre_t += pre
        inscp_t += ins
        splits.append(
            ItemSplit(
                it.feedetl_sn, amt, it.cnt, it.pric, it.pric_uplmt_amt, it.selfpay_prop, ful, over,
                pre, ins, lv, it.med_chrgitm_type, it.lmt_used_flag, it.hi_nego_drug_flag, memo,
            )
        )  # fmt: skip
    trace.append(
        TraceStep(
            "split", "明细分割", inscp_t,
            Deferred(_t_split, tot, ful_t, over_t, pre_t, inscp_t),
            (policy.use(f"{scheme}.{setting}.cross_region"),) if extra_fp else (),
        )
    )  # fmt: skip
    trace.append(
        TraceStep(
            "line", "待遇类型", 0, Deferred(_t_line, setting, groups, level, scope, enc.filing, cls),
            (policy.use("med_type.setting"),),
        )
    )  # fmt: skip

    # 2-4. deductible and pooled fund ----------------------------------------------------------
    act_dedc = hifp = over_cap = reduction = eligible_used = 0
    prop_units = 0
    d_dedc: dict[str, int] = {}
    d_inscp: dict[str, int] = {}
    d_hifp: dict[str, int] = {}
    d_elig: dict[str, int] = {}
    d_chronic: dict[str, int] = {}
    details: list[SetlDetail] = []
    admissions = 0
    basic_fpt = "310100" if scheme == "employee" else "390100"
    if basic is not None:
        d_inscp[setting] = inscp_t
        if setting == "inpatient":
            admissions = 1
        if basic.covered:
            prior_dedc = _get(acc.dedc, setting)
            if enc.med_type in basic.exempt:
                d = 0
                why = f"医疗类别 {enc.med_type} 免起付线"
            elif basic.mode == "annual":
                d = max(
                    0,
                    (basic.xr.deductible if basic.xr.deductible is not None else basic.dedc_first)
                    - prior_dedc,
                )
                why = f"年度起付线, 本年已付 {fen_str(prior_dedc)}"
            else:
                nth = enc.admission_no if enc.admission_no is not None else acc.admissions + 1
                base = basic.dedc_first
                why = f"第{nth}次"
                if nth >= 2 and basic.dedc_later is not None:
                    base = basic.dedc_later
                if basic.xr.deductible is not None:
                    base = basic.xr.deductible
                    why += ", 异地起付线"
                charges = 1
                if basic.recharge_days and enc.endtime is not None:
                    days = (enc.endtime - enc.begntime).days
                    charges = max(1, -(-days // basic.recharge_days))
                    if charges > 1:
                        why += f", 连续住院 {days} 天计 {charges} 次"
                d = base * charges
            if basic.dedc_annual_cap:
                d = min(d, max(0, basic.dedc_annual_cap - prior_dedc))
            act_dedc = d if d < inscp_t else inscp_t
            d_dedc[setting] = act_dedc
            trace.append(
                TraceStep(
                    "deductible",
                    "起付线",
                    act_dedc,
                    Deferred(_t_dedc, d, why),
                    basic.dedc_uses,
                )
            )
            elig = inscp_t - act_dedc
            pool = basic.pool
            room_e: int | None = None
            fund_room: int | None = None
            elig_in = elig
            if basic.cap is not None:
                if basic.basis == "eligible":
                    room_e = max(0, basic.cap - _get(acc.eligible, pool))
                    elig_in = min(elig, room_e)
                else:
                    fund_room = max(0, basic.cap - _get(acc.hifp, pool))
            if basic.disease is not None and basic.disease.limit is not None:
                dis_room = max(0, basic.disease.limit - _get(acc.chronic, basic.disease.code))
                fund_room = dis_room if fund_room is None else min(fund_room, dis_room)
            start = _get(acc.inscp, setting) + act_dedc
            hifp, used = _pay(start, elig_in, basic.bands, fund_room)
            eligible_used = used
            over_cap = elig - used
            prop_units = _ratio_at(basic.bands, start)
            if basic.bands is not basic.bands_local:
                local_pay, _ = _pay(start, elig_in, basic.bands_local, fund_room)
                reduction = max(0, local_pay - hifp)
            d_hifp[pool] = hifp
            d_elig[pool] = used
            if basic.disease is not None:
                d_chronic[basic.disease.code] = hifp
            limit = fund_room if fund_room is not None else (room_e if room_e is not None else hifp)
            capped = fund_room is not None or room_e is not None
            info: str | Deferred = Deferred(
                _t_pooled, inscp_t, act_dedc, prop_units, start, len(basic.bands), capped, limit,
                over_cap, reduction,
            )  # fmt: skip
            trace.append(TraceStep("pooled", "统筹基金", hifp, info, basic.uses))
            details.append(SetlDetail(basic_fpt, FUND_NAMES[basic_fpt], inscp_t, limit, hifp, info))
        else:
            trace.append(
                TraceStep("pooled", "统筹基金", 0, "本次不予统筹支付(政策或异地未备案)", basic.uses)
            )
            details.append(
                SetlDetail(basic_fpt, FUND_NAMES[basic_fpt], inscp_t, 0, 0, "不予统筹支付")
            )
    psn_scp = inscp_t - hifp  # policy-range share left to the person
    copay = psn_scp - act_dedc - over_cap

    # 5. 大病保险 / 大额补助 ---------------------------------------------------------------------
    serious_pay = serious_base = 0
    serious_fpt = ""
    if basic is not None:
        tilt_classes = policy.value(f"{scheme}.serious.tilt_classes")
        tilted = cls is not None and cls in tilt_classes
        sr = _serious_rule(policy, scheme, setting, scope, enc.filing, tilted, person.enrol_months)
        if sr is not None:
            serious_fpt = sr.fund_pay_type
            sep_over = sr.over_cap_ratio is not None and not sr.nego_only
            if sr.nego_only:
                # 国谈药 share of what the person pays within the policy range (pro rata of fund)
                nego = sum(i.inscp_scp_amt for i in splits if i.hi_nego_drug_flag == "1")
                if nego and inscp_t:
                    serious_base = nego - hifp * nego // inscp_t
            elif sr.incl_copay:
                serious_base += max(0, copay - reduction) if sr.excl_xr else copay
            if sr.incl_dedc and not sr.nego_only:
                serious_base += act_dedc
            if sr.incl_over_cap and not sep_over and not sr.nego_only:
                serious_base += over_cap
            room = None if sr.cap is None else max(0, sr.cap - acc.serious_pay)
            paid_b, _ = _pay(acc.serious_base, serious_base, sr.bands, room, floor=sr.deductible)
            paid_o = 0
            if sep_over and sr.incl_over_cap and sr.over_cap_ratio is not None:
                paid_o = apply_ratio_units(over_cap, sr.over_cap_ratio)
                if room is not None:
                    paid_o = min(paid_o, room - paid_b)
            serious_pay = paid_b + paid_o
            info = Deferred(
                _t_serious, serious_base, acc.serious_base, sr.deductible, paid_b, sep_over, over_cap,
                paid_o, room, tilted,
            )  # fmt: skip
            trace.append(TraceStep("serious", "大病保险/大额补助", serious_pay, info, sr.uses))
            details.append(
                SetlDetail(
                    serious_fpt, FUND_NAMES.get(serious_fpt, serious_fpt), serious_base + (over_cap if sep_over else 0),
                    room if room is not None else serious_pay, serious_pay, info,
                )
            )  # fmt: skip

    # 6. 公务员医疗补助 -------------------------------------------------------------------------
    cvl_pay = 0
    if (
        basic is not None
        and scheme == "employee"
        and person.cvlserv_flag
        and policy.value("employee.civil_servant.enabled")
        and setting in policy.value("employee.civil_servant.settings")
    ):
        p = "employee.civil_servant."
        remaining = psn_scp - serious_pay
        cbase = (
            remaining
            if policy.value(p + "base_includes_deductible")
            else max(0, remaining - act_dedc)
        )
        units: int = policy.pick(p + "ratio", groups)
        cap = policy.value(p + "cap").amount_for(
            person.enrol_months, policy.value("region.avg_wage_annual")
        )
        room = None if cap is None else max(0, cap - acc.cvlserv_pay)
        cvl_pay = apply_ratio_units(cbase, units)
        if room is not None and cvl_pay > room:
            cvl_pay = room
        info = f"基数 {fen_str(cbase)} × 比例 {_ratio_dec(units)}" + (
            f"; 剩余限额 {fen_str(room)}" if room is not None else ""
        )
        uses = tuple(
            policy.use(p + k) for k in ("enabled", "ratio", "cap", "base_includes_deductible")
        )
        trace.append(TraceStep("civil_servant", "公务员医疗补助", cvl_pay, info, uses))
        details.append(
            SetlDetail(
                "320100",
                FUND_NAMES["320100"],
                cbase,
                room if room is not None else cvl_pay,
                cvl_pay,
                info,
            )
        )

    # 7. 医疗救助, 倾斜救助 ---------------------------------------------------------------------
    maf1 = maf2 = maf_base = maf2_base = 0
    if (
        basic is not None
        and cls is not None
        and policy.value("assistance.enabled")
        and setting in policy.value("assistance.settings")
    ):
        p = "assistance."
        remaining = psn_scp - serious_pay - cvl_pay
        maf_base = (
            remaining
            if policy.value(p + "base_includes_deductible")
            else max(0, remaining - act_dedc)
        )
        ded: int = policy.pick(p + "deductible", (cls,), (setting,))
        units = policy.pick(p + "ratio", (cls,), (setting,))
        wage = policy.value("region.avg_wage_annual")
        cap_all = policy.pick(p + "cap", (cls,)).amount_for(person.enrol_months, wage)
        cap_set = policy.pick(p + "setting_cap", (cls,), (setting,)).amount_for(
            person.enrol_months, wage
        )
        rooms = []
        if cap_all is not None:
            rooms.append(max(0, cap_all - sum(acc.maf_pay.values())))
        if cap_set is not None:
            rooms.append(max(0, cap_set - _get(acc.maf_pay, setting)))
        room = min(rooms) if rooms else None
        maf1, _ = _pay(_get(acc.maf_base, setting), maf_base, ((0, units),), room, floor=ded)
        info = (
            f"救助类别 {cls}; 本次基数 {fen_str(maf_base)} (年度累计 {fen_str(_get(acc.maf_base, setting))}); "
            f"起付标准 {fen_str(ded)}; 比例 {_ratio_dec(units)}"
            + (f"; 剩余限额 {fen_str(room)}" if room is not None else "; 不设封顶")
        )
        uses = tuple(
            policy.use(p + k) for k in ("enabled", "deductible", "ratio", "cap", "setting_cap")
        )
        trace.append(TraceStep("assistance", "医疗救助", maf1, info, uses))
        t_units: int = policy.pick(p + "tilt_ratio", (cls,))
        if t_units:
            threshold: int = policy.pick(p + "tilt_threshold", (cls,))
            t_cap = policy.pick(p + "tilt_cap", (cls,)).amount_for(person.enrol_months, wage)
            t_room = None if t_cap is None else max(0, t_cap - acc.maf2_pay)
            maf2_base = remaining - maf1
            maf2, _ = _pay(acc.maf2_base, maf2_base, ((0, t_units),), t_room, floor=threshold)
            info2 = (
                f"救助后自付 {fen_str(maf2_base)} (年度累计 {fen_str(acc.maf2_base)}) 超过 {fen_str(threshold)} "
                f"部分 × {_ratio_dec(t_units)}"
                + (f"; 剩余限额 {fen_str(t_room)}" if t_room is not None else "")
            )
            uses2 = tuple(policy.use(p + k) for k in ("tilt_threshold", "tilt_ratio", "tilt_cap"))
            trace.append(TraceStep("assistance_tilt", "倾斜救助", maf2, info2, uses2))
            info = f"{info}; {info2}"
        details.append(
            SetlDetail(
                "610100",
                FUND_NAMES["610100"],
                maf_base,
                room if room is not None else maf1 + maf2,
                maf1 + maf2,
                info,
            )
        )
    maf_pay = maf1 + maf2

    # 8. totals, personal account, cash ----------------------------------------------------------
    hifmi = serious_pay if serious_fpt in ("390200", "390300") else 0
    hifob = serious_pay if serious_fpt == "330100" else 0
    oth = serious_pay - hifmi - hifob
    fund_sum = hifp + serious_pay + cvl_pay + maf_pay
    hosp_part = 0
    psn_part = tot - fund_sum - hosp_part
    payable = psn_part
    if not policy.value("account.pays_fulamt_ownpay"):
        payable -= ful_t
    if not policy.value("account.pays_overlmt"):
        payable -= over_t
    payable = max(0, payable)
    own = mulaid = 0
    if enc.acct_used_flag in ("1", "2"):
        own = min(max(0, acc.acct_balc), payable)
        if enc.acct_used_flag == "2":
            mulaid = min(max(0, acc.mulaid_balc), payable - own)
    acct_pay = own + mulaid
    cash = psn_part - acct_pay
    balc = acc.acct_balc - own
    acct_uses = (policy.use("account.pays_fulamt_ownpay"), policy.use("account.pays_overlmt"))
    trace.append(
        TraceStep(
            "account", "个人账户", acct_pay,
            Deferred(_t_account, psn_part, payable, enc.acct_used_flag, own, balc, mulaid),
            acct_uses,
        )
    )  # fmt: skip
    trace.append(TraceStep("cash", "个人现金", cash, Deferred(_t_cash, psn_part, acct_pay)))
    if acct_pay:
        details.append(
            SetlDetail(
                "310200",
                FUND_NAMES["310200"],
                payable,
                payable,
                acct_pay,
                "个人账户支付(不计入基金支付总额)",
            )
        )

    deltas = Accumulators(
        year=acc.year,
        admissions=admissions,
        dedc=d_dedc,
        inscp=d_inscp,
        hifp=d_hifp,
        eligible=d_elig,
        chronic=d_chronic,
        serious_base=serious_base if serious_fpt else 0,
        serious_pay=serious_pay,
        cvlserv_pay=cvl_pay,
        maf_base={setting: maf_base} if maf_base else {},
        maf_pay={setting: maf1} if maf1 else {},
        maf2_base=maf2_base,
        maf2_pay=maf2,
        acct_balc=-own,
        mulaid_balc=-mulaid,
    )
    clr = "41" if enc.med_type == "41" else ("21" if setting == "inpatient" else "11")
    info_obj = SetlInfo(
        medfee_sumamt=tot,
        fulamt_ownpay_amt=ful_t,
        overlmt_selfpay=over_t,
        preselfpay_amt=pre_t,
        inscp_scp_amt=inscp_t,
        act_pay_dedc=act_dedc,
        hifp_pay=hifp,
        pool_prop_selfpay=_ratio_dec(prop_units),
        cvlserv_pay=cvl_pay,
        hifes_pay=0,
        hifmi_pay=hifmi,
        hifob_pay=hifob,
        maf_pay=maf_pay,
        oth_pay=oth,
        fund_pay_sumamt=fund_sum,
        psn_part_amt=psn_part,
        acct_pay=acct_pay,
        psn_cash_pay=cash,
        hosp_part_amt=hosp_part,
        balc=balc,
        acct_mulaid_pay=mulaid,
        med_type=enc.med_type,
        insutype=person.insutype,
        psn_type=person.psn_type,
        cvlserv_flag="1" if person.cvlserv_flag else "0",
        clr_type=clr,
    )
    _ = eligible_used
    return SettlementResult(
        policy.admdvs, policy.on, info_obj, tuple(details), tuple(splits), deltas, tuple(trace)
    )


def reverse(result: SettlementResult) -> SettlementResult:
    """The cancellation mirror (撤销/冲正): every amount negated, deltas negated.

    Applying ``result.deltas`` then ``reverse(result).deltas`` restores the accumulators exactly.
    """
    s = result.setlinfo
    own = s.acct_pay - s.acct_mulaid_pay
    step = TraceStep(
        "reverse", "结算撤销(冲销)", -s.medfee_sumamt, "原结算全部金额取反, 累计值恢复"
    )
    return SettlementResult(
        result.admdvs,
        result.policy_date,
        s.negated(balc=s.balc + own),
        tuple(d.negated() for d in result.setldetail),
        tuple(i.negated() for i in result.items),
        result.deltas.negated(),
        (step, *result.trace),
        reversed=not result.reversed,
    )


def apply_deltas(accumulators: Accumulators, deltas: Accumulators) -> Accumulators:
    """The accumulators after a settlement (or a reversal) with these deltas."""
    return accumulators.plus(deltas)


def service_year(day: date) -> int:
    """The 医保年度 of a service date (calendar year in every shipped region)."""
    return day.year
