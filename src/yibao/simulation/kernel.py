"""The per-row arithmetic of one settlement (结算算法), over NumPy int64 columns.

Each stage takes the rows' parameters (:class:`Rows`: bill inputs and the gathered rule columns)
and the year-to-date state *before* each row, and returns its amounts; the state comes from the
caller. The closed-form driver (:mod:`.engine`) supplies state from cumulative sums per person;
the sequential driver supplies it row rank by row rank. Both call these same functions, so there
is one implementation of every rule. Rounding: ``ratio × amount`` half up on the absolute value,
once per product, exactly like :func:`yibao.money.apply_ratio_units`.

Order (as :func:`yibao.settlement.engine.settle`): item split → deductible → pooled fund → 大病/大额
→ 公务员补助 → 医疗救助 and 倾斜救助 → personal account and cash.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

I64 = np.int64
INF = np.int64(1 << 50)  # "no cap" (不设封顶): above any amount a person-year can reach
Arr = np.ndarray


def rdiv(x: Arr, units: Arr) -> Arr:
    """``x × units / 10000`` rounded half up on the absolute value (the rounding rule)."""
    p = x * units
    q = (np.abs(p) + 5000) // 10000
    out: Arr = np.where(p < 0, -q, q)
    return out


def muldiv(a: Arr, b: Arr, c: Arr) -> Arr:
    """``a × b // c`` (floor) exactly, also where the product leaves int64 (c > 0 where used)."""
    safe = np.maximum(c, 1)
    # overflow test only (the product itself is computed in integers)
    big = np.abs(a).astype(np.float64) * np.abs(b).astype(np.float64) >= 2.0**62
    out: Arr = a * b // safe
    if big.any():
        i = np.nonzero(big)[0]
        out[i] = [int(x) * int(y) // int(z) for x, y, z in zip(a[i], b[i], safe[i], strict=True)]
    return out


def cap_amount(n: Arr, months: Arr, amounts: Arr, enrol: Arr) -> Arr:
    """The cap for each row's enrolment months from padded steps (INF where no steps)."""
    out = np.where(n > 0, amounts[:, 0], INF)
    for s in range(1, months.shape[1]):
        take = (n > s) & (months[:, s] <= enrol)
        if take.any():
            out = np.where(take, amounts[:, s], out)
    return out


def ratio_at(frm: Arr, units: Arr, k: Arr, pos: Arr) -> Arr:
    """The ratio units of the band that ``pos`` lies in (the first band's below it)."""
    out = units[:, 0].copy()
    for i in range(1, frm.shape[1]):
        take = (k > i) & (frm[:, i] <= pos)
        if take.any():
            out = np.where(take, units[:, i], out)
    return out


@dataclass
class Segments:
    """One bill amount laid on a cumulative axis, cut at the band edges: per piece the start,
    the length and the (rounded) payment."""

    lo: Arr  # (n, K) where each piece starts on the axis (clipped to the bill's start)
    seg: Arr  # (n, K) length of the bill inside the piece
    pay: Arr  # (n, K) rounded payment of that length
    units: Arr  # (n, K)

    @property
    def total(self) -> Arr:
        return np.asarray(self.pay.sum(axis=1))


def segments(start: Arr, amount: Arr, frm: Arr, units: Arr, k: Arr, floor: Arr | None) -> Segments:
    """Pay ``amount`` at ``[start, start+amount)``: nothing below ``floor`` (an annual deductible)
    or below the first band; band ``i`` from ``max(from_i, floor)`` to ``max(from_i+1, floor)``."""
    n, kmax = frm.shape
    kk = int(k.max()) if n else 1
    kk = max(kk, 1)
    end = start + np.maximum(amount, 0)
    lo = np.empty((n, kk), I64)
    seg = np.empty((n, kk), I64)
    f = np.zeros(n, I64) if floor is None else floor
    for i in range(kk):
        piece_lo = np.maximum(frm[:, i], f)
        if i + 1 < kmax:
            nxt = np.where(k > i + 1, np.maximum(frm[:, i + 1], f), INF)
        else:
            nxt = np.full(n, INF)
        piece_lo = np.where(k > i, piece_lo, INF)
        a = np.maximum(start, piece_lo)
        b = np.minimum(end, nxt)
        lo[:, i] = a
        seg[:, i] = np.maximum(b - a, 0)
    u = units[:, :kk]
    return Segments(lo, seg, rdiv(seg, u), u)


def consumed(s: Segments, start: Arr, amount: Arr, room: Arr) -> Arr:
    """How much of the amount a capped payment used (where the cap was reached), exactly as the
    scalar engine: within the piece where the running payment first exceeds ``room``, the
    smallest ``x`` whose rounded payment reaches what was left."""
    total = s.total
    out = np.where(amount > 0, amount, 0)
    capped = total > room
    if not capped.any():
        return out
    idx = np.nonzero(capped)[0]
    pay, seg, lo, units = s.pay[idx], s.seg[idx], s.lo[idx], s.units[idx]
    r = room[idx]
    cum = np.cumsum(pay, axis=1)
    first = np.argmax(cum > r[:, None], axis=1)
    rows = np.arange(len(idx))
    before = cum[rows, first] - pay[rows, first]
    left = r - before
    u = units[rows, first]
    x = np.where(left > 0, (left * 10000 - 5000 + u - 1) // np.maximum(u, 1), 0)
    x = np.clip(x, 0, seg[rows, first])
    out[idx] = lo[rows, first] - start[idx] + x
    return out


@dataclass
class Rows:
    """Per-row inputs of the stages: bill columns and gathered rule columns (all int64)."""

    data: dict[str, Arr]

    def __getattr__(self, name: str) -> Arr:
        try:
            col: Arr = self.__dict__["data"][name]
            return col
        except KeyError as exc:
            raise AttributeError(name) from exc

    def take(self, idx: Arr) -> Rows:
        return Rows({k: v[idx] for k, v in self.data.items()})


# --------------------------------------------------------------------------- stages


def deductible_parts(r: Rows, nth: Arr) -> tuple[Arr, Arr]:
    """(per-admission deductible before any annual cap, annual deductible base)."""
    dbase = np.where(r.xr_dedc >= 0, r.xr_dedc, r.dedc_first)
    base = np.where((nth >= 2) & (r.dedc_later >= 0), r.dedc_later, r.dedc_first)
    base = np.where(r.xr_dedc >= 0, r.xr_dedc, base)
    rd = np.maximum(r.recharge, 1)
    charges = np.where((r.recharge > 0) & (r.days >= 0), np.maximum(1, -((-r.days) // rd)), 1)
    return base * charges, dbase


def deductible(r: Rows, nth: Arr, prior: Arr) -> Arr:
    """起付线 actually charged (act_pay_dedc) given the deductible already paid this year."""
    d_adm, dbase = deductible_parts(r, nth)
    d = np.where(r.annual == 1, np.maximum(0, dbase - prior), d_adm)
    d = np.where(r.exempt == 1, 0, d)
    d = np.where(r.dedc_cap > 0, np.minimum(d, np.maximum(0, r.dedc_cap - prior)), d)
    return np.where(r.covered == 1, np.minimum(d, r.inscp), 0)


@dataclass
class Pooled:
    hifp: Arr
    used: Arr  # eligible amount consumed (counts toward an eligible-basis cap)
    over_cap: Arr
    reduction: Arr  # cross-region reduction (异地降低部分)
    prop: Arr  # pool_prop_selfpay units
    elig_in: Arr


def pool_inputs(r: Rows, act: Arr, inscp_before: Arr, elig_before: Arr) -> tuple[Arr, Arr, Arr]:
    """(eligible amount inside the eligible-basis cap, its start on the band axis, elig)."""
    elig = r.inscp - act
    room_e = np.where(
        (r.covered == 1) & (r.cap < INF) & (r.eligible == 1),
        np.maximum(0, r.cap - elig_before),
        INF,
    )
    return np.where(r.covered == 1, np.minimum(elig, room_e), 0), inscp_before + act, elig


@dataclass
class PoolParts:
    """The pooled fund's amount cut into the rest of the bill (on the bands) and the item classes
    paid at their own ratio (特定项目类别), the deductible coming off the rest first."""

    start: Arr
    elig_in: Arr
    seg: Segments
    take0: Arr
    takes: list[Arr]
    units: list[Arr]

    @property
    def total(self) -> Arr:
        out = self.seg.total
        for take, u in zip(self.takes, self.units, strict=True):
            out = out + rdiv(take, u)
        return out

    def paid_used(self, room: Arr) -> tuple[Arr, Arr]:
        """Payment within ``room`` and the amount it consumed, in the scalar engine's order."""
        paid = np.minimum(self.seg.total, room)
        used = consumed(self.seg, self.start, self.take0, room)
        for take, u in zip(self.takes, self.units, strict=True):
            left = room - paid
            p = rdiv(take, u)
            over = p > left
            x = np.where(left > 0, (left * 10000 - 5000 + u - 1) // np.maximum(u, 1), 0)
            used = used + np.where(over, np.clip(x, 0, take), take)
            paid = paid + np.minimum(p, left)
        return paid, used


def pool_parts(r: Rows, act: Arr, elig_in: Arr, start: Arr, local: bool) -> PoolParts:
    frm, units, k = (
        (r.local_from, r.local_u, r.local_k) if local else (r.bands_from, r.bands_u, r.bands_k)
    )
    cp = r.data.get("cp")
    takes: list[Arr] = []
    cls_units: list[Arr] = []
    take0 = elig_in
    if cp is not None:
        rest = r.inscp - cp.sum(axis=1)
        dedc = np.minimum(act, rest)
        left_dedc = act - dedc
        take0 = np.maximum(0, np.minimum(rest - dedc, elig_in))
        left = elig_in - take0
        for j in range(cp.shape[1]):
            amount = np.where(j < r.cls_n, cp[:, j], 0)
            cut = np.minimum(left_dedc, amount)
            left_dedc = left_dedc - cut
            take = np.maximum(0, np.minimum(amount - cut, left))
            left = left - take
            takes.append(take)
            cls_units.append((r.cls_ul if local else r.cls_u)[:, j])
    seg = segments(start, take0, frm, units, k, None)
    return PoolParts(start, elig_in, seg, take0, takes, cls_units)


def pooled(
    r: Rows, act: Arr, pp: PoolParts, elig: Arr, hifp_before: Arr, chron_before: Arr
) -> Pooled:
    """统筹基金: (政策范围内 − 起付线) × ratio on the cumulative axis, item classes at their own
    ratio, within the caps."""
    fund_room = np.where(
        (r.covered == 1) & (r.cap < INF) & (r.eligible == 0),
        np.maximum(0, r.cap - hifp_before),
        INF,
    )
    dis_room = np.where(r.dis_limit >= 0, np.maximum(0, r.dis_limit - chron_before), INF)
    fund_room = np.minimum(fund_room, dis_room)
    hifp, used = pp.paid_used(fund_room)
    cov = r.covered == 1
    reduction = np.zeros(len(hifp), I64)
    adj = cov & (r.xr_ratio == 1)
    if adj.any():
        i = np.nonzero(adj)[0]
        sub = r.take(i)
        local = pool_parts(sub, act[i], pp.elig_in[i], pp.start[i], True)
        reduction[i] = np.maximum(0, local.paid_used(fund_room[i])[0] - hifp[i])
    prop = ratio_at(r.bands_from, r.bands_u, r.bands_k, pp.start)
    return Pooled(
        hifp=np.where(cov, hifp, 0),
        used=np.where(cov, used, 0),
        over_cap=np.where(cov, elig - used, 0),
        reduction=reduction,
        prop=np.where(cov, prop, 0),
        elig_in=pp.elig_in,
    )


def serious_base(r: Rows, act: Arr, p: Pooled) -> Arr:
    """大病/大额 base of this bill (co-pay, deductible, over-cap, cross-region as the rule says)."""
    psn_scp = r.inscp - p.hifp
    copay = psn_scp - act - p.over_cap
    nego = r.s_nego_only == 1
    sep_over = (r.s_ocr >= 0) & ~nego
    base_n = np.where(
        (r.nego_ins > 0) & (r.inscp > 0), r.nego_ins - muldiv(p.hifp, r.nego_ins, r.inscp), 0
    )
    base = np.where(
        r.s_copay == 1, np.where(r.s_excl_xr == 1, np.maximum(0, copay - p.reduction), copay), 0
    )
    base = base + np.where(r.s_dedc == 1, act, 0)
    base = base + np.where((r.s_over == 1) & ~sep_over, p.over_cap, 0)
    return np.where(r.s_on == 1, np.where(nego, base_n, base), 0)


def serious_uncapped(r: Rows, base: Arr, base_before: Arr, p: Pooled) -> Arr:
    s = segments(base_before, base, r.s_bands_from, r.s_bands_u, r.s_bands_k, r.s_ded)
    sep = (r.s_ocr >= 0) & (r.s_nego_only == 0) & (r.s_over == 1)
    over = np.where(sep, rdiv(p.over_cap, np.maximum(r.s_ocr, 0)), 0)
    return np.where(r.s_on == 1, s.total + over, 0)


def capped(unc: Arr, cap: Arr, before: Arr) -> Arr:
    """A payment within what is left of an annual cap."""
    out: Arr = np.minimum(unc, np.where(cap < INF, np.maximum(0, cap - before), INF))
    return out


def civil_base(r: Rows, psn_scp: Arr, serious: Arr, act: Arr) -> Arr:
    remaining = psn_scp - serious
    out: Arr = np.where(r.c_with_dedc == 1, remaining, np.maximum(0, remaining - act))
    return out


def civil_uncapped(r: Rows, psn_scp: Arr, serious: Arr, act: Arr) -> Arr:
    on = (r.c_on == 1) & (r.cvl == 1)
    return np.where(on, rdiv(civil_base(r, psn_scp, serious, act), r.c_units), 0)


def assist_base(r: Rows, remaining: Arr, act: Arr) -> Arr:
    base = np.where(r.a_with_dedc == 1, remaining, np.maximum(0, remaining - act))
    return np.where(r.a_on == 1, base, 0)


def single_band(start: Arr, amount: Arr, units: Arr, floor: Arr) -> Arr:
    """A one-ratio payment above ``floor`` on a cumulative axis (救助 and 倾斜救助)."""
    seg = np.maximum(0, start + np.maximum(amount, 0) - np.maximum(start, floor))
    return np.where(amount > 0, rdiv(seg, units), 0)


@dataclass
class Account:
    fund_sum: Arr
    psn_part: Arr
    payable: Arr
    own: Arr
    mulaid: Arr
    cash: Arr


def payable(r: Rows, fund_sum: Arr) -> tuple[Arr, Arr]:
    psn_part = r.tot - fund_sum
    pay = psn_part - np.where(r.pays_ful == 1, 0, r.ful) - np.where(r.pays_over == 1, 0, r.over)
    return psn_part, np.maximum(0, pay)


def account(r: Rows, fund_sum: Arr, bal_before: Arr, mul_before: Arr) -> Account:
    """个人账户 (own, then 共济 with flag 2), then cash."""
    psn_part, pay = payable(r, fund_sum)
    own = np.where(r.acct_flag >= 1, np.minimum(np.maximum(0, bal_before), pay), 0)
    mul = np.where(r.acct_flag == 2, np.minimum(np.maximum(0, mul_before), pay - own), 0)
    return Account(fund_sum, psn_part, pay, own, mul, psn_part - own - mul)


# --------------------------------------------------------------------------- outputs

OUTPUTS = (
    "medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
    "act_pay_dedc", "hifp_pay", "pool_prop_selfpay", "cvlserv_pay", "hifmi_pay", "hifob_pay",
    "maf_pay", "oth_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay",
    "acct_mulaid_pay", "balc",
)  # fmt: skip


@dataclass
class Result:
    """Per-bill outputs of one scenario (setlinfo names, fen; pool_prop_selfpay in 1/10000)."""

    cols: dict[str, Arr]

    def put(self, idx: Arr, other: Result) -> None:
        for k, v in other.cols.items():
            self.cols[k][idx] = v


def result_names() -> tuple[str, ...]:
    return OUTPUTS


def _field_names(cls: Any) -> list[str]:
    return [f.name for f in fields(cls)]
