"""Parameter values in plain Chinese for a settlement's trace (结算过程): amounts in 元 with
thousands separators, ratios in %, yes/no, caps (不设封顶), bands, cross-region rules, disease
and item-class rules — never a raw key, JSON, ``none`` or ``false``.

:func:`applied` formats the value a step applied (normalised: fen, 1/10000 units, rule objects);
:func:`written` formats a value *as written* in a policy file (old stored traces kept that).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from yibao import codes
from yibao.policy.model import KEY_LABELS, Cap, DiseaseRule, ItemClass, XrRule
from yibao.policy.schema import SPECS
from yibao.settlement.fields import FIELD_LABELS

ENUM_LABELS = {
    "per_admission": "按次（每次住院）",
    "annual": "按年度",
    "fund": "按统筹基金支付额计算",
    "eligible": "按核准医疗费用计算（统筹基金支付额与个人自付之和）",
    "basic": "住院与门诊慢特病合并计算",
    "none": "按项目付费",  # payment.method
    "drg": "按疾病诊断相关分组付费（DRG）",
    "dip": "按病种分值付费（DIP）",
    "by_item": "按项目付费",  # payment.drg.high_rule / low_rule
    "standard": "按病组标准付费",
    "": "不合并（按本待遇类型计算）",  # cap_pool
}
XR_LABELS = {
    "none": "不调整",
    "not_paid": "不予支付",
}


def yuan(fen: int) -> str:
    """``123456`` → ``1,234.56 元``."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d} 元"


def pct(units: int) -> str:
    """1/10000 units → ``93%``, ``92.5%``."""
    whole, frac = divmod(units, 100)
    return f"{whole}%" if not frac else f"{whole}.{f'{frac:02d}'.rstrip('0')}%"


def _label(key: str) -> str:
    return KEY_LABELS.get(key, key)


def bands(value: Any) -> str:
    parts = []
    for start, u in value:
        parts.append(pct(u) if start == 0 else f"累计 {yuan(start)} 以上 {pct(u)}")
    return "；".join(parts)


def xr_rule(rule: XrRule) -> str:
    text = XR_LABELS.get(rule.adjust)
    if text is None:
        text = {
            "multiply": f"支付比例乘以 {pct(rule.value_units)}",
            "minus_pp": f"支付比例降低 {pct(rule.value_units)[:-1]} 个百分点",
            "set_ratio": f"支付比例为 {pct(rule.value_units)}",
            "extra_first_pay": f"另由个人先行自付 {pct(rule.value_units)}",
        }.get(rule.adjust, rule.adjust)
    if rule.deductible is not None:
        text += f"；起付线 {yuan(rule.deductible)}"
    return text


def disease(d: DiseaseRule) -> str:
    text = f"{d.name}（{d.code}）"
    if d.limit is not None:
        text += f"；年度限额 {yuan(d.limit)}"
    if d.ratio is not None:
        text += f"；支付比例 {pct(d.ratio) if isinstance(d.ratio, int) else bands(d.ratio)}"
    if d.deductible is not None:
        text += f"；起付线 {yuan(d.deductible)}"
    return text


def item_class(c: ItemClass) -> str:
    rules = []
    if c.list_types:
        names = "、".join(codes.label("list_type", t) for t in c.list_types)
        rules.append(f"目录类别 {names}")
    if c.min_price is not None:
        rules.append(f"单价不低于 {yuan(c.min_price)}")
    which = "且".join(rules)
    if c.codes:
        which += ("，或" if which else "") + f"指定的 {len(c.codes)} 个目录编码"
    return f"{c.name}（{which}）"


def _cap(cap: Cap) -> str:
    if cap.steps is None:
        return "不设封顶"
    parts = []
    for s in cap.steps:
        amount = (
            yuan(s.amount)
            if s.amount is not None
            else f"{_mult(s.wage_multiple_units or 0)} 倍上年度在岗职工年平均工资"
        )
        parts.append(f"连续参保 {s.from_months} 个月起 {amount}")
    return "；".join(parts)


def applied(key: str, value: Any) -> str:
    """The value a step applied for parameter ``key``, in Chinese."""
    spec = SPECS.get(key)
    kind = spec.kind if spec is not None else ""
    if value is None:
        return "不设封顶" if kind == "cap" else "无"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, XrRule):
        return xr_rule(value)
    if isinstance(value, DiseaseRule):
        return disease(value)
    if isinstance(value, Cap):
        return _cap(value)
    if kind in ("amount", "cap") and isinstance(value, int):
        return yuan(value)
    if kind in ("ratio", "ratio_or_bands", "bands"):
        if key.endswith("tilt_plus_pp") and isinstance(value, int):
            return f"每段提高 {pct(value)[:-1]} 个百分点"
        return pct(value) if isinstance(value, int) else bands(value)
    if kind == "int":
        return f"{value} 天" if key.endswith("_days") else str(value)
    if kind == "setting_map" and isinstance(value, Mapping):
        return "；".join(f"{codes.label('med_type', m)} → {_label(s)}" for m, s in value.items())
    if kind == "item_classes":
        return "；".join(item_class(c) for c in value)
    if kind == "class_ratios":
        return "；".join(f"{name} {pct(u)}" for name, u in value)
    if kind == "codes":
        return _codes(key, value)
    if kind == "enum":
        if key.endswith("fund_pay_type"):
            return codes.label("fund_pay_type", str(value))
        return ENUM_LABELS.get(str(value)) or _label(str(value))
    return str(value)


def _codes(key: str, value: Any) -> str:
    items = list(value)
    if not items:
        return "无"
    if key.endswith("med_types"):
        return "、".join(codes.label("med_type", str(c)) for c in items)
    if key == "payment.fund_due.deductions":
        return "、".join(FIELD_LABELS.get(str(c), str(c)) for c in items)
    return "、".join(_label(str(c)) for c in items)


# --------------------------------------------------------------------------- as written


def written(key: str, text: str) -> str:
    """A value as written in a policy file (JSON-ish, yuan and 0..1 ratios), in Chinese.

    Old stored traces carried this; tables become ``在职：…；退休：…``."""
    spec = SPECS.get(key)
    if spec is None:
        return text
    if key.endswith("fund_pay_type"):
        return codes.label("fund_pay_type", text)
    try:
        raw = json.loads(text)
    except ValueError:
        raw = text
    if spec.kind == "codes" and isinstance(raw, list):
        return _codes(key, raw)
    if spec.kind == "overrun_bands" and isinstance(raw, list):
        return _overrun(raw)
    return _written(spec.kind, raw)


def _overrun(raw: list[Any]) -> str:
    """医共体 overrun bands: ``超支 5% 以内 基金分担 70%；…；超过 10% 基金分担 0%``."""
    parts, low = [], "0"
    for b in raw:
        if not isinstance(b, dict):
            continue
        share = pct(_units(b.get("fund_share", 0)))
        upto = b.get("upto")
        if upto in (None, "none"):
            parts.append(f"超支 {pct(_units(low))} 以上 基金分担 {share}")
        else:
            parts.append(f"超支 {pct(_units(upto))} 以内 基金分担 {share}")
            low = upto
    return "；".join(parts) or "无"


def _written(kind: str, raw: Any) -> str:
    if raw is None or raw == "none":
        return "不设封顶" if kind == "cap" else "无"
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, dict) and "adjust" in raw:
        return xr_rule(XrRule(str(raw["adjust"]), _units(raw.get("value", 0)),
                              None if raw.get("deductible") is None else _fen(raw["deductible"])))  # fmt: skip
    if isinstance(raw, dict) and kind not in (
        "setting_map",
        "diseases",
        "item_classes",
        "class_ratios",
    ):
        return _table(kind, raw, 0)
    if isinstance(raw, list) and raw and isinstance(raw[0], dict) and "from" in raw[0]:
        return bands(tuple((_fen(b["from"]), _units(b["ratio"])) for b in raw))
    if isinstance(raw, list) and kind == "cap":
        return "；".join(f"连续参保 {s.get('from_months', 0)} 个月起 "
                        + (yuan(_fen(s["amount"])) if "amount" in s else f"{s.get('wage_multiple')} 倍上年度在岗职工年平均工资")
                        for s in raw if isinstance(s, dict))  # fmt: skip
    if isinstance(raw, int | float) and kind in ("amount", "cap"):
        return yuan(_fen(raw))
    if isinstance(raw, int | float) and kind in ("ratio", "ratio_or_bands"):
        return pct(_units(raw))
    if isinstance(raw, int | float):  # int, factor, decimal: the number (never a dimension key)
        return str(raw)
    if isinstance(raw, list):
        return "、".join(_label(str(c)) for c in raw) or "无"
    if isinstance(raw, dict) and kind == "setting_map":
        return "；".join(
            f"{codes.label('med_type', str(k))} → {_label(str(v))}" for k, v in raw.items()
        )
    if isinstance(raw, dict) and kind in ("diseases", "item_classes"):
        names = (
            f"{v.get('name', k)}（{k}）" if isinstance(v, dict) else str(k) for k, v in raw.items()
        )
        return "；".join(names) or "无"
    if isinstance(raw, dict):
        return "；".join(f"{_label(str(k))} {_written('ratio', v)}" for k, v in raw.items()) or "无"
    return ENUM_LABELS.get(str(raw)) or _label(str(raw))


def _table(kind: str, raw: dict[Any, Any], depth: int) -> str:
    """A table over dimensions: ``在职：其他 94%，二级 93%；退休：95%``."""
    parts = []
    for k, v in raw.items():
        nested = isinstance(v, dict) and "adjust" not in v
        inner = _table(kind, v, depth + 1) if nested else _written(kind, v)
        if len(raw) == 1 and k == "default":
            parts.append(inner)
        else:
            parts.append(f"{_label(str(k))}{'：' if depth == 0 else ' '}{inner}")
    return ("；" if depth == 0 else "，").join(parts)


def _mult(units: int) -> str:
    return f"{(Decimal(units) / 10_000).normalize():f}"


def _scaled(v: Any, scale: int) -> int:
    try:
        return int((Decimal(str(v)) * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except (ArithmeticError, ValueError):
        return 0


def _fen(v: Any) -> int:
    return _scaled(v, 100)


def _units(v: Any) -> int:
    return _scaled(v, 10_000)
