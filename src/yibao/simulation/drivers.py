"""Two ways to supply the year-to-date state to the stages (:mod:`.kernel`), one stage runner.

:func:`run_stages` walks the settlement order once over a batch of rows. Whenever a stage needs a
state *before* each row (deductible already paid, cap consumed, position on a band axis) it asks a
provider, giving the uncapped increments ``u`` and the caps ``c``:

- :class:`ClosedForm` answers for all rows at once from cumulative sums per person-year
  (:func:`.scan.consume`), records what each row read, and afterwards :meth:`ClosedForm.bad_groups`
  compares every read with the sum of what the earlier rows actually added;
- :class:`Sequential` keeps the state in arrays per person-year and answers rank by rank (the
  k-th bill of every person at once): exact in every case, used for the person-years where the
  closed form's check failed (nested caps both reached, caps that fall during a year …).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from yibao.simulation import kernel as k
from yibao.simulation.kernel import INF, Rows
from yibao.simulation.scan import CMAX, Groups, consume, excl_sum, mismatched

Arr = np.ndarray

# state name → number of sub-keys (0: sparse key such as a disease; None: no sub-key)
STATES: dict[str, int | None] = {
    "adm": None, "inscp": 3, "dedc": 3, "elig": 4, "hifp": 4, "chron": 0, "sbase": None,
    "spay": None, "cvl": None, "mbase": 3, "mset": 3, "mtot": None, "m2base": None,
    "m2pay": None, "own": None, "mul": None,
}  # fmt: skip


class Provider(Protocol):
    def before(self, name: str, u: Arr, c: Arr | None, sub: Arr | None = None) -> Arr: ...

    def add(self, name: str, inc: Arr, reads: Arr | None, sub: Arr | None = None) -> None: ...


@dataclass
class ClosedForm:
    groups: Groups
    init: dict[str, Arr] | None = None  # opening state per group (G, width), e.g. case files
    checks: list[tuple[str, Arr, Arr, Arr, Arr | None]] = field(default_factory=list)
    guesses: dict[str, Arr] = field(default_factory=dict)

    def _h(self, name: str, sub: Arr | None) -> Arr | None:
        if self.init is None or name not in self.init:
            return None
        s = np.zeros(len(self.groups.gid), np.int64) if sub is None else np.maximum(sub, 0)
        out: Arr = self.init[name][self.groups.gid, s]
        return out

    def before(self, name: str, u: Arr, c: Arr | None, sub: Arr | None = None) -> Arr:
        nsub = STATES[name] or 0
        h = self._h(name, sub)
        if c is None:
            out = excl_sum(u, self.groups, sub, nsub)
        else:
            out = consume(
                u, c if h is None else np.where(c >= CMAX, c, c - h), self.groups, sub, nsub
            )
        if h is not None:
            out = out + h
        self.guesses[name] = out
        return out

    def add(self, name: str, inc: Arr, reads: Arr | None, sub: Arr | None = None) -> None:
        if reads is not None and reads.any():
            self.checks.append((name, self.guesses[name], inc, reads, sub))

    def bad_groups(self) -> Arr:
        bad = np.zeros(self.groups.count, bool)
        for name, guess, inc, reads, sub in self.checks:
            h = self._h(name, sub)
            g = guess if h is None else guess - h
            bad |= mismatched(g, inc, reads, self.groups, sub, STATES[name] or 0)
        return bad


@dataclass
class Sequential:
    """State per person-year (rows of one rank at a time: one row per person-year)."""

    n_groups: int
    width: dict[str, int]
    init: dict[str, Arr] = field(default_factory=dict)
    state: dict[str, Arr] = field(default_factory=dict)
    gg: Arr = field(default_factory=lambda: np.zeros(0, np.int64))

    def __post_init__(self) -> None:
        for name in STATES:
            w = max(self.width.get(name, 1), 1)
            state = np.zeros((self.n_groups, w), np.int64)
            if name in self.init:
                given = self.init[name]
                state[:, : given.shape[1]] = given[:, :w]
            self.state[name] = state

    def _sub(self, sub: Arr | None) -> Arr:
        return np.zeros(len(self.gg), np.int64) if sub is None else np.maximum(sub, 0)

    def before(self, name: str, u: Arr, c: Arr | None, sub: Arr | None = None) -> Arr:
        out: Arr = self.state[name][self.gg, self._sub(sub)]
        return out

    def add(self, name: str, inc: Arr, reads: Arr | None, sub: Arr | None = None) -> None:
        s = self._sub(sub)
        keep = np.ones(len(inc), bool) if sub is None else sub >= 0
        np.add.at(self.state[name], (self.gg[keep], s[keep]), inc[keep])


def _cap_or_none(cap: Arr, on: Arr) -> Arr:
    return np.where(on, cap, INF)


def run_stages(r: Rows, pv: Provider) -> dict[str, Arr]:
    """Settle a batch of rows (see the module docstring); returns the setlinfo columns."""
    line = r.line == 1
    setting = np.where(line, r.setting, -1)
    cov = r.covered == 1
    # admissions and the policy-range axis: plain cumulative sums
    is_inp = (line & (r.setting == 0)).astype(np.int64)
    adm = pv.before("adm", is_inp, None)
    pv.add("adm", is_inp, None)
    nth = np.where(r.admission_no >= 0, r.admission_no, adm + 1)
    inscp_in = np.where(line, r.inscp, 0)
    inscp_before = pv.before("inscp", inscp_in, None, setting)
    pv.add("inscp", inscp_in, None, setting)
    # 起付线
    d_adm, dbase = k.deductible_parts(r, nth)
    dcap = np.where(r.dedc_cap > 0, r.dedc_cap, INF)
    annual = r.annual == 1
    active = cov & (r.exempt == 0)
    u = np.where(active, np.where(annual, r.inscp, np.minimum(d_adm, r.inscp)), 0)
    c = np.where(annual, np.minimum(dbase, dcap), dcap)
    prior = pv.before("dedc", u, c, setting)
    act = k.deductible(r, nth, prior)
    pv.add("dedc", act, active & (annual | (r.dedc_cap > 0)), setting)
    # 统筹基金
    pool = np.where(cov, r.pool, -1)
    elig_u = np.where(cov, r.inscp - act, 0)
    elig_cap = _cap_or_none(r.cap, cov & (r.eligible == 1))
    elig_before = pv.before("elig", np.maximum(elig_u, 0), elig_cap, pool)
    elig_in, start, elig = k.pool_inputs(r, act, inscp_before, elig_before)
    parts = k.pool_parts(r, act, elig_in, start, local=False)
    unc = parts.total
    dis = np.where(r.disease == 1, r.dis_idx, -1)  # fund paid per disease, limited or not
    dis_cap = np.where(r.dis_limit >= 0, r.dis_limit, INF)
    chron_before = pv.before("chron", np.where(dis >= 0, unc, 0), dis_cap, dis)
    q = k.capped(unc, dis_cap, chron_before)
    fund_cap = _cap_or_none(r.cap, cov & (r.eligible == 0))
    hifp_before = pv.before("hifp", np.where(cov, q, 0), fund_cap, pool)
    p = k.pooled(r, act, parts, elig, hifp_before, chron_before)
    pv.add("elig", p.used, cov & (r.eligible == 1) & (r.cap < INF), pool)
    pv.add("hifp", p.hifp, cov & (r.eligible == 0) & (r.cap < INF), pool)
    pv.add("chron", np.where(dis >= 0, p.hifp, 0), r.dis_limit >= 0, dis)
    psn_scp = r.inscp - p.hifp
    # 大病保险 / 大额补助
    s_on = r.s_on == 1
    base = k.serious_base(r, act, p)
    sbase_before = pv.before("sbase", base, None)
    pv.add("sbase", base, None)
    unc_s = k.serious_uncapped(r, base, sbase_before, p)
    spay_before = pv.before("spay", unc_s, r.s_cap)
    serious = np.where(s_on, k.capped(unc_s, r.s_cap, spay_before), 0)
    pv.add("spay", serious, s_on & (r.s_cap < INF))
    # 公务员医疗补助
    c_on = (r.c_on == 1) & (r.cvl == 1)
    unc_c = k.civil_uncapped(r, psn_scp, serious, act)
    cvl_before = pv.before("cvl", np.maximum(unc_c, 0), r.c_cap)
    cvl = np.where(c_on, k.capped(unc_c, r.c_cap, cvl_before), 0)
    pv.add("cvl", cvl, c_on & (r.c_cap < INF))
    # 医疗救助, 倾斜救助
    a_on = r.a_on == 1
    remaining = psn_scp - serious - cvl
    mb = k.assist_base(r, remaining, act)
    a_set = np.where(a_on, setting, -1)
    mbase_before = pv.before("mbase", mb, None, a_set)
    pv.add("mbase", mb, None, a_set)
    unc1 = np.where(a_on, k.single_band(mbase_before, mb, r.a_units, r.a_ded), 0)
    mset_before = pv.before("mset", unc1, r.a_cap_set, a_set)
    q1 = k.capped(unc1, r.a_cap_set, mset_before)
    mtot_before = pv.before("mtot", q1, r.a_cap)
    maf1 = np.where(a_on, k.capped(q1, r.a_cap, mtot_before), 0)
    pv.add("mset", maf1, a_on & (r.a_cap_set < INF), a_set)
    pv.add("mtot", maf1, a_on & (r.a_cap < INF))
    t_on = a_on & (r.a_t_units > 0)
    m2b = np.where(t_on, remaining - maf1, 0)
    m2b_before = pv.before("m2base", m2b, None)
    pv.add("m2base", m2b, None)
    unc2 = np.where(t_on, k.single_band(m2b_before, m2b, r.a_t_units, r.a_t_thr), 0)
    m2p_before = pv.before("m2pay", unc2, r.a_t_cap)
    maf2 = np.where(t_on, k.capped(unc2, r.a_t_cap, m2p_before), 0)
    pv.add("m2pay", maf2, t_on & (r.a_t_cap < INF))
    maf = maf1 + maf2
    # 个人账户, 现金
    fund_sum = p.hifp + serious + cvl + maf
    _, pay = k.payable(r, fund_sum)
    own_on = r.acct_flag >= 1
    own_before = pv.before("own", np.where(own_on, pay, 0), np.maximum(0, r.acct_open))
    mul_on = r.acct_flag == 2
    own_guess = np.where(own_on, np.minimum(np.maximum(0, r.acct_open - own_before), pay), 0)
    mul_before = pv.before(
        "mul", np.where(mul_on, pay - own_guess, 0), np.maximum(0, r.mulaid_open)
    )
    acct = k.account(r, fund_sum, r.acct_open - own_before, r.mulaid_open - mul_before)
    pv.add("own", acct.own, own_on)
    pv.add("mul", acct.mulaid, mul_on)
    # which caps bound on this bill (for coverage reports and tests): 1 pooled cap or disease
    # limit, 2 大病 cap, 4 公务员 cap, 8 救助 cap, 16 倾斜救助 cap, 32 account balance used up
    hit = (
        (cov & (p.hifp < unc)).astype(np.int64)
        | ((s_on & (serious < unc_s)).astype(np.int64) << 1)
        | ((c_on & (cvl < unc_c)).astype(np.int64) << 2)
        | ((a_on & (maf1 < unc1)).astype(np.int64) << 3)
        | ((t_on & (maf2 < unc2)).astype(np.int64) << 4)
        | ((own_on & (acct.own < pay)).astype(np.int64) << 5)
    )
    fpt = r.s_fpt
    hifmi = np.where(s_on & ((fpt == 0) | (fpt == 3)), serious, 0)
    hifob = np.where(s_on & (fpt == 1), serious, 0)
    return {
        "medfee_sumamt": r.tot, "fulamt_ownpay_amt": r.ful, "overlmt_selfpay": r.over,
        "preselfpay_amt": r.pre, "inscp_scp_amt": r.inscp, "act_pay_dedc": act,
        "hifp_pay": p.hifp, "pool_prop_selfpay": p.prop, "cvlserv_pay": cvl, "hifmi_pay": hifmi,
        "hifob_pay": hifob, "maf_pay": maf, "oth_pay": serious - hifmi - hifob,
        "fund_pay_sumamt": fund_sum, "psn_part_amt": acct.psn_part,
        "acct_pay": acct.own + acct.mulaid, "psn_cash_pay": acct.cash,
        "acct_mulaid_pay": acct.mulaid, "balc": r.acct_open - own_before - acct.own,
        "serious_pay": serious, "cap_hit": hit,
    }  # fmt: skip


def widths(r: Rows) -> dict[str, int]:
    """Sub-key widths for the sequential state (the sparse disease key by its largest index)."""
    out = {name: (w if w else 1) for name, w in STATES.items() if w is not None}
    out["chron"] = int(r.dis_idx.max()) + 1 if len(r.dis_idx) else 1
    return out


def sequential(r: Rows, g: Groups, init: dict[str, Arr] | None = None) -> dict[str, Arr]:
    """Settle the rows of the groups ``g`` rank by rank (exact for every rule combination)."""
    seq = Sequential(g.count, widths(r), init or {})
    out: dict[str, Arr] = {}
    for rank in range(int(g.rank.max()) + 1 if len(g.rank) else 0):
        idx = np.nonzero(g.rank == rank)[0]
        seq.gg = g.gid[idx]
        cols = run_stages(r.take(idx), seq)
        for name, col in cols.items():
            if name not in out:
                out[name] = np.zeros(len(r.tot), col.dtype)
            out[name][idx] = col
    return out
