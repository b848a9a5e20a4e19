"""One partition of claims replayed under every scenario (any worker: local, a process pool or a
Dask cluster runs this function, so it lives apart from the runner that schedules it)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa

from yibao.simulation.aggregate import Partial, merge, summarise
from yibao.simulation.dataset import PartitionRef, read_partition
from yibao.simulation.engine import run_partition
from yibao.simulation.rules import Scenario

__all__ = ["CHUNK", "chunks", "replay"]

CHUNK = 65_536  # bills settled at once: arrays of this length stay in the CPU cache


def chunks(
    bills: pa.Table, items: pa.Table, size: int = CHUNK
) -> Iterator[tuple[pa.Table, pa.Table]]:
    """Slices of whole person-years of about ``size`` bills, with their items (a dataset's bill
    ids increase with its rows and its items follow them; otherwise one slice)."""
    n = bills.num_rows
    ids = bills["bill_id"].to_numpy()
    if n <= size * 3 // 2 or np.any(ids[1:] <= ids[:-1]):
        yield bills, items
        return
    psn, year = bills["psn_key"].to_numpy(), bills["year"].to_numpy()
    starts = np.nonzero(np.r_[True, (psn[1:] != psn[:-1]) | (year[1:] != year[:-1])])[0]
    cuts = np.unique(
        starts[np.searchsorted(starts, np.arange(size, n, size))] if len(starts) else []
    )
    edges = [0, *[int(c) for c in cuts if 0 < c < n], n]
    item_ids = items["bill_id"].to_numpy()
    item_edges = np.searchsorted(item_ids, ids[np.minimum(edges, n - 1)])
    item_edges[-1] = len(item_ids)
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1]
        yield (
            bills.slice(lo, hi - lo),
            items.slice(int(item_edges[i]), int(item_edges[i + 1] - item_edges[i])),
        )


def replay(root: str, ref: PartitionRef, scenarios: Sequence[Scenario], day_from: int,
           day_to: int) -> Partial:  # fmt: skip
    """One partition under every scenario, summed (runs in any worker)."""
    bills, items = read_partition(root, ref)
    parts = []
    for b, i in chunks(bills, items):
        prep, outcomes = run_partition(b, i, scenarios)
        parts.append(summarise(prep, outcomes, day_from, day_to))
    return merge(parts) if len(parts) > 1 else parts[0]
