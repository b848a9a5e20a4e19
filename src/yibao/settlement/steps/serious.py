"""Step 7: 大病保险 (residents, and 深圳 everyone) / 大额医疗费用补助 (employees)
(policy-rules.md §1.2 Step 7).

The base is the year's personal share within the policy range after the pooled fund (co-pay;
with the deductible and the over-cap amount where the region says so; minus the cross-region
reduction in 深圳; on 深圳's outpatient line only the 国谈药 share). Once-a-year deductible,
bands, annual cap; special groups get a tilt (倾斜: lower deductible, higher ratios, no cap).
"""

from __future__ import annotations

from yibao.money import apply_ratio_units, fen_str
from yibao.settlement.arith import pay
from yibao.settlement.bill import FUND_NAMES, Bill
from yibao.settlement.model import Deferred, SetlDetail, TraceStep
from yibao.settlement.rules import SeriousRule, serious_rule


def serious(b: Bill) -> None:
    """Pay 大病/大额 on this bill's base (nothing when the line has no such fund)."""
    if b.basic is None:
        return
    tilted = b.cls is not None and b.cls in b.policy.value(f"{b.scheme}.serious.tilt_classes")
    sr = serious_rule(
        b.policy, b.scheme, b.setting, b.scope, b.enc.filing, tilted, b.person.enrol_months
    )
    if sr is None:
        return
    b.serious_fpt = sr.fund_pay_type
    sep_over = sr.over_cap_ratio is not None and not sr.nego_only
    base = b.serious_base = _base(b, sr, sep_over)
    acc = b.acc
    room = None if sr.cap is None else max(0, sr.cap - acc.serious_pay)
    paid_b, _ = pay(acc.serious_base, base, sr.bands, room, floor=sr.deductible)
    paid_o = 0
    if sep_over and sr.incl_over_cap and sr.over_cap_ratio is not None:
        paid_o = apply_ratio_units(b.over_cap, sr.over_cap_ratio)
        if room is not None:
            paid_o = min(paid_o, room - paid_b)
    b.serious_pay = paid = paid_b + paid_o
    info = Deferred(
        _t_serious, base, acc.serious_base, sr.deductible, paid_b, sep_over, b.over_cap,
        paid_o, room, tilted,
    )  # fmt: skip
    b.trace.append(TraceStep("serious", "大病保险/大额补助", paid, info, sr.uses))
    fpt = sr.fund_pay_type
    b.details.append(
        SetlDetail(
            fpt, FUND_NAMES.get(fpt, fpt), base + (b.over_cap if sep_over else 0),
            room if room is not None else paid, paid, info,
        )
    )  # fmt: skip


def _base(b: Bill, sr: SeriousRule, sep_over: bool) -> int:
    """This bill's contribution to the year's 大病/大额 base."""
    base = 0
    if sr.nego_only:
        # 国谈药 share of what the person pays within the policy range (pro rata of fund)
        nego = sum(i.inscp_scp_amt for i in b.splits if i.hi_nego_drug_flag == "1")
        if nego and b.inscp:
            base = nego - b.hifp * nego // b.inscp
        return base
    if sr.incl_copay:
        copay = b.copay
        base += max(0, copay - b.reduction) if sr.excl_xr else copay
    if sr.incl_dedc:
        base += b.act_dedc
    if sr.incl_over_cap and not sep_over:
        base += b.over_cap
    return base


def _t_serious(
    base: int, ytd: int, ded: int, paid_b: int, sep_over: bool, over_cap: int, paid_o: int,
    room: int | None, tilted: bool,
) -> str:  # fmt: skip
    return (
        f"本次基数 {fen_str(base)} (年度累计起点 {fen_str(ytd)}); "
        f"年度起付线 {fen_str(ded)}; 分段支付 {fen_str(paid_b)}"
        + (f"; 超限额部分 {fen_str(over_cap)} 支付 {fen_str(paid_o)}" if sep_over else "")
        + (f"; 剩余限额 {fen_str(room)}" if room is not None else "; 不设封顶")
        + ("; 倾斜人群" if tilted else "")
    )
