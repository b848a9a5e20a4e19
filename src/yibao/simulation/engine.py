"""The vectorised settlement engine (向量化结算引擎): one partition, several scenarios.

``run_partition(bills, items, scenarios)`` prepares the partition once (codes, person-year
groups, keys; :mod:`.prepare`), then for each scenario gathers its rule rows (:mod:`.rules`),
splits the item lines, settles every bill in closed form with cumulative sums per person
(:mod:`.drivers`, :mod:`.scan`), checks every state a bill read, and settles the person-years
whose check failed rank by rank. Same rules, same rounding, same order as
:func:`yibao.settlement.engine.settle`: the results agree to the fen (tests/unit/simulation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yibao.policy.model import PolicyError
from yibao.settlement.model import SettlementError
from yibao.simulation import kernel as k
from yibao.simulation.drivers import ClosedForm, run_stages, sequential
from yibao.simulation.prepare import Prepared, prepare
from yibao.simulation.reform import change_dates
from yibao.simulation.rules import ASSIST_OFF, Resolver, Scenario, SimulationError, table
from yibao.simulation.scan import Groups

Arr = np.ndarray
_FLAGS = {
    "covered", "line", "annual", "exempt", "eligible", "disease", "xr_ratio", "setting", "pool",
    "s_on", "s_copay", "s_dedc", "s_over", "s_excl_xr", "s_nego_only", "s_fpt", "c_on",
    "c_with_dedc", "a_on", "a_with_dedc", "pays_ful", "pays_over",
}  # fmt: skip
_CAPS = {"cap": "cap", "s_cap": "s_cap", "c_cap": "c_cap", "a_cap": "a_cap"}
_CAPS.update(a_cap_set="a_cap_set", a_t_cap="a_t_cap")


@dataclass
class Outcome:
    """Per-bill results of one scenario on one partition, and how they were obtained."""

    scenario: str
    cols: dict[str, Arr]
    sequential_groups: int = 0  # person-years settled rank by rank after a failed check
    groups: int = 0


@dataclass
class _Resolvers:
    by_scenario: dict[int, Resolver] = field(default_factory=dict)

    def get(self, scenario: Scenario) -> Resolver:
        key = id(scenario)
        hit = self.by_scenario.get(key)
        if hit is None or hit.scenario is not scenario:
            hit = Resolver(scenario)
            self.by_scenario[key] = hit
        return hit


_RESOLVERS = _Resolvers()


def calendars(scenarios: Sequence[Scenario], regions: Sequence[str]) -> dict[str, list[date]]:
    """Per region, every date on which a parameter changes in any of the scenarios."""
    out: dict[str, list[date]] = {}
    for code in regions:
        days: set[date] = set()
        for sc in scenarios:
            if code in sc.tree.regions:
                days.update(change_dates(sc.tree, code))
        if any(sc.overrides for sc in scenarios):
            days.add(date(1900, 1, 1))
        out[code] = sorted(days)
    return out


def _gather(prep: Prepared, res: Resolver) -> dict[str, Arr]:
    out: dict[str, Arr] = {}
    enrol = prep.cols["enrol"]

    def add(name: str, rows: list[dict[str, Any]], prefix: str) -> None:
        inv = prep.keyed[name].inv
        cols = table(rows)
        for col, values in cols.items():
            full = prefix + col
            if col.endswith("_n") and col[:-2] + "_m" in cols:  # cap steps → the cap of the row
                base = col[:-2]
                steps = cols[base + "_m"], cols[base + "_a"]
                n = values[inv]
                cap = np.where(n > 0, steps[1][inv, 0], k.INF)
                for s in range(1, int(values.max(initial=0))):
                    take = (n > s) & (steps[0][inv, s] <= enrol)
                    cap = np.where(take, steps[1][inv, s], cap)
                out[prefix + base] = cap
            elif col.endswith(("_m", "_a")) and col[:-2] + "_n" in cols:
                continue
            elif col.endswith(("_from", "_u")):
                kk = max(int(cols[col.rsplit("_", 1)[0] + "_k"].max(initial=1)), 1)
                out[full] = values[:, :kk][inv]
            else:
                out[full] = values[inv].astype(np.int8 if full in _FLAGS else np.int64)

    try:
        keyed = prep.keyed
        add("region", [res.region_row(*key) for key in keyed["region"].keys], "")  # type: ignore[arg-type]
        add("basic", [res.basic_row(*key) for key in keyed["basic"].keys], "")  # type: ignore[arg-type]
        add("serious", [res.serious_row(*key) for key in keyed["serious"].keys], "s_")  # type: ignore[arg-type]
        add("civil", [res.civil_row(*key) for key in keyed["civil"].keys], "c_")  # type: ignore[arg-type]
        add(
            "assist",
            [
                dict(ASSIST_OFF) if key[3] is None else res.assistance_row(*key)  # type: ignore[arg-type]
                for key in keyed["assist"].keys
            ],
            "a_",
        )
    except (PolicyError, SettlementError) as exc:
        raise SimulationError(f"{res.scenario.id}: {exc}") from exc
    return out


def split(prep: Prepared, first_pay: Arr, extra: Arr) -> dict[str, Arr]:
    """明细分割 of every item line, summed per bill (tot, ful, over, pre, inscp, nego_ins)."""
    it = prep.items
    row = it["row"]
    amt = it["amount"]
    ful_mask = ~it["incat"] | (it["lv"] == 3) | it["refused"]
    ab = ~ful_mask
    limit = (it["lim"] * it["cnt"] + 5000) // 10000
    over = np.where(ab & (it["lim"] >= 0) & (amt > limit), amt - limit, 0)
    allowed = amt - over
    prop = np.where(it["prop"] >= 0, it["prop"], first_pay[row])
    pre = np.where(ab & (it["lv"] == 2), k.rdiv(allowed, prop), 0)
    ex = extra[row]
    pre = pre + np.where(ab & (ex > 0), k.rdiv(allowed - pre, ex), 0)
    ful = np.where(ful_mask, amt, 0)
    ins = amt - ful - over - pre
    lo, hi = prep.item_bounds
    out = {}
    for name, values in (
        ("tot", amt), ("ful", ful), ("over", over), ("pre", pre), ("inscp", ins),
        ("nego_ins", np.where(it["nego"], ins, 0)),
    ):  # fmt: skip
        cs = np.concatenate([[0], np.cumsum(values)])
        out[name] = cs[hi] - cs[lo]
    return out


def _init_for(prep: Prepared, opening: Mapping[int, Any] | None) -> dict[str, Arr] | None:
    if not opening:
        return None
    from yibao.simulation.scalar import init_arrays

    return init_arrays(prep, opening)


def run_partition(
    bills: pa.Table,
    items: pa.Table,
    scenarios: Sequence[Scenario],
    opening: Mapping[int, Any] | None = None,
    mode: str = "auto",
) -> tuple[Prepared, list[Outcome]]:
    """Settle every bill of one partition under each scenario.

    ``opening`` (optional, case files): accumulators per group index at the start of the year.
    ``mode``: ``auto`` (closed form, checked, failed person-years rank by rank), ``sequential``
    (every person-year rank by rank; for tests of the fallback itself).
    """
    if mode not in ("auto", "sequential"):
        raise ValueError(f"mode: {mode!r} is not auto or sequential")
    codes = sorted({str(v) for v in pc.unique(bills["insuplc_admdvs"]).to_pylist()})
    prep = prepare(bills, items, calendars(scenarios, codes))
    if prep.n == 0:
        names = (*k.OUTPUTS, "serious_pay", "cap_hit")
        return prep, [Outcome(sc.id, {n: np.zeros(0, np.int64) for n in names}) for sc in scenarios]
    init = _init_for(prep, opening)
    outcomes = []
    last: tuple[Arr, Arr, dict[str, Arr]] | None = None
    for sc in scenarios:
        rules = _gather(prep, _RESOLVERS.get(sc))
        fp, ex = rules["first_pay"], rules["extra_fp"]
        if last is not None and np.array_equal(last[0], fp) and np.array_equal(last[1], ex):
            parts = last[2]  # same first-pay defaults and extra first-pay: the same split
        else:
            parts = split(prep, fp, ex)
            last = (fp, ex, parts)
        data = {**rules, **parts}
        for name in (
            "days",
            "admission_no",
            "enrol",
            "cvl",
            "acct_flag",
            "acct_open",
            "mulaid_open",
        ):
            data[name] = prep.cols[name]
        data["dis_idx"] = prep.cols["dise"]
        rows = k.Rows(data)
        cf = ClosedForm(prep.groups, init)
        cols = run_stages(rows, cf)
        bad = cf.bad_groups() if mode == "auto" else np.ones(prep.groups.count, bool)
        n_bad = int(bad.sum())
        if n_bad:
            idx = np.nonzero(bad[prep.groups.gid])[0]
            starts = np.zeros(len(idx), bool)
            gsub = prep.groups.gid[idx]
            starts[0] = True
            starts[1:] = gsub[1:] != gsub[:-1]
            sub_init = None if init is None else {n: v[np.nonzero(bad)[0]] for n, v in init.items()}
            seq = sequential(rows.take(idx), Groups.from_starts(starts), sub_init)
            for name, col in seq.items():
                cols[name][idx] = col
        outcomes.append(Outcome(sc.id, cols, n_bad, prep.groups.count))
    return prep, outcomes
