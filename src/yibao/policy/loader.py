"""Policy parameter files (政策参数文件): load, validate, inherit, resolve for a date.

One YAML file per pooling region (统筹区) under ``policies/`` (any sub-folder)::

    admdvs: "440300"
    name: 深圳市
    parent: "440000"            # inherit every key the city does not set
    parameters:
      resident.inpatient.deductible:
        values:
          2023-10-01:
            value: {default: {"0": 200, "1": 200, "2": 400, "3": 600}}
            reference: 《深圳市医疗保障办法》(市政府令第358号) 2023

Every value needs ``reference`` (document and year) or ``assumed: true`` with ``reason``.
A bad file is refused with :class:`PolicyFileError` naming the file, the key and the rule.
See docs/policy-format.md.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from yibao.codes import is_valid as is_valid_code
from yibao.money import MoneyError, parse_ratio, ratio_units, yuan_to_fen
from yibao.policy.model import (
    DIMENSIONS,
    XR_ADJUSTMENTS,
    Cap,
    CapStep,
    DiseaseRule,
    ParamUse,
    PolicyError,
    ResolvedParam,
    ResolvedPolicy,
    XrRule,
)
from yibao.policy.schema import SETTING_NAMES, SPECS, ParamSpec

_YEAR = re.compile(r"(19|20)\d\d")
_TOP_KEYS = {"admdvs", "name", "parent", "parameters", "description"}
_VALUE_KEYS = {"value", "reference", "assumed", "reason", "note"}
_MED_TYPE_SETTINGS = (*SETTING_NAMES, "account_only")


class PolicyFileError(PolicyError):
    """A policy file refused at load: ``file: key: rule``."""

    def __init__(self, file: str, key: str, rule: str) -> None:
        super().__init__(f"{file}: {key}: {rule}")
        self.file, self.key, self.rule = file, key, rule


@dataclass(frozen=True, slots=True)
class DatedValue:
    since: date
    raw: Any
    value: Any
    reference: str
    assumed: bool


@dataclass(frozen=True, slots=True)
class RegionFile:
    admdvs: str
    name: str
    parent: str | None
    path: str
    params: dict[str, tuple[DatedValue, ...]]  # ascending by date


# --------------------------------------------------------------------------- value normalisation


class _Bad(Exception):
    """Internal: a rule broken inside a value (becomes PolicyFileError with file and key)."""


def _amount(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or raw is None:
        raise _Bad(f"{where}: expected an amount in yuan, got {raw!r}")
    try:
        fen = yuan_to_fen(raw, where)
    except MoneyError as exc:
        raise _Bad(str(exc)) from exc
    if fen < 0:
        raise _Bad(f"{where}: amount {raw!r} is negative")
    return fen


def _ratio(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or raw is None:
        raise _Bad(f"{where}: expected a ratio 0..1, got {raw!r}")
    try:
        return ratio_units(parse_ratio(raw, where))
    except MoneyError as exc:
        raise _Bad(str(exc)) from exc


def _bands(raw: Any, where: str) -> tuple[tuple[int, int], ...]:
    if not isinstance(raw, list) or not raw:
        raise _Bad(f"{where}: bands must be a non-empty list of {{from, ratio}}")
    out: list[tuple[int, int]] = []
    for i, band in enumerate(raw):
        if not isinstance(band, dict) or set(band) != {"from", "ratio"}:
            raise _Bad(f"{where}[{i}]: a band needs exactly 'from' (yuan) and 'ratio'")
        start = _amount(band["from"], f"{where}[{i}].from")
        if out and start <= out[-1][0]:
            raise _Bad(
                f"{where}[{i}]: bands not ascending ('from' {band['from']} not above the previous)"
            )
        out.append((start, _ratio(band["ratio"], f"{where}[{i}].ratio")))
    return tuple(out)


def _cap(raw: Any, where: str) -> Cap:
    if raw == "none":
        return Cap(None)
    if isinstance(raw, int | float | str | Decimal) and not isinstance(raw, bool):
        return Cap((CapStep(0, _amount(raw, where), None),))
    if not isinstance(raw, list) or not raw:
        raise _Bad(
            f"{where}: a cap is 'none', an amount, or a list of {{from_months, amount|wage_multiple}}"
        )
    steps: list[CapStep] = []
    for i, step in enumerate(raw):
        if not isinstance(step, dict) or "from_months" not in step:
            raise _Bad(f"{where}[{i}]: a cap step needs 'from_months'")
        extra = set(step) - {"from_months", "amount", "wage_multiple"}
        if extra:
            raise _Bad(f"{where}[{i}]: unknown field(s) {sorted(extra)}")
        months = step["from_months"]
        if not isinstance(months, int) or isinstance(months, bool) or months < 0:
            raise _Bad(f"{where}[{i}].from_months: must be a whole number ≥ 0")
        if steps and months <= steps[-1].from_months:
            raise _Bad(f"{where}[{i}]: cap steps not ascending by from_months")
        if not steps and months != 0:
            raise _Bad(f"{where}[0].from_months: the first step must start at 0 months")
        if ("amount" in step) == ("wage_multiple" in step):
            raise _Bad(f"{where}[{i}]: give exactly one of 'amount' or 'wage_multiple'")
        if "amount" in step:
            steps.append(CapStep(months, _amount(step["amount"], f"{where}[{i}].amount"), None))
        else:
            mult = step["wage_multiple"]
            try:
                d = Decimal(str(mult))
            except Exception as exc:
                raise _Bad(f"{where}[{i}].wage_multiple: {mult!r} is not a number") from exc
            if d <= 0 or d != d.quantize(Decimal("0.0001")):
                raise _Bad(f"{where}[{i}].wage_multiple: must be > 0 with ≤ 4 decimals")
            steps.append(CapStep(months, None, int(d * 10_000)))
    return Cap(tuple(steps))


def _xr_rule(raw: Any, where: str) -> XrRule:
    if not isinstance(raw, dict) or "adjust" not in raw:
        raise _Bad(
            f"{where}: a cross-region rule needs 'adjust' (one of {', '.join(XR_ADJUSTMENTS)})"
        )
    extra = set(raw) - {"adjust", "value", "deductible"}
    if extra:
        raise _Bad(f"{where}: unknown field(s) {sorted(extra)}")
    adjust = raw["adjust"]
    if adjust not in XR_ADJUSTMENTS:
        raise _Bad(f"{where}.adjust: {adjust!r} is not one of {', '.join(XR_ADJUSTMENTS)}")
    needs_value = adjust in ("multiply", "minus_pp", "set_ratio", "extra_first_pay")
    if needs_value and "value" not in raw:
        raise _Bad(f"{where}: adjust '{adjust}' needs a 'value' ratio")
    units = _ratio(raw["value"], f"{where}.value") if "value" in raw else 0
    ded = _amount(raw["deductible"], f"{where}.deductible") if "deductible" in raw else None
    return XrRule(adjust, units, ded)


def _diseases(raw: Any, where: str) -> dict[str, DiseaseRule]:
    if not isinstance(raw, dict):
        raise _Bad(
            f"{where}: the disease list is a mapping code → {{name, limit, ratio, deductible}}"
        )
    out: dict[str, DiseaseRule] = {}
    for code, spec in raw.items():
        w = f"{where}.{code}"
        if not isinstance(spec, dict) or "name" not in spec:
            raise _Bad(f"{w}: each disease needs at least a 'name'")
        extra = set(spec) - {"name", "limit", "ratio", "deductible"}
        if extra:
            raise _Bad(f"{w}: unknown field(s) {sorted(extra)}")
        limit = spec.get("limit", "none")
        ratio = spec.get("ratio")
        out[str(code)] = DiseaseRule(
            code=str(code),
            name=str(spec["name"]),
            limit=None if limit == "none" else _amount(limit, f"{w}.limit"),
            ratio=None if ratio is None else _ratio_or_bands(ratio, f"{w}.ratio"),
            deductible=None
            if spec.get("deductible") is None
            else _amount(spec["deductible"], f"{w}.deductible"),
        )
    return out


def _ratio_or_bands(raw: Any, where: str) -> int | tuple[tuple[int, int], ...]:
    if isinstance(raw, list):
        return _bands(raw, where)
    return _ratio(raw, where)


def _leaf(spec: ParamSpec, raw: Any, where: str, key: str = "") -> Any:
    kind = spec.kind
    if raw is None:
        if spec.has_default and spec.default is None:
            return None
        raise _Bad(f"{where}: a value is required")
    if kind == "amount":
        return _amount(raw, where)
    if kind == "ratio":
        return _ratio(raw, where)
    if kind == "int":
        if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
            raise _Bad(f"{where}: expected a whole number ≥ 0, got {raw!r}")
        return raw
    if kind == "bool":
        if not isinstance(raw, bool):
            raise _Bad(f"{where}: expected true or false, got {raw!r}")
        return raw
    if kind == "enum":
        if str(raw) not in spec.choices:
            raise _Bad(
                f"{where}: {raw!r} is not one of {', '.join(c or '(empty)' for c in spec.choices)}"
            )
        return str(raw)
    if kind == "codes":
        if not isinstance(raw, list) or not all(isinstance(c, str | int) for c in raw):
            raise _Bad(f"{where}: expected a list of codes")
        codes = [str(c) for c in raw]
        if key.endswith(".settings"):
            for c in codes:
                if c not in SETTING_NAMES:
                    raise _Bad(f"{where}: {c!r} is not one of {', '.join(SETTING_NAMES)}")
        if key.endswith(".unit_types"):
            for c in codes:
                if not is_valid_code("emp_type", c):
                    raise _Bad(f"{where}: {c!r} is not a unit type (code table emp_type 单位类型)")
        if key.endswith(".tilt_classes"):
            for c in codes:
                if c not in DIMENSIONS["class"]:
                    raise _Bad(
                        f"{where}: {c!r} is not an assistance class ({', '.join(DIMENSIONS['class'])})"
                    )
        return tuple(codes)
    if kind == "bands":
        return _bands(raw, where)
    if kind == "ratio_or_bands":
        return _ratio_or_bands(raw, where)
    if kind == "cap":
        return _cap(raw, where)
    if kind == "xr_rule":
        return _xr_rule(raw, where)
    if kind == "diseases":
        return _diseases(raw, where)
    if kind == "setting_map":
        if not isinstance(raw, dict):
            raise _Bad(f"{where}: expected a mapping med_type → setting")
        out: dict[str, str] = {}
        for k, v in raw.items():
            if v not in _MED_TYPE_SETTINGS:
                raise _Bad(f"{where}.{k}: {v!r} is not one of {', '.join(_MED_TYPE_SETTINGS)}")
            out[str(k)] = str(v)
        return out
    raise _Bad(f"{where}: unknown kind {kind}")  # pragma: no cover - schema bug


def _is_leaf(spec: ParamSpec, raw: Any) -> bool:
    if not isinstance(raw, dict):
        return True
    if spec.kind == "xr_rule":
        return "adjust" in raw
    return spec.kind in ("diseases", "setting_map")


def normalise(key: str, spec: ParamSpec, raw: Any, where: str) -> Any:
    """Validate ``raw`` against ``spec`` (walking its dimension tables) and convert it."""

    def walk(node: Any, depth: int, w: str) -> Any:
        if _is_leaf(spec, node):
            return _leaf(spec, node, w, key)
        if depth >= len(spec.dims):
            raise _Bad(
                f"{w}: table is deeper than the dimensions ({', '.join(spec.dims) or 'none'})"
            )
        dim = spec.dims[depth]
        allowed = DIMENSIONS[dim]
        out: dict[str, Any] = {}
        for k, v in node.items():
            ks = str(k)
            if ks != "default" and ks not in allowed:
                raise _Bad(f"{w}: {ks!r} is not a {dim} ({', '.join(allowed)} or default)")
            out[ks] = walk(v, depth + 1, f"{w}.{ks}")
        return out

    return walk(raw, 0, where)


def shown(raw: Any) -> str:
    """A compact display of a value as written (for trace and `policy show`)."""
    if isinstance(raw, str):
        return raw
    return json.dumps(raw, ensure_ascii=False, default=str, separators=(",", ":"))


def _date(raw: Any, file: str, key: str) -> date:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError as exc:
        raise PolicyFileError(file, key, f"{raw!r} is not a date (YYYY-MM-DD)") from exc


def parse_values(file: str, key: str, spec: ParamSpec, entry: Any) -> tuple[DatedValue, ...]:
    """Validate one parameter's ``values`` block."""
    if not isinstance(entry, dict) or "values" not in entry:
        raise PolicyFileError(
            file, key, "a parameter needs a 'values' mapping keyed by effective date"
        )
    extra = set(entry) - {"values", "description"}
    if extra:
        raise PolicyFileError(file, key, f"unknown field(s) {sorted(extra)}")
    values = entry["values"]
    if not isinstance(values, dict) or not values:
        raise PolicyFileError(file, key, "'values' must map effective dates to values")
    out: list[DatedValue] = []
    for raw_date, item in values.items():
        since = _date(raw_date, file, key)
        k = f"{key}@{since.isoformat()}"
        if not isinstance(item, dict) or "value" not in item:
            raise PolicyFileError(file, k, "each dated entry needs 'value'")
        extra = set(item) - _VALUE_KEYS
        if extra:
            raise PolicyFileError(file, k, f"unknown field(s) {sorted(extra)}")
        assumed = item.get("assumed", False)
        if assumed is True:
            reason = str(item.get("reason") or "").strip()
            if not reason:
                raise PolicyFileError(file, k, "assumed: true needs a 'reason'")
            reference = reason
        else:
            if assumed is not False:
                raise PolicyFileError(file, k, "assumed must be true or false")
            reference = str(item.get("reference") or "").strip()
            if not reference:
                raise PolicyFileError(file, k, "missing reference (or assumed: true with a reason)")
            if not _YEAR.search(reference):
                raise PolicyFileError(file, k, "reference must name the document and its year")
        try:
            value = normalise(key, spec, item["value"], "value")
        except _Bad as exc:
            raise PolicyFileError(file, k, str(exc)) from exc
        out.append(DatedValue(since, item["value"], value, reference, bool(assumed)))
    out.sort(key=lambda d: d.since)
    return tuple(out)


class TextDateLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text, so a bad date is reported by key, not by YAML."""


TextDateLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_region(path: Path | str, text: str | None = None) -> RegionFile:
    """Read and validate one region file."""
    file = str(path)
    try:
        raw = yaml.load(
            text if text is not None else Path(path).read_text(encoding="utf-8"), TextDateLoader
        )
    except yaml.YAMLError as exc:
        raise PolicyFileError(file, "-", f"not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise PolicyFileError(file, "-", "the file must be a mapping with admdvs, name, parameters")
    extra = set(raw) - _TOP_KEYS
    if extra:
        raise PolicyFileError(file, ",".join(sorted(extra)), "unknown top-level key")
    admdvs = str(raw.get("admdvs") or "")
    if not re.fullmatch(r"\d{6}", admdvs):
        raise PolicyFileError(file, "admdvs", f"{raw.get('admdvs')!r} is not a 6-digit region code")
    parent = raw.get("parent")
    if parent is not None and not re.fullmatch(r"\d{6}", str(parent)):
        raise PolicyFileError(file, "parent", f"{parent!r} is not a 6-digit region code")
    params_raw = raw.get("parameters") or {}
    if not isinstance(params_raw, dict):
        raise PolicyFileError(file, "parameters", "must be a mapping key → {values}")
    params: dict[str, tuple[DatedValue, ...]] = {}
    for key, entry in params_raw.items():
        spec = SPECS.get(str(key))
        if spec is None:
            raise PolicyFileError(file, str(key), "unknown key (see docs/policy-format.md)")
        params[str(key)] = parse_values(file, str(key), spec, entry)
    return RegionFile(
        admdvs,
        str(raw.get("name") or admdvs),
        None if parent is None else str(parent),
        file,
        params,
    )


# --------------------------------------------------------------------------- the tree


def policy_dir() -> Path:
    """Where shipped policies live: ``YIBAO_POLICY_DIR`` or the repository's ``policies/``."""
    return _policy_dir(os.environ.get("YIBAO_POLICY_DIR"))


@lru_cache(maxsize=8)
def _policy_dir(env: str | None) -> Path:
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[3] / "policies"
    return here if here.is_dir() else Path.cwd() / "policies"


@dataclass(frozen=True)
class PolicyTree:
    """All region files, by admdvs."""

    regions: dict[str, RegionFile]

    def chain(self, admdvs: str) -> list[RegionFile]:
        if admdvs not in self.regions:
            raise PolicyError(f"{admdvs}: no policy file for this region (统筹区无政策参数)")
        out: list[RegionFile] = []
        code: str | None = admdvs
        while code is not None:
            region = self.regions.get(code)
            if region is None:
                raise PolicyError(f"{out[-1].path}: parent: region {code} has no policy file")
            if region in out:
                raise PolicyError(f"{region.path}: parent: inheritance loop through {code}")
            out.append(region)
            code = region.parent
        return out


def load_tree(folder: Path | str | None = None) -> PolicyTree:
    """Load and validate every ``*.yaml`` region file under ``folder``."""
    root = Path(folder) if folder is not None else policy_dir()
    regions: dict[str, RegionFile] = {}
    for path in sorted(root.rglob("*.yaml")):
        region = parse_region(path)
        if region.admdvs in regions:
            raise PolicyFileError(
                str(path),
                "admdvs",
                f"{region.admdvs} already defined in {regions[region.admdvs].path}",
            )
        regions[region.admdvs] = region
    for region in regions.values():
        if region.parent is not None and region.parent not in regions:
            raise PolicyFileError(
                region.path, "parent", f"region {region.parent} has no policy file"
            )
    tree = PolicyTree(regions)
    for code in regions:
        tree.chain(code)  # refuses loops
    return tree


@lru_cache(maxsize=4)
def _cached_tree(folder: str) -> PolicyTree:
    return load_tree(folder)


def default_tree() -> PolicyTree:
    return _cached_tree(str(policy_dir()))


def _in_force(values: tuple[DatedValue, ...], on: date) -> DatedValue | None:
    found = None
    for v in values:
        if v.since <= on:
            found = v
        else:
            break
    return found


def resolve_in(
    tree: PolicyTree, admdvs: str, on: date, overrides: Mapping[str, Any] | None = None
) -> ResolvedPolicy:
    """Every parameter in force on ``on`` for ``admdvs``: the most specific region's latest value
    dated on or before ``on``; then schema defaults; then ``overrides`` (key → {value, reference}
    or a bare value, for what-if and reference cases)."""
    chain = tree.chain(admdvs)
    params: dict[str, ResolvedParam] = {}
    for key, spec in SPECS.items():
        for region in chain:
            values = region.params.get(key)
            if not values:
                continue
            v = _in_force(values, on)
            if v is None:
                continue
            use = ParamUse(
                key, spec.label, shown(v.raw), v.since, v.reference, v.assumed, region.admdvs
            )
            params[key] = ResolvedParam(v.value, use)
            break
        else:
            if spec.has_default:
                value = normalise(key, spec, spec.default, "default")
                use = ParamUse(
                    key,
                    spec.label,
                    shown(spec.default),
                    date(1900, 1, 1),
                    "参数目录默认值(未设置)",
                    False,
                    "-",
                )
                params[key] = ResolvedParam(value, use)
    for key, entry in (overrides or {}).items():
        ospec = SPECS.get(key)
        if ospec is None:
            raise PolicyFileError("overrides", key, "unknown key (see docs/policy-format.md)")
        if isinstance(entry, dict) and "value" in entry and set(entry) <= _VALUE_KEYS:
            raw, ref = entry["value"], str(entry.get("reference") or entry.get("reason") or "")
        else:
            raw, ref = entry, ""
        try:
            value = normalise(key, ospec, raw, "value")
        except _Bad as exc:
            raise PolicyFileError("overrides", key, str(exc)) from exc
        use = ParamUse(
            key, ospec.label, shown(raw), on, ref or "测算/案例覆盖值(override)", False, "override"
        )
        params[key] = ResolvedParam(value, use)
    return ResolvedPolicy(admdvs, chain[0].name, on, tuple(r.admdvs for r in chain), params)


@lru_cache(maxsize=512)
def _cached_resolve(folder: str, admdvs: str, on: date) -> ResolvedPolicy:
    return resolve_in(_cached_tree(folder), admdvs, on)


def resolve(admdvs: str, on: date, overrides: Mapping[str, Any] | None = None) -> ResolvedPolicy:
    """The policy in force for ``admdvs`` on ``on`` from the shipped policies (cached per
    region and date; overrides bypass the cache)."""
    folder = str(_policy_dir(os.environ.get("YIBAO_POLICY_DIR")))
    if overrides:
        return resolve_in(_cached_tree(folder), admdvs, on, overrides)
    return _cached_resolve(folder, admdvs, on)


def clear_cache() -> None:
    """Forget loaded files (after editing policies in a running process)."""
    _cached_tree.cache_clear()
    _cached_resolve.cache_clear()
