"""Rule tables (规则表): the policy in force, resolved once per distinct key, as integer rows.

The vectorised engine never reads a policy per bill. Bills are reduced to small integer keys
(region, policy epoch, scheme, med_type, group chain, level, scope, filing, disease, class); each
distinct key is resolved here, through the public policy API (``ResolvedPolicy.value/pick``), into
a row of integers (fen, 1/10000 ratio units, flags, padded band and cap-step columns). The engine
gathers rows by key. Adding a rule variant = a field here and its use in :mod:`.kernel`.

This mirrors the rule selection of :func:`yibao.settlement.engine.settle`; the agreement tests
(tests/unit/simulation/test_agreement.py) hold the two together to the fen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from yibao.money import apply_ratio_units
from yibao.policy.loader import PolicyTree, resolve_in
from yibao.policy.model import XR_NONE, Bands, Cap, ItemClass, ResolvedPolicy, XrRule

CMAX = 4  # item classes with their own ratio per rule
KMAX = 8  # band pieces per rule (a region with more bands is refused, naming the key)
SMAX = 8  # cap steps per cap
NONE = -1  # "not set" in integer columns
SETTINGS = ("inpatient", "outpatient", "chronic")
POOLS = ("inpatient", "outpatient", "chronic", "basic")
XR_CODES = {"none": 0, "multiply": 1, "minus_pp": 2, "set_ratio": 3, "extra_first_pay": 4}
XR_CODES["not_paid"] = 5
FUND_TYPES = ("390200", "330100", "310300", "390300")  # 大病/大额 setldetail codes


SERIOUS_OFF: dict[str, Any] = {
    "on": 0, "fpt": 0, "copay": 0, "dedc": 0, "over": 0, "excl_xr": 0, "ocr": NONE, "ded": 0,
    "nego_only": 0, "bands": [], "cap": [],
}  # fmt: skip
CIVIL_OFF: dict[str, Any] = {"on": 0, "with_dedc": 0, "units": 0, "cap": []}
ASSIST_OFF: dict[str, Any] = {
    "on": 0, "with_dedc": 0, "ded": 0, "units": 0, "cap": [], "cap_set": [], "t_units": 0,
    "t_thr": 0, "t_cap": [],
}  # fmt: skip


class SimulationError(ValueError):
    """A bill or policy the simulation cannot replay: names the field and the rule."""


@dataclass(frozen=True)
class Scenario:
    """Baseline or one reform: a policy tree (and fund-side tree), with optional overrides."""

    id: str
    name: str
    tree: PolicyTree
    funds: PolicyTree | None = None
    overrides: dict[str, Any] | None = None  # case files only (what-if of one calculation)
    reform_path: str = ""


def _bands_cols(bands: Bands, key: str) -> list[tuple[int, int]]:
    if len(bands) > KMAX:
        raise SimulationError(f"{key}: more than {KMAX} bands are not supported by the simulation")
    return list(bands)


def _cap_cols(cap: Cap, wage: int) -> list[tuple[int, int]]:
    """Cap steps as (from_months, fen); [] = no cap (不设封顶)."""
    if cap.steps is None:
        return []
    if len(cap.steps) > SMAX:
        raise SimulationError(f"cap: more than {SMAX} steps are not supported")
    return [(s.from_months, Cap((s,)).amount_for(s.from_months, wage) or 0) for s in cap.steps]


def _adjust(units: int, rule: XrRule) -> int:
    if rule.adjust == "multiply":
        return apply_ratio_units(units, rule.value_units)
    if rule.adjust == "minus_pp":
        return max(0, units - rule.value_units)
    if rule.adjust == "set_ratio":
        return rule.value_units
    return units


def _adjust_bands(bands: Bands, rule: XrRule) -> Bands:
    if rule.adjust in ("multiply", "minus_pp", "set_ratio"):
        return tuple((f, _adjust(u, rule)) for f, u in bands)
    return bands


def _as_bands(ratio: int | Bands) -> Bands:
    return ((0, ratio),) if isinstance(ratio, int) else ratio


@dataclass
class Resolver:
    """Resolves rule rows for one scenario; caches policies and rows (per process)."""

    scenario: Scenario
    policies: dict[tuple[str, date], ResolvedPolicy] = field(default_factory=dict)
    rows: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)
    class_specs: list[ItemClass] = field(default_factory=list)  # item classes met so far
    tables: dict[str, Any] = field(default_factory=dict)  # gather-ready rule columns (engine)

    def policy(self, admdvs: str, on: date) -> ResolvedPolicy:
        hit = self.policies.get((admdvs, on))
        if hit is None:
            hit = resolve_in(self.scenario.tree, admdvs, on, self.scenario.overrides)
            self.policies[(admdvs, on)] = hit
        return hit

    def setting(self, admdvs: str, on: date, med_type: str) -> str:
        setting_map: dict[str, str] = self.policy(admdvs, on).value("med_type.setting")
        setting = setting_map.get(med_type)
        if setting is None:
            raise SimulationError(
                f"med_type: {med_type!r} 在 {admdvs} 没有对应的待遇类型 (med_type.setting)"
            )
        return setting

    def _cached(self, key: tuple[Any, ...], build: Any) -> dict[str, Any]:
        hit = self.rows.get(key)
        if hit is None:
            hit = build()
            self.rows[key] = hit
        return hit

    # ---------------------------------------------------------------------- per region/epoch

    def region_row(self, admdvs: str, on: date) -> dict[str, Any]:
        def build() -> dict[str, Any]:
            pol = self.policy(admdvs, on)
            return {
                "pays_ful": int(bool(pol.value("account.pays_fulamt_ownpay"))),
                "pays_over": int(bool(pol.value("account.pays_overlmt"))),
            }

        return self._cached(("region", admdvs, on), build)

    # ---------------------------------------------------------------------- basic line

    def basic_row(
        self, admdvs: str, on: date, scheme: str, med_type: str, chain: tuple[str, ...],
        level: str, scope: str | None, filing: str, dise: str | None,
    ) -> dict[str, Any]:  # fmt: skip
        key = ("basic", admdvs, on, scheme, med_type, chain, level, scope, filing, dise)
        return self._cached(
            key,
            lambda: self._basic(admdvs, on, scheme, med_type, chain, level, scope, filing, dise),
        )

    def _basic(
        self, admdvs: str, on: date, scheme: str, med_type: str, chain: tuple[str, ...],
        level: str, scope: str | None, filing: str, dise: str | None,
    ) -> dict[str, Any]:  # fmt: skip
        pol = self.policy(admdvs, on)
        setting = self.setting(admdvs, on, med_type)
        row: dict[str, Any] = {"setting": NONE, "covered": 0, "line": 0}
        if setting == "account_only":
            return _basic_defaults(row)
        row["setting"] = SETTINGS.index(setting)
        row["line"] = 1
        p = f"{scheme}.{setting}."
        covered = bool(pol.value(p + "covered"))
        disease = None
        if setting == "chronic" and covered:
            diseases = pol.value(p + "diseases")
            if dise is None or dise not in diseases:
                raise SimulationError(
                    f"dise_codg: {dise!r} 不在 {admdvs} 的门诊慢特病病种目录中 "
                    f"({', '.join(sorted(diseases)) or '目录为空'})"
                )
            disease = diseases[dise]
        if not covered:
            row["pool"] = SETTINGS.index(setting)
            return _basic_defaults(row)
        g, lv = chain, (level,)
        first: int = pol.pick(p + "deductible", g, lv)
        later = pol.pick(p + "deductible_later", g, lv)
        if disease is not None and disease.deductible is not None:
            first, later = disease.deductible, None
        ratio = pol.pick(p + "ratio", g, lv)
        if disease is not None and disease.ratio is not None:
            ratio = disease.ratio
        local = _as_bands(ratio)
        xr: XrRule = XR_NONE if scope is None else pol.pick(p + "cross_region", (scope,), (filing,))
        wage = pol.value("region.avg_wage_annual")
        row.update(
            covered=int(xr.adjust != "not_paid"),
            dedc_first=first,
            dedc_later=NONE if later is None else later,
            annual=int(pol.value(p + "deductible_mode") == "annual"),
            recharge=pol.value(p + "deductible_recharge_days"),
            exempt=int(med_type in pol.value(p + "deductible_exempt_med_types")),
            dedc_cap=pol.value(p + "deductible_annual_cap"),
            xr_dedc=NONE if xr.deductible is None else xr.deductible,
            extra_fp=xr.value_units if xr.adjust == "extra_first_pay" else 0,
            xr_ratio=int(xr.adjust in ("multiply", "minus_pp", "set_ratio")),
            bands=_bands_cols(_adjust_bands(local, xr), p + "ratio"),
            local=_bands_cols(local, p + "ratio"),
            cap=_cap_cols(pol.pick(p + "cap", g), wage),
            eligible=int(pol.value(p + "cap_basis") == "eligible"),
            pool=POOLS.index(pol.value(p + "cap_pool") or setting),
            dis_limit=NONE if disease is None or disease.limit is None else disease.limit,
            disease=int(disease is not None),
            classes=self._classes(pol, p, xr),
        )
        return row

    def _classes(self, pol: ResolvedPolicy, p: str, xr: XrRule) -> list[tuple[int, int, int]]:
        """Item classes paid at their own ratio (特定项目类别), in policy order:
        (class spec index, cross-region adjusted units, local units)."""
        ratios: dict[str, int] = pol.value(p + "class_ratio")
        if not ratios:
            return []
        defined: dict[str, ItemClass] = pol.value("catalog.item_classes")
        out = []
        for code, u in ratios.items():
            if code not in defined:
                raise SimulationError(
                    f"{pol.admdvs}: {p}class_ratio: class {code!r} is not defined in "
                    f"catalog.item_classes on {pol.on.isoformat()}"
                )
            spec = defined[code]
            if spec not in self.class_specs:
                self.class_specs.append(spec)
            out.append((self.class_specs.index(spec), _adjust(u, xr), u))
        if len(out) > CMAX:
            raise SimulationError(f"{p}class_ratio: more than {CMAX} item classes")
        return out

    # ---------------------------------------------------------------------- 大病 / 大额

    def serious_row(
        self, admdvs: str, on: date, scheme: str, med_type: str, scope: str | None, filing: str,
        cls: str | None,
    ) -> dict[str, Any]:  # fmt: skip
        key = ("serious", admdvs, on, scheme, med_type, scope, filing, cls)
        return self._cached(
            key, lambda: self._serious(admdvs, on, scheme, med_type, scope, filing, cls)
        )

    def _serious(
        self, admdvs: str, on: date, scheme: str, med_type: str, scope: str | None, filing: str,
        cls: str | None,
    ) -> dict[str, Any]:  # fmt: skip
        pol = self.policy(admdvs, on)
        setting = self.setting(admdvs, on, med_type)
        row: dict[str, Any] = dict(SERIOUS_OFF)
        if setting == "account_only":
            return row
        p = f"{scheme}.serious."
        in_line = setting in pol.value(p + "settings")
        nego_only = (
            not in_line and setting == "outpatient" and bool(pol.value(p + "nego_outpatient"))
        )
        if not (pol.value(p + "enabled") and (in_line or nego_only)):
            return row
        tilted = cls is not None and cls in pol.value(p + "tilt_classes")
        deductible: int = pol.value(p + "deductible")
        bands: Bands = pol.value(p + "bands")
        cap: Cap = pol.value(p + "cap")
        no_cap = False
        if tilted:
            if pol.value(p + "tilt_deductible") is not None:
                deductible = pol.value(p + "tilt_deductible")
            else:
                deductible = apply_ratio_units(deductible, pol.value(p + "tilt_deductible_factor"))
            if pol.value(p + "tilt_bands") is not None:
                bands = pol.value(p + "tilt_bands")
            else:
                pp: int = pol.value(p + "tilt_plus_pp")
                bands = tuple((f, min(10_000, u + pp)) for f, u in bands)
            no_cap = bool(pol.value(p + "tilt_no_cap"))
        if scope is not None:
            bands = _adjust_bands(bands, pol.pick(p + "cross_region", (scope,), (filing,)))
        ocr = pol.value(p + "over_cap_ratio")
        row.update(
            on=1,
            fpt=FUND_TYPES.index(pol.value(p + "fund_pay_type")),
            copay=int(bool(pol.value(p + "base_includes_copay"))),
            dedc=int(bool(pol.value(p + "base_includes_deductible"))),
            over=int(bool(pol.value(p + "base_includes_over_cap"))),
            excl_xr=int(bool(pol.value(p + "base_excludes_xr_reduction"))),
            ocr=NONE if ocr is None else ocr,
            ded=deductible,
            nego_only=int(nego_only),
            bands=_bands_cols(bands, p + "bands"),
            cap=[] if no_cap else _cap_cols(cap, pol.value("region.avg_wage_annual")),
        )
        return row

    # ---------------------------------------------------------------------- 公务员医疗补助

    def civil_row(
        self, admdvs: str, on: date, scheme: str, med_type: str, chain: tuple[str, ...]
    ) -> dict[str, Any]:
        key = ("civil", admdvs, on, scheme, med_type, chain)

        def build() -> dict[str, Any]:
            pol = self.policy(admdvs, on)
            setting = self.setting(admdvs, on, med_type)
            p = "employee.civil_servant."
            if not (
                setting != "account_only"
                and scheme == "employee"
                and pol.value(p + "enabled")
                and setting in pol.value(p + "settings")
            ):
                return dict(CIVIL_OFF)
            return {
                "on": 1,
                "with_dedc": int(bool(pol.value(p + "base_includes_deductible"))),
                "units": pol.pick(p + "ratio", chain),
                "cap": _cap_cols(pol.value(p + "cap"), pol.value("region.avg_wage_annual")),
            }

        return self._cached(key, build)

    # ---------------------------------------------------------------------- 医疗救助

    def assistance_row(self, admdvs: str, on: date, med_type: str, cls: str) -> dict[str, Any]:
        key = ("assist", admdvs, on, med_type, cls)

        def build() -> dict[str, Any]:
            pol = self.policy(admdvs, on)
            setting = self.setting(admdvs, on, med_type)
            p = "assistance."
            off = dict(ASSIST_OFF)
            if setting == "account_only" or not pol.value(p + "enabled"):
                return off
            if setting not in pol.value(p + "settings"):
                return off
            wage = pol.value("region.avg_wage_annual")
            t_units: int = pol.pick(p + "tilt_ratio", (cls,))
            return {
                "on": 1,
                "with_dedc": int(bool(pol.value(p + "base_includes_deductible"))),
                "ded": pol.pick(p + "deductible", (cls,), (setting,)),
                "units": pol.pick(p + "ratio", (cls,), (setting,)),
                "cap": _cap_cols(pol.pick(p + "cap", (cls,)), wage),
                "cap_set": _cap_cols(pol.pick(p + "setting_cap", (cls,), (setting,)), wage),
                "t_units": t_units,
                "t_thr": pol.pick(p + "tilt_threshold", (cls,)) if t_units else 0,
                "t_cap": _cap_cols(pol.pick(p + "tilt_cap", (cls,)), wage) if t_units else [],
            }

        return self._cached(key, build)


def _basic_defaults(row: dict[str, Any]) -> dict[str, Any]:
    base = {
        "covered": 0, "dedc_first": 0, "dedc_later": NONE, "annual": 0, "recharge": 0,
        "exempt": 0, "dedc_cap": 0, "xr_dedc": NONE, "extra_fp": 0, "xr_ratio": 0, "bands": [(0, 0)],
        "local": [(0, 0)], "cap": [], "eligible": 0, "pool": 0, "dis_limit": NONE, "disease": 0,
        "classes": [],
    }  # fmt: skip
    base.update(row)
    return base


# --------------------------------------------------------------------------- row → columns


def table(rows: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Stack rule rows into columns; ``bands``-like lists become padded ``name_from``/``name_u``
    (pieces) and ``cap``-like lists become ``name_n``/``name_m``/``name_a`` (steps)."""
    out: dict[str, np.ndarray] = {}
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r))
    n = len(rows)
    for name in names:
        listy = name in ("bands", "local", "classes") or name.startswith("cap") or name == "t_cap"
        values = [r.get(name, [] if listy else 0) for r in rows]
        if name == "classes":
            spec = np.zeros((n, CMAX), np.int64)
            units = np.zeros((n, CMAX), np.int64)
            local = np.zeros((n, CMAX), np.int64)
            cnt = np.zeros(n, np.int64)
            for i, classes in enumerate(values):
                cnt[i] = len(classes)
                for j, (sp, u, ul) in enumerate(classes):
                    spec[i, j], units[i, j], local[i, j] = sp, u, ul
            out["cls_n"], out["cls_s"], out["cls_u"], out["cls_ul"] = cnt, spec, units, local
        elif name in ("bands", "local"):
            frm = np.zeros((n, KMAX), np.int64)
            units = np.zeros((n, KMAX), np.int64)
            cnt = np.zeros(n, np.int64)
            for i, bands in enumerate(values):
                cnt[i] = len(bands)
                for k, (f, u) in enumerate(bands):
                    frm[i, k], units[i, k] = f, u
            out[name + "_from"], out[name + "_u"], out[name + "_k"] = frm, units, cnt
        elif listy:
            months = np.zeros((n, SMAX), np.int64)
            amounts = np.zeros((n, SMAX), np.int64)
            cnt = np.zeros(n, np.int64)
            for i, steps in enumerate(values):
                cnt[i] = len(steps)
                for k, (m, a) in enumerate(steps):
                    months[i, k], amounts[i, k] = m, a
            out[name + "_n"], out[name + "_m"], out[name + "_a"] = cnt, months, amounts
        else:
            out[name] = np.asarray(values, np.int64)
    return out
