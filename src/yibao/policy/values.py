"""Parameter values (政策参数取值): validate a value as written in a policy file against its
catalogue entry (``yibao.policy.schema``) and convert it — amounts to fen, ratios to 1/10000
units, bands, caps, cross-region rules, 门慢特病 and item-class lists, tables over dimensions.

A broken rule raises :class:`Bad` naming the place inside the value; the loader adds the file
and key (``PolicyFileError``).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from yibao.codes import is_valid as is_valid_code
from yibao.money import MoneyError, parse_ratio, ratio_units, yuan_to_fen
from yibao.policy.model import (
    DIMENSIONS,
    XR_ADJUSTMENTS,
    Cap,
    CapStep,
    DiseaseRule,
    ItemClass,
    XrRule,
)
from yibao.policy.schema import SETTING_NAMES
from yibao.policy.spec import ParamSpec

_MED_TYPE_SETTINGS = (*SETTING_NAMES, "account_only")


class Bad(Exception):
    """Internal: a rule broken inside a value (becomes PolicyFileError with file and key)."""


def _amount(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or raw is None:
        raise Bad(f"{where}: expected an amount in yuan, got {raw!r}")
    try:
        fen = yuan_to_fen(raw, where)
    except MoneyError as exc:
        raise Bad(str(exc)) from exc
    if fen < 0:
        raise Bad(f"{where}: amount {raw!r} is negative")
    return fen


def _ratio(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or raw is None:
        raise Bad(f"{where}: expected a ratio 0..1, got {raw!r}")
    try:
        return ratio_units(parse_ratio(raw, where))
    except MoneyError as exc:
        raise Bad(str(exc)) from exc


def _bands(raw: Any, where: str) -> tuple[tuple[int, int], ...]:
    if not isinstance(raw, list) or not raw:
        raise Bad(f"{where}: bands must be a non-empty list of {{from, ratio}}")
    out: list[tuple[int, int]] = []
    for i, band in enumerate(raw):
        if not isinstance(band, dict) or set(band) != {"from", "ratio"}:
            raise Bad(f"{where}[{i}]: a band needs exactly 'from' (yuan) and 'ratio'")
        start = _amount(band["from"], f"{where}[{i}].from")
        if out and start <= out[-1][0]:
            raise Bad(
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
        raise Bad(
            f"{where}: a cap is 'none', an amount, or a list of {{from_months, amount|wage_multiple}}"
        )
    steps: list[CapStep] = []
    for i, step in enumerate(raw):
        if not isinstance(step, dict) or "from_months" not in step:
            raise Bad(f"{where}[{i}]: a cap step needs 'from_months'")
        extra = set(step) - {"from_months", "amount", "wage_multiple"}
        if extra:
            raise Bad(f"{where}[{i}]: unknown field(s) {sorted(extra)}")
        months = step["from_months"]
        if not isinstance(months, int) or isinstance(months, bool) or months < 0:
            raise Bad(f"{where}[{i}].from_months: must be a whole number ≥ 0")
        if steps and months <= steps[-1].from_months:
            raise Bad(f"{where}[{i}]: cap steps not ascending by from_months")
        if not steps and months != 0:
            raise Bad(f"{where}[0].from_months: the first step must start at 0 months")
        if ("amount" in step) == ("wage_multiple" in step):
            raise Bad(f"{where}[{i}]: give exactly one of 'amount' or 'wage_multiple'")
        if "amount" in step:
            steps.append(CapStep(months, _amount(step["amount"], f"{where}[{i}].amount"), None))
        else:
            mult = step["wage_multiple"]
            try:
                d = Decimal(str(mult))
            except Exception as exc:
                raise Bad(f"{where}[{i}].wage_multiple: {mult!r} is not a number") from exc
            if d <= 0 or d != d.quantize(Decimal("0.0001")):
                raise Bad(f"{where}[{i}].wage_multiple: must be > 0 with ≤ 4 decimals")
            steps.append(CapStep(months, None, int(d * 10_000)))
    return Cap(tuple(steps))


def _xr_rule(raw: Any, where: str) -> XrRule:
    if not isinstance(raw, dict) or "adjust" not in raw:
        raise Bad(
            f"{where}: a cross-region rule needs 'adjust' (one of {', '.join(XR_ADJUSTMENTS)})"
        )
    extra = set(raw) - {"adjust", "value", "deductible"}
    if extra:
        raise Bad(f"{where}: unknown field(s) {sorted(extra)}")
    adjust = raw["adjust"]
    if adjust not in XR_ADJUSTMENTS:
        raise Bad(f"{where}.adjust: {adjust!r} is not one of {', '.join(XR_ADJUSTMENTS)}")
    needs_value = adjust in ("multiply", "minus_pp", "set_ratio", "extra_first_pay")
    if needs_value and "value" not in raw:
        raise Bad(f"{where}: adjust '{adjust}' needs a 'value' ratio")
    units = _ratio(raw["value"], f"{where}.value") if "value" in raw else 0
    ded = _amount(raw["deductible"], f"{where}.deductible") if "deductible" in raw else None
    return XrRule(adjust, units, ded)


def _diseases(raw: Any, where: str) -> dict[str, DiseaseRule]:
    if not isinstance(raw, dict):
        raise Bad(
            f"{where}: the disease list is a mapping code → {{name, limit, ratio, deductible}}"
        )
    out: dict[str, DiseaseRule] = {}
    for code, spec in raw.items():
        w = f"{where}.{code}"
        if not isinstance(spec, dict) or "name" not in spec:
            raise Bad(f"{w}: each disease needs at least a 'name'")
        extra = set(spec) - {"name", "limit", "ratio", "deductible"}
        if extra:
            raise Bad(f"{w}: unknown field(s) {sorted(extra)}")
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


_CLASS_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _item_classes(raw: Any, where: str) -> dict[str, ItemClass]:
    if not isinstance(raw, dict):
        raise Bad(
            f"{where}: item classes are a mapping code → {{name, list_types, codes, min_price}}"
        )
    out: dict[str, ItemClass] = {}
    for code, spec in raw.items():
        w = f"{where}.{code}"
        if not _CLASS_CODE.fullmatch(str(code)):
            raise Bad(
                f"{w}: a class code is lower-case letters, digits and _ (e.g. implant_imported)"
            )
        if not isinstance(spec, dict) or "name" not in spec:
            raise Bad(f"{w}: each class needs at least a 'name'")
        extra = set(spec) - {"name", "list_types", "codes", "min_price"}
        if extra:
            raise Bad(f"{w}: unknown field(s) {sorted(extra)}")
        lists = spec.get("list_types") or []
        codes = spec.get("codes") or []
        for field_, v in (("list_types", lists), ("codes", codes)):
            if not isinstance(v, list) or not all(isinstance(c, str | int) for c in v):
                raise Bad(f"{w}.{field_}: expected a list of codes")
        if not lists and not codes and spec.get("min_price") is None:
            raise Bad(f"{w}: give 'codes', 'list_types' or 'min_price' (which items belong)")
        out[str(code)] = ItemClass(
            code=str(code),
            name=str(spec["name"]),
            list_types=tuple(str(c) for c in lists),
            codes=frozenset(str(c) for c in codes),
            min_price=None
            if spec.get("min_price") is None
            else _amount(spec["min_price"], f"{w}.min_price"),
        )
    return out


def _class_ratios(raw: Any, where: str) -> dict[str, int]:
    if not isinstance(raw, dict):
        raise Bad(f"{where}: expected a mapping item class → ratio")
    out: dict[str, int] = {}
    for code, ratio in raw.items():
        if not _CLASS_CODE.fullmatch(str(code)):
            raise Bad(f"{where}.{code}: not an item class code (see catalog.item_classes)")
        out[str(code)] = _ratio(ratio, f"{where}.{code}")
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
        raise Bad(f"{where}: a value is required")
    if kind == "amount":
        return _amount(raw, where)
    if kind == "ratio":
        return _ratio(raw, where)
    if kind == "int":
        if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
            raise Bad(f"{where}: expected a whole number ≥ 0, got {raw!r}")
        return raw
    if kind == "bool":
        if not isinstance(raw, bool):
            raise Bad(f"{where}: expected true or false, got {raw!r}")
        return raw
    if kind == "enum":
        if str(raw) not in spec.choices:
            raise Bad(
                f"{where}: {raw!r} is not one of {', '.join(c or '(empty)' for c in spec.choices)}"
            )
        return str(raw)
    if kind == "codes":
        if not isinstance(raw, list) or not all(isinstance(c, str | int) for c in raw):
            raise Bad(f"{where}: expected a list of codes")
        codes = [str(c) for c in raw]
        if key.endswith(".settings"):
            for c in codes:
                if c not in SETTING_NAMES:
                    raise Bad(f"{where}: {c!r} is not one of {', '.join(SETTING_NAMES)}")
        if key.endswith(".unit_types"):
            for c in codes:
                if not is_valid_code("emp_type", c):
                    raise Bad(f"{where}: {c!r} is not a unit type (code table emp_type 单位类型)")
        if key.endswith(".tilt_classes"):
            for c in codes:
                if c not in DIMENSIONS["class"]:
                    raise Bad(
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
    if kind == "item_classes":
        return _item_classes(raw, where)
    if kind == "class_ratios":
        return _class_ratios(raw, where)
    if kind in ("factor", "decimal", "overrun_bands"):
        return _payment_leaf(kind, raw, where)
    if kind == "setting_map":
        if not isinstance(raw, dict):
            raise Bad(f"{where}: expected a mapping med_type → setting")
        out: dict[str, str] = {}
        for k, v in raw.items():
            if v not in _MED_TYPE_SETTINGS:
                raise Bad(f"{where}.{k}: {v!r} is not one of {', '.join(_MED_TYPE_SETTINGS)}")
            out[str(k)] = str(v)
        return out
    raise Bad(f"{where}: unknown kind {kind}")  # pragma: no cover - schema bug


def _payment_leaf(kind: str, raw: Any, where: str) -> Any:
    """Payment-reform kinds: a factor (1/10000 units), a decimal, or 医共体 overrun bands."""
    if kind == "overrun_bands":
        if not isinstance(raw, list) or not raw:
            raise Bad(f"{where}: bands must be a non-empty list of {{upto, fund_share}}")
        out: list[tuple[int | None, int]] = []
        for i, band in enumerate(raw):
            if not isinstance(band, dict) or set(band) != {"upto", "fund_share"}:
                raise Bad(
                    f"{where}[{i}]: a band needs exactly 'upto' (ratio of the budget or none) and 'fund_share'"
                )
            upto = None if band["upto"] == "none" else _ratio(band["upto"], f"{where}[{i}].upto")
            if upto is None and i != len(raw) - 1:
                raise Bad(f"{where}[{i}].upto: only the last band may be unbounded (none)")
            if upto is not None and out and out[-1][0] is not None and upto <= out[-1][0]:
                raise Bad(f"{where}[{i}]: bands not ascending ('upto' not above the previous)")
            out.append((upto, _ratio(band["fund_share"], f"{where}[{i}].fund_share")))
        return tuple(out)
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise Bad(f"{where}: expected a number, got {raw!r}")
    try:
        d = Decimal(str(raw))
    except Exception as exc:
        raise Bad(f"{where}: {raw!r} is not a number") from exc
    if not d.is_finite() or d < 0 or d != d.quantize(Decimal("0.0001")):
        raise Bad(f"{where}: {raw!r} must be ≥ 0 with at most 4 decimal places")
    if kind == "decimal":
        return d
    if d == 0 or d > 1000:
        raise Bad(f"{where}: a factor must be > 0 and ≤ 1000, got {raw!r}")
    return int(d * 10_000)


def _is_leaf(spec: ParamSpec, raw: Any) -> bool:
    if not isinstance(raw, dict):
        return True
    if spec.kind == "xr_rule":
        return "adjust" in raw
    return spec.kind in ("diseases", "setting_map", "item_classes", "class_ratios")


def normalise(key: str, spec: ParamSpec, raw: Any, where: str) -> Any:
    """Validate ``raw`` against ``spec`` (walking its dimension tables) and convert it."""

    def walk(node: Any, depth: int, w: str) -> Any:
        if _is_leaf(spec, node):
            return _leaf(spec, node, w, key)
        if depth >= len(spec.dims):
            raise Bad(
                f"{w}: table is deeper than the dimensions ({', '.join(spec.dims) or 'none'})"
            )
        dim = spec.dims[depth]
        allowed = DIMENSIONS[dim]
        out: dict[str, Any] = {}
        for k, v in node.items():
            ks = str(k)
            if ks != "default" and ks not in allowed:
                raise Bad(f"{w}: {ks!r} is not a {dim} ({', '.join(allowed)} or default)")
            out[ks] = walk(v, depth + 1, f"{w}.{ks}")
        return out

    return walk(raw, 0, where)


def shown(raw: Any) -> str:
    """A compact display of a value as written (for trace and `policy show`)."""
    if isinstance(raw, str):
        return raw
    return json.dumps(raw, ensure_ascii=False, default=str, separators=(",", ":"))
