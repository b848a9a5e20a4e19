"""Steps 5-6: the pooled fund (统筹基金, policy-rules.md §1.2 Steps 5-6).

``hifp = (policy-range amount − deductible) × ratio``: a flat ratio or cumulative bands on the
year's policy-range amount, adjusted for cross-region care; limited by the annual cap counted on
fund payment or on eligible cost (珠海 核准医疗费用), and for 门诊慢特病 by the disease's own limit.
Item classes with their own ratio (``class_ratio``: e.g. imported implants) are paid at that
ratio after the rest of the bill; the deductible comes off the rest of the bill first.
"""

from __future__ import annotations

from yibao.money import fen_str
from yibao.settlement.arith import pay, ratio_at, ratio_dec
from yibao.settlement.bill import FUND_NAMES, Bill
from yibao.settlement.model import Deferred, SetlDetail, TraceStep
from yibao.settlement.rules import BasicRule

ClassPaid = tuple[str, int, int, int]  # class name, amount, ratio units, paid


def pooled_fund(b: Bill) -> None:
    """Pay the pooled fund's share and record its counters (cap pool, disease, admissions)."""
    basic = b.basic
    if basic is None:
        return
    setting, acc = b.setting, b.acc
    b.d_inscp[setting] = b.inscp
    if setting == "inpatient":
        b.admissions = 1
    fpt = "310100" if b.scheme == "employee" else "390100"
    if not basic.covered:
        b.trace.append(
            TraceStep(
                "pooled", "统筹基金", 0, f"本次不予统筹支付：{basic.not_paid_reason}", basic.uses
            )
        )
        b.details.append(SetlDetail(fpt, FUND_NAMES[fpt], b.inscp, 0, 0, "不予统筹支付"))
        return
    elig = b.inscp - b.act_dedc
    pool = basic.pool
    room_e, fund_room = _rooms(b, basic)
    elig_in = elig if room_e is None else min(elig, room_e)
    start = acc.inscp.get(setting, 0) + b.act_dedc
    classes: list[ClassPaid] = []
    if b.class_inscp:
        hifp, used = _pay_parts(b, basic, start, elig_in, fund_room, False, classes)
    else:
        hifp, used = pay(start, elig_in, basic.bands, fund_room)
    b.over_cap = elig - used
    b.prop_units = ratio_at(basic.bands, start)
    if basic.bands is not basic.bands_local or (b.class_inscp and basic.xr.adjust != "none"):
        if b.class_inscp:
            local_pay, _ = _pay_parts(b, basic, start, elig_in, fund_room, True, [])
        else:
            local_pay, _ = pay(start, elig_in, basic.bands_local, fund_room)
        b.reduction = max(0, local_pay - hifp)
    b.hifp = hifp
    b.d_hifp[pool] = hifp
    b.d_elig[pool] = used
    if basic.disease is not None:
        b.d_chronic[basic.disease.code] = hifp
    limit = fund_room if fund_room is not None else (room_e if room_e is not None else hifp)
    capped = fund_room is not None or room_e is not None
    shown = b.inscp - sum(b.class_inscp.values()) if b.class_inscp else b.inscp
    info = Deferred(
        _t_pooled, shown, b.act_dedc, b.prop_units, start, len(basic.bands), capped, limit,
        b.over_cap, b.reduction, tuple(classes),
    )  # fmt: skip
    b.trace.append(TraceStep("pooled", "统筹基金", hifp, info, basic.uses))
    b.details.append(SetlDetail(fpt, FUND_NAMES[fpt], b.inscp, limit, hifp, info))


def _rooms(b: Bill, basic: BasicRule) -> tuple[int | None, int | None]:
    """Room left under the annual cap — on eligible cost (珠海) or on fund payment — and under
    a 门诊慢特病 disease's own limit (fund payment): ``(eligible room, fund room)``."""
    acc = b.acc
    room_e: int | None = None
    fund_room: int | None = None
    if basic.cap is not None:
        if basic.basis == "eligible":
            room_e = max(0, basic.cap - acc.eligible.get(basic.pool, 0))
        else:
            fund_room = max(0, basic.cap - acc.hifp.get(basic.pool, 0))
    if basic.disease is not None and basic.disease.limit is not None:
        dis_room = max(0, basic.disease.limit - acc.chronic.get(basic.disease.code, 0))
        fund_room = dis_room if fund_room is None else min(fund_room, dis_room)
    return room_e, fund_room


def _pay_parts(
    b: Bill, basic: BasicRule, start: int, elig_in: int, room: int | None, local: bool,
    out: list[ClassPaid],
) -> tuple[int, int]:  # fmt: skip
    """Pay the rest of the bill on the line's ratio, then each item class at its own ratio.

    The deductible, then an eligible-cost cap (``elig_in``), then the fund cap (``room``) are
    taken in that order: the rest of the bill first, then the classes in policy order.
    Returns ``(paid, consumed)`` like :func:`~yibao.settlement.arith.pay`.
    """
    parts = b.class_inscp or {}
    rest = b.inscp - sum(parts.values())
    dedc = min(b.act_dedc, rest)
    left_dedc = b.act_dedc - dedc
    left = elig_in
    take = min(rest - dedc, left)
    left -= take
    paid, used = pay(start, take, basic.bands_local if local else basic.bands, room)
    for c in basic.classes:
        amount = parts.get(c.cls.code, 0)
        cut = min(left_dedc, amount)
        left_dedc -= cut
        take = min(amount - cut, left)
        left -= take
        u = c.units_local if local else c.units
        room_left = None if room is None else room - paid
        p, consumed = pay(0, take, ((0, u),), room_left)
        paid += p
        used += consumed
        if amount:
            out.append((c.cls.name, take, u, p))
    return paid, used


def _t_pooled(
    inscp: int, dedc: int, units: int, start: int, nbands: int, capped: bool, limit: int,
    over_cap: int, reduction: int, classes: tuple[ClassPaid, ...] = (),
) -> str:  # fmt: skip
    rest = "其余" if classes else ""  # then ``inscp`` is the policy-range amount outside them
    return (
        f"({rest}政策范围内 {fen_str(inscp)} − 起付线 {fen_str(dedc)}) × 比例 {ratio_dec(units)}"
        + (f"; 分段累计起点 {fen_str(start)}" if nbands > 1 else "")
        + "".join(
            f"; 其中{name} {fen_str(amt)} × 比例 {ratio_dec(u)} = {fen_str(p)}"
            for name, amt, u, p in classes
        )
        + (f"; 可支付限额 {fen_str(limit)}" if capped else "")
        + (f"; 超限额 {fen_str(over_cap)}" if over_cap else "")
        + (f"; 异地降低 {fen_str(reduction)}" if reduction else "")
    )
