"""The same partitioned job on a Dask cluster: a local cluster of 2 worker processes gives results
identical to the fen to the single-process run (ADR 0007)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from yibao.policy.loader import default_tree
from yibao.simulation.runner import load_scenarios, projection_table, run, simulation_dir
from yibao.simulation.synthetic import generate


def test_two_worker_dask_cluster_matches_the_local_run(tmp_path: Path) -> None:
    generate(tmp_path, 30_000, 2025, default_tree(), seed=11, partition_bills=5_000)
    scenarios = load_scenarios(sorted((simulation_dir() / "reforms").glob("*.yaml")))
    kw = {"projection_years": 1, "projection_start": date(2020, 1, 1)}
    local = run(tmp_path, scenarios, date(2025, 1, 1), date(2025, 12, 31), **kw)
    seen: list[int] = []
    dask = run(
        tmp_path, scenarios, date(2025, 1, 1), date(2025, 12, 31), executor="dask",
        dask_address="local:2", progress=lambda bills, done, total: seen.append(done), **kw,
    )  # fmt: skip
    assert local.meta["partitions"] == dask.meta["partitions"] > 2
    assert seen[-1] == dask.meta["partitions"]
    assert dask.merged.cells.equals(local.merged.cells)
    assert dask.merged.months.equals(local.merged.months)
    assert dask.merged.distribution.equals(local.merged.distribution)
    assert projection_table(dask.projection).equals(projection_table(local.projection))
    assert dask.merged.stats == local.merged.stats
