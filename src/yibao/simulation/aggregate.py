"""Results of a partition (分区汇总): sums by cell, changes against the baseline, distribution.

Everything is summed in int64 fen, so partial results of partitions add up to the same figures
in any order, on one machine or on a cluster. Dimensions (the analyst's table): insured city
(参保地) × insutype × person group × assistance class × hospital level × med_type; monthly sums by
city × insutype × month feed the fund projection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from yibao.policy.model import ASSISTANCE_CLASSES
from yibao.simulation.engine import Outcome
from yibao.simulation.prepare import LEVELS, Prepared

Arr = np.ndarray
MEASURES = (
    "medfee_sumamt", "inscp_scp_amt", "act_pay_dedc", "hifp_pay", "hifmi_pay", "hifob_pay",
    "oth_pay", "cvlserv_pay", "maf_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay",
    "psn_cash_pay",
)  # fmt: skip
# a bill "changes" when any payer's amount differs from the baseline
CHANGES = ("act_pay_dedc", "hifp_pay", "hifmi_pay", "hifob_pay", "oth_pay", "cvlserv_pay",
           "maf_pay", "psn_part_amt", "acct_pay", "psn_cash_pay")  # fmt: skip
CELL_DIMS = ("admdvs", "insutype", "psn_group", "assist_class", "level", "med_type")
MONTH_DIMS = ("admdvs", "insutype", "month")
MONTH_MEASURES = ("hifp_pay", "serious_pay", "cvlserv_pay", "maf_pay", "fund_pay_sumamt",
                  "psn_part_amt")  # fmt: skip
# per person-year change of the out-of-pocket amount (个人负担), in fen: bin lower edges
BIN_EDGES = (
    -(10**6),
    -(10**5),
    -(10**4),
    -(10**3),
    0,
    1,
    10**3 + 1,
    10**4 + 1,
    10**5 + 1,
    10**6 + 1,
)
BIN_LABELS = (
    "减少1万元以上", "减少1000元至1万元", "减少100元至1000元", "减少10元至100元", "减少不足10元",
    "不变", "增加不足10元", "增加10元至100元", "增加100元至1000元", "增加1000元至1万元",
    "增加1万元以上",
)  # fmt: skip


@dataclass
class Partial:
    """Small tables of one partition (or of several, merged)."""

    cells: pa.Table
    months: pa.Table
    distribution: pa.Table
    stats: dict[str, int] = field(default_factory=dict)


def _bins(delta: Arr) -> Arr:
    """Bin index of each person-year's change (0..10; 5 = unchanged)."""
    neg = np.searchsorted(np.array(BIN_EDGES[:4]), delta, side="right")  # 0..4 for < 0
    pos = 6 + np.searchsorted(np.array(BIN_EDGES[6:]), delta, side="right")  # 6..10 for > 0
    return np.where(delta < 0, neg, np.where(delta == 0, 5, pos))


def _unique_rows(parts: Sequence[tuple[Arr, int]]) -> tuple[list[Arr], Arr]:
    """Distinct combinations of small codes (each ``0 ≤ code < width``) and each row's index."""
    code = np.zeros(len(parts[0][0]), np.int64)
    for values, width in parts:
        code = code * width + values
    uniq, inv = np.unique(code, return_inverse=True)
    cols = []
    for _, width in reversed(parts):
        cols.append(uniq % width)
        uniq = uniq // width
    return cols[::-1], inv.reshape(-1)


def _sum_by(inv: Arr, n: int, values: Arr) -> Arr:
    out = np.zeros(n, np.int64)
    np.add.at(out, inv, values)
    return out


def summarise(prep: Prepared, outcomes: Sequence[Outcome], day_from: int, day_to: int) -> Partial:
    """Sum the bills whose service date is in ``[day_from, day_to]`` (earlier bills of the same
    year were settled too: they fill deductibles and caps)."""
    c = prep.cols
    keep = np.nonzero((c["day"] >= day_from) & (c["day"] <= day_to))[0]
    gid = prep.groups.gid[keep]
    group_names = [ch[0] for ch in prep.chains]
    cell = prep.keyed["cell"]
    inv = cell.inv[keep]
    n = len(cell.keys)
    uniq = (
        [np.asarray([k[j] for k in cell.keys], np.int64) for j in range(6)]
        if n
        else [np.zeros(0, np.int64)] * 6
    )
    pairs = np.unique(inv * (prep.groups.count + 1) + gid)
    persons = np.bincount(pairs // (prep.groups.count + 1), minlength=n)
    base = outcomes[0].cols
    cell_cols: dict[str, list[object]] = {k: [] for k in ("scenario", *CELL_DIMS)}
    sums: dict[str, list[Arr]] = {
        k: [] for k in (*MEASURES, "bills", "persons", "bills_changed", "persons_changed")
    }
    dist_rows: dict[str, list[object]] = {
        "scenario": [],
        "bin": [],
        "label": [],
        "persons": [],
        "delta_sum": [],
    }
    labels = {
        "admdvs": [prep.regions[i] for i in uniq[0]],
        "insutype": [prep.insutypes[i] for i in uniq[1]],
        "psn_group": [group_names[i] for i in uniq[2]],
        "assist_class": [ASSISTANCE_CLASSES[i] if i >= 0 else "" for i in uniq[3]],
        "level": [LEVELS[i] for i in uniq[4]],
        "med_type": [prep.med_types[i] for i in uniq[5]],
    }
    for out in outcomes:
        cols = out.cols
        cell_cols["scenario"] += [out.scenario] * n
        for name in CELL_DIMS:
            cell_cols[name] += labels[name]
        for name in MEASURES:
            sums[name].append(_sum_by(inv, n, cols[name][keep]))
        sums["bills"].append(np.bincount(inv, minlength=n).astype(np.int64))
        sums["persons"].append(persons.astype(np.int64))
        changed = np.zeros(len(keep), bool)
        for name in CHANGES:
            changed |= cols[name][keep] != base[name][keep]
        sums["bills_changed"].append(np.bincount(inv[changed], minlength=n).astype(np.int64))
        cp = np.unique(inv[changed] * (prep.groups.count + 1) + gid[changed])
        sums["persons_changed"].append(
            np.bincount(cp // (prep.groups.count + 1), minlength=n).astype(np.int64)
        )
        delta = _sum_by(
            gid, prep.groups.count, cols["psn_part_amt"][keep] - base["psn_part_amt"][keep]
        )
        present = np.bincount(gid, minlength=prep.groups.count) > 0
        b = _bins(delta[present])
        for i, label in enumerate(BIN_LABELS):
            m = b == i
            dist_rows["scenario"].append(out.scenario)
            dist_rows["bin"].append(i)
            dist_rows["label"].append(label)
            dist_rows["persons"].append(int(m.sum()))
            dist_rows["delta_sum"].append(int(delta[present][m].sum()))
    cells = pa.table(
        {
            **cell_cols,
            **{k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in sums.items()},
        }
    )
    months = _months(prep, outcomes, keep)
    stats = {
        "bills": int(prep.n), "bills_in_period": len(keep), "person_years": prep.groups.count,
        "sequential_groups": sum(o.sequential_groups for o in outcomes),
    }  # fmt: skip
    return Partial(cells, months, pa.table(dist_rows), stats)


def _months(prep: Prepared, outcomes: Sequence[Outcome], keep: Arr) -> pa.Table:
    c = prep.cols
    month = (c["day"][keep].astype("datetime64[D]").astype("datetime64[M]")).astype(np.int64)
    m0 = int(month.min()) if len(month) else 0
    uniq, inv = _unique_rows(
        [(c["region"][keep], 256), (c["ins"][keep], 64), (month - m0, 1 << 20)]
    )
    uniq[2] = uniq[2] + m0
    n = len(uniq[0])
    names = [str(np.datetime64(int(m), "M")) for m in uniq[2]]
    cols: dict[str, list[object]] = {"scenario": [], "admdvs": [], "insutype": [], "month": []}
    sums: dict[str, list[Arr]] = {k: [] for k in (*MONTH_MEASURES, "bills")}
    for out in outcomes:
        cols["scenario"] += [out.scenario] * n
        cols["admdvs"] += [prep.regions[i] for i in uniq[0]]
        cols["insutype"] += [prep.insutypes[i] for i in uniq[1]]
        cols["month"] += names
        for name in MONTH_MEASURES:
            sums[name].append(_sum_by(inv, n, out.cols[name][keep]))
        sums["bills"].append(np.bincount(inv, minlength=n).astype(np.int64))
    return pa.table(
        {**cols, **{k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in sums.items()}}
    )


def merge(parts: Sequence[Partial]) -> Partial:
    """Sum partial results (exact: integer sums, any order)."""
    stats: dict[str, int] = {}
    for p in parts:
        for k, v in p.stats.items():
            stats[k] = stats.get(k, 0) + v

    def combine(tables: list[pa.Table], keys: Sequence[str], first: Sequence[str] = ()) -> pa.Table:
        names = tables[0].column_names
        t = pa.concat_tables([x.select(names) for x in tables])
        values = [n for n in t.column_names if n not in keys and n not in first]
        agg = [(n, "sum") for n in values] + [(n, "min") for n in first]
        out = t.group_by(list(keys), use_threads=False).aggregate(agg)
        out = out.rename_columns(
            [n.removesuffix("_sum").removesuffix("_min") for n in out.column_names]
        )
        return out.select(names).sort_by([(k, "ascending") for k in keys])

    return Partial(
        combine([p.cells for p in parts], ("scenario", *CELL_DIMS)),
        combine([p.months for p in parts], ("scenario", *MONTH_DIMS)),
        combine([p.distribution for p in parts], ("scenario", "bin"), ("label",)),
        stats,
    )
