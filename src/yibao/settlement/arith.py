"""Fen arithmetic of the settlement engine (结算算术): ratios in 1/10000 units, cumulative bands,
cross-region adjustments. Pure integer code; every ratio × amount is rounded once, half up, with
:func:`yibao.money.apply_ratio_units`."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from yibao.money import apply_ratio_units
from yibao.policy.model import Bands, XrRule
from yibao.settlement.model import SettlementError

_UNITS: dict[Decimal, int] = {}


def units(ratio: Decimal) -> int:
    """A first-pay ratio (先行自付比例) as 1/10000 units; refuses one outside 0..1 or finer."""
    u = _UNITS.get(ratio)
    if u is None:
        scaled = ratio * 10_000
        if scaled != scaled.to_integral_value() or ratio < 0 or ratio > 1:
            raise SettlementError(f"selfpay_prop: {ratio} 须在0..1之间且最多4位小数")
        u = int(scaled)
        _UNITS[ratio] = u
    return u


_DECS: dict[int, Decimal] = {}


def ratio_dec(u: int) -> Decimal:
    """1/10000 units as a 4-decimal ratio (``pool_prop_selfpay`` style)."""
    d = _DECS.get(u)
    if d is None:
        d = _DECS[u] = (Decimal(u) / 10_000).quantize(Decimal("0.0001"))
    return d


def times(fen: int, cnt: Decimal) -> int:
    """``fen × cnt`` rounded half up (price limit × quantity)."""
    if cnt == cnt.to_integral_value():
        return fen * int(cnt)
    return int((Decimal(fen) * cnt).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def pay(start: int, amount: int, bands: Bands, room: int | None, floor: int = 0) -> tuple[int, int]:
    """Pay ``amount`` lying at ``[start, start+amount)`` on a cumulative axis.

    Positions below ``floor`` (an annual deductible) and below the first band pay nothing; each
    band segment pays its ratio (rounded half up per segment). ``room`` caps the payment; then the
    returned *consumed* amount is where the cap was reached (the rest is over the cap).
    Returns ``(paid, consumed)``.
    """
    if amount <= 0:
        return 0, 0
    end = start + amount
    cur = start
    paid = 0
    nb = len(bands)
    while cur < end:
        if cur < floor:
            u, nxt = 0, floor
        elif cur < bands[0][0]:
            u, nxt = 0, bands[0][0]
        else:
            i = 0
            while i + 1 < nb and bands[i + 1][0] <= cur:
                i += 1
            u = bands[i][1]
            nxt = bands[i + 1][0] if i + 1 < nb else end
        seg_end = end if nxt > end else nxt
        seg = seg_end - cur
        p = apply_ratio_units(seg, u)
        if room is not None and paid + p > room:
            left = room - paid
            x = -(-(left * 10_000 - 5_000) // u) if left > 0 else 0
            x = min(max(x, 0), seg)
            return room, cur + x - start
        paid += p
        cur = seg_end
    return paid, amount


def adjust(u: int, rule: XrRule) -> int:
    """A ratio after a cross-region adjustment (异地就医待遇调整)."""
    if rule.adjust == "multiply":
        return apply_ratio_units(u, rule.value_units)
    if rule.adjust == "minus_pp":
        return max(0, u - rule.value_units)
    if rule.adjust == "set_ratio":
        return rule.value_units
    return u


def as_bands(ratio: int | Bands) -> Bands:
    """A flat ratio as one band from 0."""
    return ((0, ratio),) if isinstance(ratio, int) else ratio


def adjust_bands(bands: Bands, rule: XrRule) -> Bands:
    """Every band's ratio adjusted (the same object when the rule changes no ratio)."""
    if rule.adjust in ("multiply", "minus_pp", "set_ratio"):
        return tuple((f, adjust(u, rule)) for f, u in bands)
    return bands


def ratio_at(bands: Bands, pos: int) -> int:
    """The ratio of the band holding ``pos`` (the first band's below it)."""
    u = 0
    for f, r in bands:
        if f <= pos:
            u = r
    return u if pos >= bands[0][0] else bands[0][1]
