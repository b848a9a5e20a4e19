"""The one serialiser of a settlement's trace (结算过程), and its reader.

:func:`to_json` turns a result's trace into a JSON-ready list, stored with the settlement (the
gateway, the hub), printed by ``yibao calc --json --explain`` and shown by the console::

    [{"step": "deductible", "label": "起付线", "amount": "500.00",
      "detail": "起付标准 500.00 (第1次)",
      "params": [{"key": "employee.inpatient.deductible", "label": "职工住院起付线",
                  "value": "500.00 元", "since": "2024-01-01", "region": "440400",
                  "reference": "珠海 职工住院起付线 … (2024) [C]"},
                 {"key": "…", …, "assumed": true, "reason": "… why this value was assumed"}]}]

``value`` is the value *applied to this bill*, in Chinese (``trace_values.applied``); each
parameter has either ``reference`` or ``assumed: true`` with ``reason``. :func:`read` turns any
stored trace into :class:`StepView` rows — this format, the older one with ``source`` and the
value as written, and the oldest that stored bare parameter keys — and never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from yibao.money import MoneyError, fen_str, yuan_to_fen
from yibao.policy.schema import SPECS
from yibao.settlement.model import SettlementResult, TraceStep, Used
from yibao.settlement.trace_values import applied, written

DEFAULT_REGION = "-"  # the parameter catalogue's default (参数目录默认值): no file sets the key


def param_json(u: Used) -> dict[str, Any]:
    """One parameter as used (memoised on the :class:`Used`: rules reuse them across bills)."""
    view = u.view
    if view is None:
        use = u.use
        view = {"key": use.key, "label": use.label, "value": applied(use.key, u.value),
                "since": use.since.isoformat(), "region": use.region}  # fmt: skip
        if use.assumed:
            view["assumed"] = True
            view["reason"] = use.reference
        else:
            view["reference"] = use.reference
        u.view = view
    return view


def step_json(t: TraceStep) -> dict[str, Any]:
    return {
        "step": t.step,
        "label": t.label,
        "amount": fen_str(t.amount),
        "detail": t.detail,
        "params": [param_json(u) for u in t.params],
    }


def to_json(result: SettlementResult) -> list[dict[str, Any]]:
    """The trace of ``result`` as JSON-ready steps (see the module docstring)."""
    return [step_json(t) for t in result.trace]


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class ParamView:
    """One parameter of a stored trace, ready to show (Chinese)."""

    name: str  # 参数名称
    value: str  # the value applied, in Chinese ("" when the record did not keep it)
    reference: str  # 依据: the document, or the reason of an assumption
    assumed: bool
    since: str  # ISO date the value took effect ("" when unknown or a catalogue default)
    region: str  # admdvs of the file that set it ("override" for a what-if); "" when unknown
    key: str
    default: bool = False  # the parameter catalogue's default (参数目录默认值): no file sets it


@dataclass(frozen=True, slots=True)
class StepView:
    """One step of a stored trace."""

    label: str
    amount: int | None  # fen; None when the record has none
    detail: str
    params: tuple[ParamView, ...]


def read(raw: object) -> list[StepView]:
    """A stored trace as rows to show; anything that is not a list of steps reads as no rows."""
    if not isinstance(raw, list):
        return []
    return [_step(s) for s in raw if isinstance(s, Mapping)]


def _step(s: Mapping[str, Any]) -> StepView:
    params = tuple(p for p in (_param(x) for x in s.get("params") or ()) if p is not None)
    return StepView(
        label=str(s.get("label") or s.get("step") or ""),
        amount=_fen(s.get("amount")),
        detail=str(s.get("detail") or s.get("text") or ""),
        params=params,
    )


def _param(p: object) -> ParamView | None:
    if isinstance(p, str):  # oldest records: the bare key (取值和依据未保存)
        spec = SPECS.get(p)
        return ParamView(spec.label if spec else p, "", "", False, "", "", p)
    if not isinstance(p, Mapping):
        return None
    key = str(p.get("key") or "")
    assumed = bool(p.get("assumed"))
    value = str(p.get("value", ""))
    if "source" in p and "reference" not in p and "reason" not in p:  # older: value as written
        ref = str(p.get("source") or "")
        if assumed and ref.startswith("假设："):
            ref = ref[3:]
        value = written(key, value)
    else:
        ref = str(p.get("reason") if assumed else p.get("reference") or "")
    region = str(p.get("region") or "")
    since = str(p.get("since") or "")
    default = region == DEFAULT_REGION
    if default:
        region, since = "", ""
    return ParamView(str(p.get("label") or key), value, ref, assumed, since, region, key, default)


def _fen(v: object) -> int | None:
    if v is None or v == "" or isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    try:
        return yuan_to_fen(v)
    except MoneyError:
        return None
