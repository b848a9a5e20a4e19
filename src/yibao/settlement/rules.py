"""The rules one bill needs, resolved from the policy (政策参数) once and cached on it.

Each rule carries the parameters it came from as :class:`~yibao.settlement.model.Used` (the
policy's key and reference with the value applied), so a step copies them into its trace line
without building anything per bill. Rules are cached on ``ResolvedPolicy.cache`` by everything
they depend on (scheme, setting, group, level, place, filing, enrolment months …).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yibao.money import apply_ratio_units
from yibao.policy.model import (
    KEY_LABELS,
    XR_NONE,
    Bands,
    DiseaseRule,
    ItemClass,
    PolicyError,
    ResolvedPolicy,
    XrRule,
)
from yibao.settlement.arith import adjust, adjust_bands, as_bands
from yibao.settlement.model import (
    MINOR_PSN_TYPES,
    RETIRED_PSN_TYPES,
    SENIOR_PSN_TYPES,
    Person,
    SettlementError,
    Used,
)


def used(policy: ResolvedPolicy, key: str, value: Any) -> Used:
    """``key`` as used with ``value`` (the applied value, normalised)."""
    return Used(policy.use(key), value)


def group_chain(person: Person, scheme: str) -> tuple[str, ...]:
    """The person's groups (人群), most specific first, for tables keyed by ``group``.

    Employees: 深圳 tier (``tier1_active`` …), then 单建统筹 (``retired_pool_only`` …), then
    ``active``/``retired``; residents: ``minor``, ``senior`` or ``adult``.
    """
    if scheme == "employee":
        base = "retired" if person.psn_type in RETIRED_PSN_TYPES else "active"
        chain = (f"{base}_pool_only", base) if person.pool_only else (base,)
        return (f"tier{person.tier}_{base}", *chain) if person.tier else chain
    if person.psn_type in MINOR_PSN_TYPES or person.age < 18:
        return ("minor",)
    if person.psn_type in SENIOR_PSN_TYPES or person.age >= 60:
        return ("senior",)
    return ("adult",)


# --------------------------------------------------------------------------- basic (统筹基金)


@dataclass(frozen=True, slots=True)
class ClassRatio:
    """An item class paid at its own fund ratio: local and cross-region adjusted units."""

    cls: ItemClass
    units: int  # cross-region adjusted
    units_local: int


@dataclass(frozen=True, slots=True)
class BasicRule:
    """The pooled fund's rule (统筹基金) for one benefit line."""

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
    uses: tuple[Used, ...]
    dedc_uses: tuple[Used, ...]
    classes: tuple[ClassRatio, ...] = ()
    exempt_use: Used | None = None
    #: why the pooled fund pays nothing (不予统筹支付的原因), empty when it pays
    not_paid_reason: str = ""


def basic_rule(
    policy: ResolvedPolicy, scheme: str, setting: str, groups: tuple[str, ...], level: str,
    scope: str | None, filing: str, enrol_months: int, dise: str | None,
) -> BasicRule:  # fmt: skip
    """The pooled fund's rule for this line, group, level and place (cached)."""
    key = ("basic", scheme, setting, groups, level, scope, filing, enrol_months, dise)
    hit = policy.cache.get(key)
    if hit is None:
        hit = policy.cache[key] = _basic_rule(
            policy, f"{scheme}.{setting}.", setting, groups, (level,), scope, filing,
            enrol_months, dise,
        )  # fmt: skip
    return hit


def _disease(policy: ResolvedPolicy, p: str, dise: str | None) -> DiseaseRule:
    diseases: dict[str, DiseaseRule] = policy.value(p + "diseases")
    if dise is None or dise not in diseases:
        raise SettlementError(
            f"dise_codg: {dise!r} 不在 {policy.admdvs} 的门诊慢特病病种目录中 "
            f"({', '.join(sorted(diseases)) or '目录为空'})"
        )
    return diseases[dise]


def _basic_rule(
    policy: ResolvedPolicy, p: str, setting: str, g: tuple[str, ...], lv: tuple[str, ...],
    scope: str | None, filing: str, enrol_months: int, dise: str | None,
) -> BasicRule:  # fmt: skip
    covered = bool(policy.value(p + "covered"))
    disease = _disease(policy, p, dise) if setting == "chronic" and covered else None
    dis_use = () if disease is None else (used(policy, p + "diseases", disease),)
    if not covered:
        return BasicRule(
            False, 0, None, "per_admission", 0, frozenset(), 0, ((0, 0),), ((0, 0),), None, "fund",
            setting, XR_NONE, None, (used(policy, p + "covered", False),), (),
            not_paid_reason=f"政策规定{KEY_LABELS.get(setting, setting)}不由统筹基金支付",
        )  # fmt: skip
    dedc_first: int = policy.pick(p + "deductible", g, lv)
    later: int | None = policy.pick(p + "deductible_later", g, lv)
    own_dedc = disease is not None and disease.deductible is not None
    if disease is not None and disease.deductible is not None:
        dedc_first, later = disease.deductible, None
    ratio: int | Bands = policy.pick(p + "ratio", g, lv)
    own_ratio = disease is not None and disease.ratio is not None
    if disease is not None and disease.ratio is not None:
        ratio = disease.ratio
    bands_local = as_bands(ratio)
    xr: XrRule = XR_NONE if scope is None else policy.pick(p + "cross_region", (scope,), (filing,))
    cap = policy.pick(p + "cap", g).amount_for(enrol_months, policy.value("region.avg_wage_annual"))
    mode: str = policy.value(p + "deductible_mode")
    dedc_uses = [*dis_use] if own_dedc else [used(policy, p + "deductible", dedc_first)]
    dedc_uses.append(used(policy, p + "deductible_mode", mode))
    if later is not None:
        dedc_uses.append(used(policy, p + "deductible_later", later))
    for k in ("deductible_recharge_days", "deductible_annual_cap"):
        if policy.value(p + k):
            dedc_uses.append(used(policy, p + k, policy.value(p + k)))
    basis: str = policy.value(p + "cap_basis")
    uses = [*dis_use]
    if not own_ratio:
        uses.append(used(policy, p + "ratio", ratio))
    uses += [used(policy, p + "cap", cap), used(policy, p + "cap_basis", basis)]
    pool: str = policy.value(p + "cap_pool") or setting
    if pool != setting:
        uses.append(used(policy, p + "cap_pool", pool))
    if scope is not None:
        uses.append(used(policy, p + "cross_region", xr))
        if xr.deductible is not None:
            dedc_uses.append(used(policy, p + "cross_region", xr))
    classes = _class_ratios(policy, p, xr)
    if classes:
        uses.append(used(policy, "catalog.item_classes", tuple(c.cls for c in classes)))
        shown = tuple((c.cls.name, c.units_local) for c in classes)
        uses.append(used(policy, p + "class_ratio", shown))
    exempt = frozenset(policy.value(p + "deductible_exempt_med_types"))
    return BasicRule(
        covered=xr.adjust != "not_paid", dedc_first=dedc_first, dedc_later=later, mode=mode,
        recharge_days=policy.value(p + "deductible_recharge_days"), exempt=exempt,
        dedc_annual_cap=policy.value(p + "deductible_annual_cap"),
        bands=adjust_bands(bands_local, xr), bands_local=bands_local, cap=cap, basis=basis,
        pool=pool, xr=xr, disease=disease, uses=tuple(uses), dedc_uses=tuple(dedc_uses),
        classes=classes,
        exempt_use=used(policy, p + "deductible_exempt_med_types", exempt) if exempt else None,
        not_paid_reason=_xr_reason(scope, filing) if xr.adjust == "not_paid" else "",
    )  # fmt: skip


def _class_ratios(policy: ResolvedPolicy, p: str, xr: XrRule) -> tuple[ClassRatio, ...]:
    """The item classes this line pays at their own ratio (特定项目类别支付比例), in order."""
    ratios: dict[str, int] = policy.value(p + "class_ratio")
    if not ratios:
        return ()
    defined: dict[str, ItemClass] = policy.value("catalog.item_classes")
    out = []
    for code, u in ratios.items():
        if code not in defined:
            raise PolicyError(
                f"{policy.admdvs}: {p}class_ratio: class {code!r} is not defined in "
                f"catalog.item_classes on {policy.on.isoformat()}"
            )
        out.append(ClassRatio(defined[code], adjust(u, xr), u))
    return tuple(out)


# --------------------------------------------------------------------------- 大病/大额


@dataclass(frozen=True, slots=True)
class SeriousRule:
    """大病保险/大额补助 for one benefit line."""

    fund_pay_type: str
    incl_copay: bool
    incl_dedc: bool
    incl_over_cap: bool
    excl_xr: bool
    over_cap_ratio: int | None
    deductible: int
    bands: Bands
    cap: int | None
    uses: tuple[Used, ...]
    nego_only: bool = False  # outpatient line: only 国谈药 personal share counts (深圳)


def serious_rule(
    policy: ResolvedPolicy, scheme: str, setting: str, scope: str | None, filing: str,
    tilted: bool, enrol_months: int,
) -> SeriousRule | None:  # fmt: skip
    """The 大病/大额 rule of this line, or ``None`` when the line has none (cached)."""
    key = ("serious", scheme, setting, scope, filing, tilted, enrol_months)
    if key not in policy.cache:
        policy.cache[key] = _serious_rule(
            policy, f"{scheme}.serious.", setting, scope, filing, tilted, enrol_months
        )
    return policy.cache[key]  # type: ignore[no-any-return]


def _serious_rule(
    policy: ResolvedPolicy, p: str, setting: str, scope: str | None, filing: str, tilted: bool,
    enrol_months: int,
) -> SeriousRule | None:  # fmt: skip
    in_line = setting in policy.value(p + "settings")
    nego_only = (
        not in_line and setting == "outpatient" and bool(policy.value(p + "nego_outpatient"))
    )
    if not policy.value(p + "enabled") or not (in_line or nego_only):
        return None
    deductible: int = policy.value(p + "deductible")
    bands: Bands = policy.value(p + "bands")
    cap = policy.value(p + "cap").amount_for(enrol_months, policy.value("region.avg_wage_annual"))
    uses = [used(policy, p + "enabled", True), used(policy, p + "deductible", deductible),
            used(policy, p + "bands", bands), used(policy, p + "cap", cap)]  # fmt: skip
    if nego_only:
        uses.append(used(policy, p + "nego_outpatient", True))
    if tilted:
        deductible, bands, cap = _tilt(policy, p, deductible, bands, cap, uses)
    if scope is not None:
        xr: XrRule = policy.pick(p + "cross_region", (scope,), (filing,))
        bands = adjust_bands(bands, xr)
        uses.append(used(policy, p + "cross_region", xr))
    ocr: int | None = policy.value(p + "over_cap_ratio")
    if ocr is not None:
        uses.append(used(policy, p + "over_cap_ratio", ocr))
    return SeriousRule(
        fund_pay_type=policy.value(p + "fund_pay_type"),
        incl_copay=policy.value(p + "base_includes_copay"),
        incl_dedc=policy.value(p + "base_includes_deductible"),
        incl_over_cap=policy.value(p + "base_includes_over_cap"),
        excl_xr=policy.value(p + "base_excludes_xr_reduction"),
        over_cap_ratio=ocr, deductible=deductible, bands=bands, cap=cap, uses=tuple(uses),
        nego_only=nego_only,
    )  # fmt: skip


def _tilt(
    policy: ResolvedPolicy, p: str, deductible: int, bands: Bands, cap: int | None,
    uses: list[Used],
) -> tuple[int, Bands, int | None]:  # fmt: skip
    """The tilt for special groups (倾斜人群): deductible, bands and cap."""
    if policy.value(p + "tilt_deductible") is not None:
        deductible = policy.value(p + "tilt_deductible")
        uses.append(used(policy, p + "tilt_deductible", deductible))
    else:
        factor: int = policy.value(p + "tilt_deductible_factor")
        deductible = apply_ratio_units(deductible, factor)
        uses.append(used(policy, p + "tilt_deductible_factor", factor))
    if policy.value(p + "tilt_bands") is not None:
        bands = policy.value(p + "tilt_bands")
        uses.append(used(policy, p + "tilt_bands", bands))
    else:
        pp: int = policy.value(p + "tilt_plus_pp")
        bands = tuple((f, min(10_000, u + pp)) for f, u in bands)
        uses.append(used(policy, p + "tilt_plus_pp", pp))
    if policy.value(p + "tilt_no_cap"):
        cap = None
        uses.append(used(policy, p + "tilt_no_cap", True))
    return deductible, bands, cap


def _xr_reason(scope: str | None, filing: str) -> str:
    """``跨省异地就医（未备案），参保地规定不予统筹支付``."""
    where = KEY_LABELS.get(scope or "", "异地") + "就医"
    return f"{where}（{KEY_LABELS.get(filing, filing)}），参保地规定不予统筹支付"
