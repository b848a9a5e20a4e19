"""Turning stored lists and settlements into the payment model's inputs (病例估值的输入).

Shared by the monthly advance, the year-end clearing and 特例单议: the same case, the same
parameters, the same rounding, at whichever rate or point value the caller gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from yibao.encounter.amounts import AMOUNT_FIELDS
from yibao.payment.model import pay
from yibao.payment.model.special import EXIT_BY_ITEM

BASIC_FUNDS = ("310100", "390100")  # 职工/居民 基本医疗保险统筹基金


def fund_type(row: Mapping[str, Any]) -> str:
    """The basic pooled fund the counter charged (310100 or 390100)."""
    for d in row.get("setldetail") or []:
        if str(d.get("fund_pay_type")) in BASIC_FUNDS:
            return str(d["fund_pay_type"])
    return "310100" if str(row.get("insutype")) == "310" else "390100"


def facts(row: Mapping[str, Any]) -> pay.CaseFacts:
    """A case's settlement facts from an eligible/valued row (list + settlement)."""
    info = row["setlinfo"] or {}
    amounts = {k: int(info.get(k) or 0) for k in AMOUNT_FIELDS}
    content = row.get("content") or {}
    return pay.CaseFacts(
        setl_id=row["setl_id"],
        medfee_sumamt=amounts["medfee_sumamt"],
        hifp_pay=amounts["hifp_pay"],
        stay_days=int(content.get("stay_days") or 0),
        amounts=amounts,
        cross_region=row.get("insuplc_admdvs") != row.get("mdtrtarea_admvs"),
    )


def grouping(row: Mapping[str, Any], level: str) -> pay.Grouping:
    """The list's grouping as payment needs it; ``level`` picks the DIP average cost (1/2/3)."""
    g = row["grp_result"] or {}
    ok = g.get("status") == "1" and bool(g.get("units"))
    avg = (g.get("avg_cost") or {}).get(level if level in ("1", "2", "3") else "1", 0)
    return pay.Grouping(
        ok=ok,
        code=str(g.get("code") or ""),
        name=str(g.get("name") or ""),
        units=Decimal(g["units"]) if ok else Decimal(0),
        avg_cost=int(avg or 0),
    )


def special_of(app: Mapping[str, Any] | None) -> pay.Special | None:
    if app is None:
        return None
    return pay.Special(
        exit_type=str(app["exit_type"]),
        deducted=int(app["deducted"] or 0),
        units=Decimal(app["requested_units"]) if app["exit_type"] != EXIT_BY_ITEM else Decimal(0),
    )


def case_row(
    row: Mapping[str, Any],
    v: pay.CaseValue,
    *,
    admdvs: str,
    year: int,
    run_month: str,
    method: str,
    unit_value: Decimal,
    appy_id: str | None,
) -> dict[str, Any]:
    """A ``payment_case`` row for a valuation."""
    return {
        "setl_id": row["setl_id"],
        "fixmedins_code": row["fixmedins_code"],
        "admdvs": admdvs,
        "year": year,
        "run_month": run_month,
        "method": method,
        "fund_pay_type": fund_type(row),
        "grp_code": (row["grp_result"] or {}).get("code", ""),
        "mode": v.mode,
        "units": v.units,
        "value": v.value,
        "by_item": v.by_item,
        "deductions": v.deductions,
        "fund_due": v.fund_due,
        "item_fund": v.item_fund,
        "medfee_sumamt": int((row["setlinfo"] or {}).get("medfee_sumamt") or 0),
        "unit_value": unit_value,
        "trace": [t.as_dict() for t in v.trace],
        "special_appy_id": appy_id,
    }
