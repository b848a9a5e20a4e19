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

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from yibao.policy.model import (
    ParamUse,
    PolicyError,
    ResolvedParam,
    ResolvedPolicy,
)
from yibao.policy.schema import MOVED, SPECS
from yibao.policy.spec import ParamSpec
from yibao.policy.values import Bad, normalise, shown

_YEAR = re.compile(r"(19|20)\d\d")
_TOP_KEYS = {"admdvs", "name", "parent", "parameters", "description"}
_VALUE_KEYS = {"value", "reference", "assumed", "reason", "note"}


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
        except Bad as exc:
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
            if str(key) in MOVED:
                raise PolicyFileError(file, str(key), f"no longer a policy key: {MOVED[str(key)]}")
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
                    "各级政策文件均未设置此参数，取参数目录默认值",
                    False,
                    "-",
                )
                params[key] = ResolvedParam(value, use)
    for key, entry in (overrides or {}).items():
        ospec = SPECS.get(key)
        if ospec is None:
            why = f"no longer a policy key: {MOVED[key]}" if key in MOVED else "unknown key"
            raise PolicyFileError("overrides", key, f"{why} (see docs/policy-format.md)")
        assumed = False
        if isinstance(entry, dict) and "value" in entry and set(entry) <= _VALUE_KEYS:
            raw, ref = entry["value"], str(entry.get("reference") or entry.get("reason") or "")
            assumed = entry.get("assumed") is True
        else:
            raw, ref = entry, ""
        try:
            value = normalise(key, ospec, raw, "value")
        except Bad as exc:
            raise PolicyFileError("overrides", key, str(exc)) from exc
        use = ParamUse(
            key,
            ospec.label,
            shown(raw),
            on,
            ref or "测算/案例覆盖值(override)",
            assumed,
            "override",
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
