"""Reforms (改革方案): dated patches of policy parameters, in the ``policies/`` format.

A reform file names the regions it changes and, for each, parameters written exactly as in a
region file (docs/policy-format.md), so a reform is read by the same validator and a refusal
names ``file: key@date: rule``. OpenFisca's idea: a reform is a parameter modifier, applied to
the baseline tree, never an edit of it::

    reform: xingning-dedc-500
    name: 兴宁 居民三级医院住院起付线 650 → 500
    description: optional text
    regions:
      "441481":
        parameters:
          resident.inpatient.deductible:
            values:
              2025-01-01:
                value: {default: {default: 200, "2": 450, "3": 500}}
                reference: 测算方案A (2025)
    funds:                       # optional: fund-side parameters (see simulation.income)
      "440300":
        parameters:
          funds.employee.relief_share:
            values:
              2020-02-01: {value: 0.5, reference: 粤医保函〔2020〕62号 (2020)}
              2020-07-01: {value: 0, reference: 粤医保函〔2020〕62号 (2020) 减征5个月}

A patched key takes the reform's value from its date on; before it (and for keys the reform does
not name) the baseline applies. Pure: parsing takes text, applying returns a new tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from yibao.policy.loader import (
    DatedValue,
    PolicyFileError,
    PolicyTree,
    RegionFile,
    TextDateLoader,
    parse_values,
)
from yibao.policy.schema import SPECS
from yibao.policy.spec import ParamSpec

_TOP = {"reform", "name", "description", "regions", "funds"}
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")

Patches = dict[str, dict[str, tuple[DatedValue, ...]]]  # admdvs → key → dated values


@dataclass(frozen=True)
class Reform:
    """One validated reform: settlement-parameter patches and fund-side patches by region."""

    id: str
    name: str
    description: str
    path: str
    regions: Patches
    funds: Patches

    def summary(self) -> list[tuple[str, str, str, str]]:
        """(region, key, since, value as written) for every patched value (for reports)."""
        from yibao.policy.values import shown

        out = []
        for part in (self.regions, self.funds):
            for admdvs, params in sorted(part.items()):
                for key, values in sorted(params.items()):
                    out += [(admdvs, key, v.since.isoformat(), shown(v.raw)) for v in values]
        return out


def _patches(
    file: str, section: str, raw: Any, specs: dict[str, ParamSpec], regions: set[str] | None
) -> Patches:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PolicyFileError(file, section, "must map region codes to {parameters: …}")
    out: Patches = {}
    for code, body in raw.items():
        admdvs = str(code)
        where = f"{section}.{admdvs}"
        if not re.fullmatch(r"\d{6}", admdvs):
            raise PolicyFileError(file, where, f"{code!r} is not a 6-digit region code")
        if regions is not None and admdvs not in regions:
            raise PolicyFileError(file, where, f"region {admdvs} has no policy file")
        if not isinstance(body, dict) or set(body) != {"parameters"}:
            raise PolicyFileError(file, where, "needs exactly one key 'parameters'")
        params = body["parameters"]
        if not isinstance(params, dict) or not params:
            raise PolicyFileError(file, where + ".parameters", "must map keys to {values}")
        out[admdvs] = {}
        for key, entry in params.items():
            spec = specs.get(str(key))
            if spec is None:
                raise PolicyFileError(
                    file, str(key), "unknown key (see docs/policy-format.md, docs/simulation.md)"
                )
            out[admdvs][str(key)] = parse_values(file, str(key), spec, entry)
    return out


def parse_reform(
    path: Path | str,
    text: str | None = None,
    tree: PolicyTree | None = None,
    fund_regions: set[str] | None = None,
) -> Reform:
    """Read and validate one reform file (against the regions of ``tree`` when given)."""
    from yibao.simulation.income import FUND_SPECS

    file = str(path)
    try:
        raw = yaml.load(
            text if text is not None else Path(path).read_text(encoding="utf-8"), TextDateLoader
        )
    except yaml.YAMLError as exc:
        raise PolicyFileError(file, "-", f"not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise PolicyFileError(file, "-", "a reform is a mapping with reform, name, regions")
    extra = set(map(str, raw)) - _TOP
    if extra:
        raise PolicyFileError(file, ",".join(sorted(extra)), "unknown top-level key")
    rid = str(raw.get("reform") or "")
    if not _ID.fullmatch(rid):
        raise PolicyFileError(
            file, "reform", f"{raw.get('reform')!r}: an id of lower-case letters, digits, - or _"
        )
    if rid == "baseline":
        raise PolicyFileError(file, "reform", "'baseline' is the name of the unreformed policy")
    name = str(raw.get("name") or "").strip()
    if not name:
        raise PolicyFileError(file, "name", "a reform needs a name (shown in reports)")
    regions = _patches(
        file, "regions", raw.get("regions"), SPECS, None if tree is None else set(tree.regions)
    )
    funds = _patches(file, "funds", raw.get("funds"), FUND_SPECS, fund_regions)
    if not regions and not funds:
        raise PolicyFileError(file, "regions", "a reform must change at least one parameter")
    return Reform(rid, name, str(raw.get("description") or ""), file, regions, funds)


def merge(values: tuple[DatedValue, ...], patch: tuple[DatedValue, ...]) -> tuple[DatedValue, ...]:
    """Dated values with the patch's: a patch value replaces one of the same date."""
    dates = {p.since for p in patch}
    kept = [v for v in values if v.since not in dates]
    return tuple(sorted([*kept, *patch], key=lambda v: v.since))


def apply_patches(tree: PolicyTree, patches: Patches) -> PolicyTree:
    """A new tree with ``patches`` applied (the baseline ``tree`` is not changed)."""
    regions = dict(tree.regions)
    for admdvs, params in patches.items():
        region: RegionFile = regions[admdvs]
        merged = dict(region.params)
        for key, values in params.items():
            merged[key] = merge(merged.get(key, ()), values)
        regions[admdvs] = replace(region, params=merged)
    return PolicyTree(regions)


def change_dates(tree: PolicyTree, admdvs: str) -> list[Any]:
    """Every date on which some parameter of ``admdvs`` (or a region it inherits from) changes."""
    days: set[Any] = set()
    for region in tree.chain(admdvs):
        for values in region.params.values():
            days.update(v.since for v in values)
    return sorted(days)
