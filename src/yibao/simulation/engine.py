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
    """The resolvers of the last scenarios seen in this process (by identity; a worker keeps
    them across the partitions of a run, and forgets old runs)."""

    recent: list[Resolver] = field(default_factory=list)
    keep: int = 8

    def get(self, scenario: Scenario) -> Resolver:
        for res in self.recent:
            if res.scenario is scenario:
                return res
        res = Resolver(scenario)
        self.recent = [res, *self.recent][: self.keep]
        return res


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


TABLES = ("region", "basic", "serious", "civil", "assist")
_PREFIX = {"region": "", "basic": "", "serious": "s_", "civil": "c_", "assist": "a_"}


def _rule_rows(prep: Prepared, res: Resolver) -> dict[str, list[dict[str, Any]]]:
    """The rule row of every distinct key of the partition, per table (cached row objects)."""
    keyed = prep.keyed
    off = res._cached(("assist-off",), lambda: dict(ASSIST_OFF))
    try:
        return {
            "region": [res.region_row(*key) for key in keyed["region"].keys],  # type: ignore[arg-type]
            "basic": [res.basic_row(*key) for key in keyed["basic"].keys],  # type: ignore[arg-type]
            "serious": [res.serious_row(*key) for key in keyed["serious"].keys],  # type: ignore[arg-type]
            "civil": [res.civil_row(*key) for key in keyed["civil"].keys],  # type: ignore[arg-type]
            "assist": [
                off if key[3] is None else res.assistance_row(*key)  # type: ignore[arg-type]
                for key in keyed["assist"].keys
            ],
        }
    except (PolicyError, SettlementError) as exc:
        raise SimulationError(f"{res.scenario.id}: {exc}") from exc


@dataclass
class _Table:
    """Every rule row a resolver has produced for one table, as gather-ready columns (rebuilt
    only when new rows appear: the columns of a partition's chunks are converted once)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    index: dict[int, int] = field(default_factory=dict)  # id(row) → position
    cols: dict[str, Arr] = field(default_factory=dict)
    built: int = -1

    def positions(self, rows: list[dict[str, Any]]) -> Arr:
        out = np.empty(len(rows), np.int64)
        for i, r in enumerate(rows):
            pos = self.index.get(id(r))
            if pos is None:
                pos = self.index[id(r)] = len(self.rows)
                self.rows.append(r)
            out[i] = pos
        return out

    def columns(self, prefix: str) -> dict[str, Arr]:
        if self.built != len(self.rows):
            raw = table(self.rows)
            cols: dict[str, Arr] = {}
            for col, values in raw.items():
                full = prefix + col
                if col.endswith(("_from", "_u")) and col.rsplit("_", 1)[0] + "_k" in raw:
                    kk = max(int(raw[col.rsplit("_", 1)[0] + "_k"].max(initial=1)), 1)
                    cols[col] = np.ascontiguousarray(values[:, :kk])
                elif col in ("cls_s", "cls_u", "cls_ul"):
                    kk = max(int(raw["cls_n"].max(initial=1)), 1)
                    cols[col] = np.ascontiguousarray(values[:, :kk])
                elif values.ndim == 1 and not (col.endswith("_n") and col[:-2] + "_m" in raw):
                    cols[col] = values.astype(np.int8 if full in _FLAGS else np.int64)
                else:
                    cols[col] = values
            self.cols, self.built = cols, len(self.rows)
        return self.cols


def _gather(
    prep: Prepared, rows: dict[str, list[dict[str, Any]]], idx: Arr | None, res: Resolver
) -> dict[str, Arr]:
    """Rule columns for the bills ``idx`` (all when None); caps resolved by enrolment months."""
    out: dict[str, Arr] = {}
    enrol = prep.cols["enrol"] if idx is None else prep.cols["enrol"][idx]
    for name in TABLES:
        prefix = _PREFIX[name]
        tab = res.tables.setdefault(name, _Table())
        local = tab.positions(rows[name])
        inv = local[prep.keyed[name].inv if idx is None else prep.keyed[name].inv[idx]]
        cols = tab.columns(prefix)
        for col, values in cols.items():
            if col.endswith("_n") and col[:-2] + "_m" in cols:  # cap steps → the cap of the row
                base = col[:-2]
                months, amounts = cols[base + "_m"], cols[base + "_a"]
                n = values[inv]
                cap = np.where(n > 0, amounts[inv, 0], k.INF)
                for st in range(1, int(n.max(initial=0))):
                    take = (n > st) & (months[inv, st] <= enrol)
                    cap = np.where(take, amounts[inv, st], cap)
                out[prefix + base] = cap
            elif col.endswith(("_m", "_a")) and col[:-2] + "_n" in cols:
                continue
            else:
                out[prefix + col] = values[inv]
    return out


def _changed_rows(prep: Prepared, rows: dict[str, list[dict[str, Any]]],
                  base: dict[str, list[dict[str, Any]]]) -> Arr:  # fmt: skip
    """Bills whose rule rows differ from the baseline's (any table)."""
    out = np.zeros(prep.n, bool)
    for name in TABLES:
        diff = np.asarray([a != b for a, b in zip(rows[name], base[name], strict=True)], bool)
        if diff.any():
            out |= diff[prep.keyed[name].inv]
    return out


def split(prep: Prepared, extra: Arr) -> dict[str, Arr]:
    """明细分割 of every item line, summed per bill (tot, ful, over, pre, inscp, nego_ins); the
    lines' policy-range amounts are kept (``item_ins``) for item classes."""
    it = prep.items
    row = it["row"]
    amt = it["amount"]
    ful_mask = ~it["incat"] | (it["lv"] == 3) | it["refused"]
    ab = ~ful_mask
    limit = (it["lim"] * it["cnt"] + 5000) // 10000
    over = np.where(ab & (it["lim"] >= 0) & (amt > limit), amt - limit, 0)
    allowed = amt - over
    prop = np.where(it["prop"] >= 0, it["prop"], prep.cols["first_pay"][row])
    missing = ab & (it["lv"] == 2) & (prop < 0)
    if missing.any():
        bill = int(prep.cols["bill_id"][row[np.nonzero(missing)[0][0]]])
        raise SimulationError(
            f"bill {bill}: selfpay_units: 乙类 line without a first-pay share, and the catalogue "
            "of the treatment place has no 乙类 default (selfpay_defaults) on that day"
        )
    pre = np.where(ab & (it["lv"] == 2), k.rdiv(allowed, prop), 0)
    ex = extra[row]
    pre = pre + np.where(ab & (ex > 0), k.rdiv(allowed - pre, ex), 0)
    ful = np.where(ful_mask, amt, 0)
    ins = amt - ful - over - pre
    lo, hi = prep.item_bounds
    out = {"item_ins": ins}
    for name, values in (
        ("tot", amt), ("ful", ful), ("over", over), ("pre", pre), ("inscp", ins),
        ("nego_ins", np.where(it["nego"], ins, 0)),
    ):  # fmt: skip
        cs = np.concatenate([[0], np.cumsum(values)])
        out[name] = cs[hi] - cs[lo]
    return out


def class_parts(prep: Prepared, item_ins: Arr, rules: dict[str, Arr], specs: list[Any]) -> Arr:
    """Per bill and class slot of its rule, the policy-range amount of its lines in that item
    class (特定项目类别; a line counts in the first class it matches, if its amount is > 0)."""
    n_cls = rules["cls_n"]
    kc = int(n_cls.max(initial=0))
    out = np.zeros((prep.n, max(kc, 1)), np.int64)
    if kc == 0:
        return out
    it = prep.items
    row = it["row"]
    dicts = prep.item_dicts
    matches: dict[int, Arr] = {}

    def match(spec_id: int) -> Arr:
        if spec_id not in matches:
            c = specs[spec_id]
            code_ok = np.asarray([v in c.codes for v in dicts["med_list_codg"]], bool)
            by_code = np.where(
                it["med_list_codg"] >= 0,
                code_ok[np.maximum(it["med_list_codg"], 0)] if len(code_ok) else False,
                False,
            )
            if not c.list_types and c.min_price is None:
                m = by_code
            else:
                lt_ok = np.asarray([v in c.list_types for v in dicts["list_type"]], bool)
                lt = (
                    np.ones(len(row), bool)
                    if not c.list_types
                    else np.where(
                        it["list_type"] >= 0,
                        lt_ok[np.maximum(it["list_type"], 0)] if len(lt_ok) else False,
                        False,
                    )
                )
                price = (
                    np.ones(len(row), bool) if c.min_price is None else it["price"] >= c.min_price
                )
                m = by_code | (lt & price)
            matches[spec_id] = m
        return matches[spec_id]

    pos = np.full(len(row), -1, np.int64)
    live = item_ins > 0
    for j in range(kc):
        spec_j = rules["cls_s"][:, j][row]
        active = live & (pos < 0) & (j < n_cls[row])
        for sid in np.unique(spec_j[active]).tolist():
            pos[active & (spec_j == sid) & match(int(sid))] = j
    for j in range(kc):
        m = pos == j
        np.add.at(out[:, j], row[m], item_ins[m])
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
    outcomes: list[Outcome] = []
    base_rows: dict[str, list[dict[str, Any]]] | None = None
    splits: list[tuple[Arr, dict[str, Arr]]] = []
    for sc in scenarios:
        trows = _rule_rows(prep, _RESOLVERS.get(sc))
        idx: Arr | None = None
        if base_rows is not None:
            touched = np.zeros(prep.groups.count, bool)
            touched[prep.groups.gid[_changed_rows(prep, trows, base_rows)]] = True
            if not touched.any():  # nothing this scenario changes reaches these bills
                outcomes.append(Outcome(sc.id, outcomes[0].cols, 0, prep.groups.count))
                continue
            idx = np.nonzero(touched[prep.groups.gid])[0]
        else:
            base_rows = trows
        res = _RESOLVERS.get(sc)
        rules = _gather(prep, trows, idx, res)
        whole = _split_for(prep, trows, idx, splits)
        parts = {n: v if idx is None else v[idx] for n, v in whole.items() if n != "item_ins"}
        if int(rules["cls_n"].max(initial=0)):
            full_rules = rules if idx is None else _gather(prep, trows, None, res)
            cp = class_parts(prep, whole["item_ins"], full_rules, res.class_specs)
            parts["cp"] = cp if idx is None else cp[idx]
        cols, n_bad = _settle(prep, {**rules, **parts}, idx, init, mode)
        if idx is not None:
            merged = {name: col.copy() for name, col in outcomes[0].cols.items()}
            for name, col in cols.items():
                merged[name][idx] = col
            cols = merged
        outcomes.append(Outcome(sc.id, cols, n_bad, prep.groups.count))
    return prep, outcomes


def _split_for(
    prep: Prepared,
    trows: dict[str, list[dict[str, Any]]],
    idx: Arr | None,
    cache: list[tuple[Arr, dict[str, Arr]]],
) -> dict[str, Arr]:
    """The item split for the bills ``idx``, shared between scenarios with the same inputs
    (a cross-region extra first-pay is the only rule the split reads)."""
    ex = np.asarray([r["extra_fp"] for r in trows["basic"]], np.int64)[prep.keyed["basic"].inv]
    found = next((p for cex, p in cache if np.array_equal(cex, ex)), None)
    if found is None:
        found = split(prep, ex)
        cache.append((ex, found))
    return found


def _settle(prep: Prepared, data: dict[str, Arr], idx: Arr | None,
            init: dict[str, Arr] | None, mode: str) -> tuple[dict[str, Arr], int]:  # fmt: skip
    """Closed form, check, rank-by-rank fallback for the bills ``idx`` (whole person-years)."""
    bill_cols = ("days", "admission_no", "enrol", "cvl", "acct_flag", "acct_open", "mulaid_open")
    for name in bill_cols:
        data[name] = prep.cols[name] if idx is None else prep.cols[name][idx]
    data["dis_idx"] = prep.cols["dise"] if idx is None else prep.cols["dise"][idx]
    if idx is None:
        groups, ginit = prep.groups, init
    else:
        groups = _subgroups(prep.groups.gid[idx])
        chosen = np.unique(prep.groups.gid[idx])
        ginit = None if init is None else {n: v[chosen] for n, v in init.items()}
    rows = k.Rows(data)
    cf = ClosedForm(groups, ginit)
    cols = run_stages(rows, cf)
    bad = cf.bad_groups() if mode == "auto" else np.ones(groups.count, bool)
    n_bad = int(bad.sum())
    if n_bad:
        sel = np.nonzero(bad[groups.gid])[0]
        sub_init = None if ginit is None else {n: v[np.nonzero(bad)[0]] for n, v in ginit.items()}
        seq = sequential(rows.take(sel), _subgroups(groups.gid[sel]), sub_init)
        for name, col in seq.items():
            cols[name][sel] = col
    return cols, n_bad


def _subgroups(gid: Arr) -> Groups:
    starts = np.ones(len(gid), bool)
    starts[1:] = gid[1:] != gid[:-1]
    return Groups.from_starts(starts)
