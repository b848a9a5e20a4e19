"""Fund income for the projection (基金收入测算), behind a small interface.

The fund side (issue 13, ``yibao.funds``) will record real assessments (核定) and collections; until
the projection reads those, income is computed from documented assumptions: contribution base ×
rates × insured counts, dated per region in files of the same format as ``policies/`` (keys
``funds.…`` below, each value with a reference or ``assumed: true`` and a reason). A reform may
patch them; the rates themselves are policy data (``contribution.*``) and are reformed like any
other parameter (the 2020 employer-rate relief is ``contribution.relief.employer_rate``).

:class:`IncomeSource` is the interface the projection uses; :class:`AssumedIncome` implements it
from the assumption files. A ``FundsIncome`` reading ``yibao.funds`` assessments replaces it later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import yaml

from yibao.policy.loader import (
    DatedValue,
    PolicyFileError,
    PolicyTree,
    RegionFile,
    TextDateLoader,
    parse_values,
)
from yibao.policy.spec import ParamSpec

FUND_SPECS: dict[str, ParamSpec] = {
    k: ParamSpec(kind, label, (), default, (), default is not None)
    for k, kind, label, default in (
        ("funds.employee.contributors", "int", "职工医保在职缴费人数", None),
        ("funds.employee.retirees", "int", "职工医保退休人数", 0),
        ("funds.employee.avg_base_monthly", "amount", "月平均缴费基数", None),
        ("funds.employee.relief_eligible_share", "ratio", "可享受减征的缴费基数占比", 1),
        ("funds.employee.opening_months", "amount", "职工统筹基金期初可支付月数", None),
        ("funds.resident.insured", "int", "居民医保参保人数", None),
        ("funds.resident.opening_months", "amount", "居民医保基金期初可支付月数", None),
        ("funds.growth.wage", "ratio", "缴费基数年增长率", 0),
        ("funds.growth.insured", "ratio", "参保人数年增长率", 0),
        ("funds.growth.spending", "ratio", "基金支出年增长率", 0),
    )
}
"""Counts, bases, growth and opening positions: what the policy files do not hold. The rates
(费率), relief (减征), account shares (个人账户划入) and resident contributions come from the
policy files' ``contribution.*``/``account.*`` keys (yibao.funds, docs/policy-format.md)."""
SCHEMES = ("employee", "resident")
_TOP = {"admdvs", "name", "parent", "parameters", "description"}


class IncomeSource(Protocol):
    """What the projection needs from the fund side."""

    def monthly_income(self, admdvs: str, scheme: str, month: date) -> int:
        """Income of the pooled fund (统筹基金) of ``scheme`` in ``admdvs`` in ``month`` (fen)."""
        ...

    def value(self, admdvs: str, key: str, on: date) -> Any:
        """A fund-side parameter in force on ``on`` (opening balance, growth, scale)."""
        ...


def parse_fund_file(path: Path | str, text: str | None = None) -> RegionFile:
    """One fund-assumption file (same layout as a policy region file, ``funds.…`` keys)."""
    file = str(path)
    try:
        raw = yaml.load(
            text if text is not None else Path(path).read_text(encoding="utf-8"), TextDateLoader
        )
    except yaml.YAMLError as exc:
        raise PolicyFileError(file, "-", f"not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or not set(map(str, raw)) <= _TOP:
        raise PolicyFileError(file, "-", f"a mapping with the keys {', '.join(sorted(_TOP))}")
    admdvs = str(raw.get("admdvs") or "")
    if not re.fullmatch(r"\d{6}", admdvs):
        raise PolicyFileError(file, "admdvs", f"{raw.get('admdvs')!r} is not a 6-digit code")
    parent = raw.get("parent")
    params: dict[str, tuple[DatedValue, ...]] = {}
    for key, entry in (raw.get("parameters") or {}).items():
        spec = FUND_SPECS.get(str(key))
        if spec is None:
            raise PolicyFileError(file, str(key), "unknown key (see docs/simulation.md §5)")
        params[str(key)] = parse_values(file, str(key), spec, entry)
    return RegionFile(
        admdvs,
        str(raw.get("name") or admdvs),
        None if parent is None else str(parent),
        file,
        params,
    )


def load_fund_tree(folder: Path | str) -> PolicyTree:
    """Every fund-assumption file under ``folder`` (refused like policy files)."""
    regions: dict[str, RegionFile] = {}
    for path in sorted(Path(folder).rglob("*.yaml")):
        region = parse_fund_file(path)
        if region.admdvs in regions:
            raise PolicyFileError(str(path), "admdvs", f"{region.admdvs} defined twice")
        regions[region.admdvs] = region
    tree = PolicyTree(regions)
    for code in regions:
        tree.chain(code)
    return tree


def fund_value(tree: PolicyTree, admdvs: str, key: str, on: date) -> Any:
    """The value of ``key`` in force on ``on`` for ``admdvs`` (its file, then its parents)."""
    spec = FUND_SPECS[key]
    if admdvs in tree.regions:
        for region in tree.chain(admdvs):
            found = None
            for v in region.params.get(key, ()):
                if v.since <= on:
                    found = v
            if found is not None:
                return found.value
    if spec.has_default:
        return _default(spec)
    raise PolicyFileError(
        "funds", key, f"{admdvs}: no value in force on {on.isoformat()} (fund assumptions)"
    )


def _default(spec: ParamSpec) -> int:
    if spec.kind == "ratio":
        return int(Fraction(str(spec.default)) * 10_000)
    if spec.kind == "amount":
        return int(spec.default) * 100
    return int(spec.default)


def round_half_up(x: Fraction) -> int:
    """A non-negative or negative rational rounded half up on the absolute value (to the fen)."""
    sign = -1 if x < 0 else 1
    a = abs(x)
    q, r = divmod(a.numerator, a.denominator)
    if 2 * r >= a.denominator:
        q += 1
    return sign * q


def growth(units: int, years: int) -> Fraction:
    """(1 + g)^years for a rate in 1/10000 units (exact; years may be negative)."""
    return Fraction(10_000 + units, 10_000) ** years


@dataclass
class AssumedIncome:
    """Income of the pooled funds: the policy's rates (``contribution.*``, ``account.*``) ×
    the assumed contribution bases and insured counts, grown from ``base_year``.

    Employees: contributors × base × (employer rate, or the relief rate on the eligible share)
    × (1 − ``account.employer_share``) − retirees × ``account.retiree_monthly_credit`` (the
    employee's own 2 % goes to their account, not to the pool). Residents: insured ×
    (``contribution.resident.personal`` + ``subsidy`` − ``serious_per_capita``) ÷ 12.
    """

    tree: PolicyTree  # fund-side assumptions (simulation/funds)
    policy: PolicyTree  # the scenario's policy tree (rates may be reformed)
    base_year: int
    _resolved: dict[tuple[str, date], Any] = field(default_factory=dict)

    def value(self, admdvs: str, key: str, on: date) -> Any:
        return fund_value(self.tree, admdvs, key, on)

    def _rate(self, admdvs: str, key: str, on: date) -> Any:
        from yibao.policy.loader import resolve_in

        pol = self._resolved.get((admdvs, on))
        if pol is None:
            pol = self._resolved[(admdvs, on)] = resolve_in(self.policy, admdvs, on)
        return pol.value(key)

    def monthly_income(self, admdvs: str, scheme: str, month: date) -> int:
        def v(key: str) -> Any:
            return fund_value(self.tree, admdvs, key, month)

        def r(key: str) -> Any:
            return self._rate(admdvs, key, month)

        years = month.year - self.base_year
        insured_g = growth(v("funds.growth.insured"), years)
        if scheme == "employee":
            rate = Fraction(r("contribution.employee.employer_rate"), 10_000)
            relief = r("contribution.relief.employer_rate")
            if relief is not None:
                share = Fraction(v("funds.employee.relief_eligible_share"), 10_000)
                rate = rate * (1 - share) + Fraction(relief, 10_000) * share
            pool = 1 - Fraction(r("account.employer_share"), 10_000)
            base = v("funds.employee.avg_base_monthly") * growth(v("funds.growth.wage"), years)
            contributions = v("funds.employee.contributors") * insured_g * base * rate * pool
            credits = v("funds.employee.retirees") * insured_g * r("account.retiree_monthly_credit")
            return round_half_up(contributions - credits)
        if scheme == "resident":
            per_head = (
                r("contribution.resident.personal")
                + r("contribution.resident.subsidy")
                - r("contribution.resident.serious_per_capita")
            )
            return round_half_up(v("funds.resident.insured") * insured_g * per_head / 12)
        raise ValueError(f"scheme: {scheme!r} is not employee or resident")
