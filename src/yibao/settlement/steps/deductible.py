"""Step 4: the deductible (起付线, policy-rules.md §1.2 Step 4).

Per admission (a lower one for later admissions; charged again after each
``deductible_recharge_days`` of a long stay) or once a year (``annual``); a cross-region rule
may replace it; some med_types are exempt; an annual cap may limit the year's total.
``act_pay_dedc = min(deductible due, policy-range amount)``.
"""

from __future__ import annotations

from yibao.money import fen_str
from yibao.settlement.bill import Bill
from yibao.settlement.model import Deferred, TraceStep
from yibao.settlement.rules import BasicRule


def deductible(b: Bill) -> None:
    """Charge the deductible of the bill's line (nothing when the line does not pay)."""
    basic = b.basic
    if basic is None or not basic.covered:
        return
    prior = b.acc.dedc.get(b.setting, 0)
    d, why = _due(b, basic, prior)
    if basic.dedc_annual_cap:
        d = min(d, max(0, basic.dedc_annual_cap - prior))
    act = d if d < b.inscp else b.inscp
    b.act_dedc = act
    b.d_dedc[b.setting] = act
    params = basic.dedc_uses
    if basic.exempt_use is not None and b.enc.med_type in basic.exempt:
        params = (*params, basic.exempt_use)
    b.trace.append(TraceStep("deductible", "起付线", act, Deferred(_t_dedc, d, why), params))


def _due(b: Bill, basic: BasicRule, prior: int) -> tuple[int, str]:
    """The deductible due on this bill before the annual cap, and why (in Chinese)."""
    enc = b.enc
    if enc.med_type in basic.exempt:
        return 0, f"医疗类别 {enc.med_type} 免起付线"
    if basic.mode == "annual":
        full = basic.xr.deductible if basic.xr.deductible is not None else basic.dedc_first
        return max(0, full - prior), f"年度起付线, 本年已付 {fen_str(prior)}"
    nth = enc.admission_no if enc.admission_no is not None else b.acc.admissions + 1
    base = basic.dedc_first
    why = f"第{nth}次"
    if nth >= 2 and basic.dedc_later is not None:
        base = basic.dedc_later
    if basic.xr.deductible is not None:
        base = basic.xr.deductible
        why += ", 异地起付线"
    charges = 1
    if basic.recharge_days and enc.endtime is not None:
        days = (enc.endtime - enc.begntime).days
        charges = max(1, -(-days // basic.recharge_days))
        if charges > 1:
            why += f", 连续住院 {days} 天计 {charges} 次"
    return base * charges, why


def _t_dedc(d: int, why: str) -> str:
    return f"起付标准 {fen_str(d)} ({why})"
