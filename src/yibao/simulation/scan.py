"""Cumulative sums per person (按人累计): the path-dependent parts without a loop over bills.

Rows are sorted by person-year (``gid`` ascending, each group contiguous, bills in time order).
Year-to-date state is an *exclusive* cumulative sum per group — per group and sub-key where the
state is kept per line, pool or disease. A capped state (deductible consumed, cap consumed) follows
``H_k = H_k-1 + min(u_k, max(0, c_k − H_k-1))``; :func:`consume` gives it in closed form,
``H_k = U_k + min(0, min_j≤k (c_j − U_j))`` with ``U`` the cumulative uncapped amounts, which is
exact whenever it never decreases (always for a constant or growing cap). The engine checks every
value it read against the cumulative sum of what was actually paid (:func:`excl_sum`) and replays
the few person-years where that check fails row by row (exact in every case).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yibao.simulation.rules import SimulationError

Arr = np.ndarray
CMAX = np.int64(1 << 42)  # caps at or above this never bind (a person-year stays far below)
_B = np.int64(1 << 43)  # offset between groups for the segmented minimum
_CHUNK = 1 << 19  # groups per chunk so that group × offset stays inside int64


@dataclass(frozen=True)
class Groups:
    """Contiguous groups (person-years) over sorted rows."""

    gid: Arr  # (n,) group of each row, 0..G-1 ascending
    first: Arr  # (G,) first row of each group
    rank: Arr  # (n,) position of the row in its group

    @classmethod
    def from_starts(cls, starts: Arr) -> Groups:
        gid = np.cumsum(starts) - 1
        first = np.nonzero(starts)[0]
        rank = np.arange(len(gid)) - first[gid] if len(gid) else np.zeros(0, np.int64)
        return cls(gid.astype(np.int64), first.astype(np.int64), rank.astype(np.int64))

    @property
    def count(self) -> int:
        return len(self.first)


def _excl(x: Arr, gid: Arr, first: Arr) -> Arr:
    inc = np.cumsum(x)
    ex = inc - x
    out: Arr = ex - ex[first][gid] if len(x) else ex
    return out


def excl_sum(x: Arr, g: Groups, sub: Arr | None = None, nsub: int = 0) -> Arr:
    """Sum of ``x`` over the earlier rows of the same group (and the same ``sub`` ≥ 0)."""
    if sub is None:
        return _excl(x, g.gid, g.first)
    if nsub <= 0:
        return _excl_sparse(x, g, sub)
    out = np.zeros(len(x), np.int64)
    for s in range(nsub):
        m = sub == s
        if m.any():
            out = np.where(m, _excl(np.where(m, x, 0), g.gid, g.first), out)
    return out


def _excl_sparse(x: Arr, g: Groups, key: Arr) -> Arr:
    """:func:`excl_sum` keyed by an arbitrary small integer ``key`` (rows with key < 0: 0)."""
    out = np.zeros(len(x), np.int64)
    idx = np.nonzero(key >= 0)[0]
    if not len(idx):
        return out
    comp = g.gid[idx] * (int(key.max()) + 1) + key[idx]
    order = np.argsort(comp, kind="stable")
    c = comp[order]
    starts = np.ones(len(c), bool)
    starts[1:] = c[1:] != c[:-1]
    sg = Groups.from_starts(starts)
    out[idx[order]] = _excl(x[idx][order], sg.gid, sg.first)
    return out


def _consume_sorted(u: Arr, c: Arr, starts: Arr) -> Arr:
    """Closed-form consumption for rows already in group order (``starts`` marks groups)."""
    g = Groups.from_starts(starts)
    ue = _excl(u, g.gid, g.first)
    ui = ue + u
    if len(ui) and int(ui.max()) >= int(CMAX):
        raise SimulationError("amount: a person-year's cumulative amount exceeds 2^42 fen")
    v = np.where((c >= CMAX) | (u == 0), 0, np.minimum(c - ui, 0))
    mex = np.zeros(len(v), np.int64)
    n_groups = g.count
    for lo in range(0, n_groups, _CHUNK):
        hi = min(n_groups, lo + _CHUNK)
        r0 = g.first[lo]
        r1 = g.first[hi] if hi < n_groups else len(v)
        local = g.gid[r0:r1] - lo
        w = v[r0:r1] - local * _B
        incl = np.minimum.accumulate(w) + local * _B
        ex = np.empty(r1 - r0, np.int64)
        ex[0] = 0
        ex[1:] = incl[:-1]
        ex[g.first[lo:hi] - r0] = 0
        mex[r0:r1] = ex
    return ue + np.minimum(0, mex)


def consume(u: Arr, c: Arr, g: Groups, sub: Arr | None = None, nsub: int = 0) -> Arr:
    """The state before each row of ``H_k = H_k-1 + min(u_k, max(0, c_k − H_k-1))`` per group
    (and sub-key), in closed form; ``u`` ≥ 0 are the uncapped increments, ``c`` the caps."""
    if sub is None:
        starts = np.zeros(len(u), bool)
        starts[g.first] = True
        return _consume_sorted(u, c, starts)
    out = np.zeros(len(u), np.int64)
    if nsub > 0:
        for s in range(nsub):
            idx = np.nonzero(sub == s)[0]
            if len(idx):
                out[idx] = _consume_idx(u, c, g, idx)
        return out
    idx = np.nonzero(sub >= 0)[0]
    if len(idx):
        comp = g.gid[idx] * (int(sub.max()) + 1) + sub[idx]
        order = np.argsort(comp, kind="stable")
        idx = idx[order]
        cs = comp[order]
        starts = np.ones(len(idx), bool)
        starts[1:] = cs[1:] != cs[:-1]
        out[idx] = _consume_sorted(u[idx], c[idx], starts)
    return out


def _consume_idx(u: Arr, c: Arr, g: Groups, idx: Arr) -> Arr:
    gg = g.gid[idx]
    starts = np.ones(len(idx), bool)
    starts[1:] = gg[1:] != gg[:-1]
    return _consume_sorted(u[idx], c[idx], starts)


def mismatched(
    guess: Arr, actual_inc: Arr, reads: Arr, g: Groups, sub: Arr | None = None, nsub: int = 0
) -> Arr:
    """Groups where a row read a state other than the sum of what earlier rows added."""
    true = excl_sum(actual_inc, g, sub, nsub)
    bad = reads & (guess != true)
    out = np.zeros(g.count, bool)
    out[g.gid[bad]] = True
    return out
