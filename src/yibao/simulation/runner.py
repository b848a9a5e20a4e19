"""Running a simulation (测算运行): partitions one after another, in processes, or on Dask.

A run = a dataset, the baseline and reforms (scenarios), a period, and optionally a fund
projection. Each partition is replayed under every scenario by :func:`replay` (a plain function
of the partition: same input, same integer sums), so the three executors give identical results:

- ``local``: in this process, streaming partitions (memory: one partition);
- ``processes``: a ``ProcessPoolExecutor`` of N workers on this machine;
- ``dask``: an existing Dask cluster (``tcp://scheduler:8786``) or ``local:N`` for a local one
  (ADR 0013; docs/simulation.md §7 for a province cluster).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyarrow as pa

from yibao.policy.loader import PolicyTree, default_tree
from yibao.simulation.aggregate import Partial, merge
from yibao.simulation.dataset import Manifest, PartitionRef, partitions
from yibao.simulation.income import AssumedIncome, load_fund_tree
from yibao.simulation.prepare import day_of
from yibao.simulation.projection import SCHEME_OF_INSUTYPE, ProjectionRow, project
from yibao.simulation.reform import Reform, apply_patches, parse_reform
from yibao.simulation.replay import replay
from yibao.simulation.rules import Scenario, SimulationError

Progress = Callable[[int, int, int], None]  # (bills done, partitions done, partitions total)


def simulation_dir() -> Path:
    """Shipped reforms, fund assumptions and synthetic assumptions (``simulation/``)."""
    return Path(__file__).resolve().parents[3] / "simulation"


def load_scenarios(
    reforms: Sequence[Path | str],
    tree: PolicyTree | None = None,
    funds_dir: Path | str | None = None,
) -> list[Scenario]:
    """The baseline and one scenario per reform file (validated; duplicates refused)."""
    tree = tree or default_tree()
    funds = load_fund_tree(funds_dir or simulation_dir() / "funds")
    out = [Scenario("baseline", "基线(现行政策)", tree, funds)]
    seen: set[str] = set()
    for path in reforms:
        r: Reform = parse_reform(path, tree=tree, fund_regions=set(funds.regions))
        if r.id in seen:
            raise SimulationError(f"{path}: reform: {r.id} is given twice")
        seen.add(r.id)
        out.append(
            Scenario(
                r.id,
                r.name,
                apply_patches(tree, r.regions),
                apply_patches(funds, r.funds),
                reform_path=str(path),
            )
        )
    return out


@dataclass
class RunResult:
    scenarios: list[Scenario]
    merged: Partial
    projection: list[ProjectionRow] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def _executor_map(
    refs: Sequence[PartitionRef], args: tuple[Any, ...], executor: str, workers: int,
    dask_address: str | None,
) -> Iterable[tuple[PartitionRef, Partial]]:  # fmt: skip
    if executor == "local":
        for ref in refs:
            yield ref, replay(args[0], ref, *args[1:])
    elif executor == "processes":
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(replay, args[0], ref, *args[1:]): ref for ref in refs}
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
    elif executor == "dask":
        from yibao.simulation.distributed import dask_map

        yield from dask_map(refs, args, dask_address or f"local:{workers}")
    else:
        raise SimulationError(f"executor: {executor!r} is not local, processes or dask")


def run(
    dataset: Path | str,
    scenarios: Sequence[Scenario],
    period_from: date,
    period_to: date,
    *,
    regions: Sequence[str] | None = None,
    executor: str = "local",
    workers: int = 1,
    dask_address: str | None = None,
    projection_years: int = 0,
    projection_start: date | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Replay the dataset's bills of the period's years under every scenario and sum them."""
    if period_to < period_from:
        raise SimulationError("period: the end is before the start")
    manifest = Manifest.read(dataset)
    years = list(range(period_from.year, period_to.year + 1))
    refs = partitions(dataset, regions, years)
    if not refs:
        raise SimulationError(f"{dataset}: no partition for the period {period_from}–{period_to}")
    args = (str(dataset), list(scenarios), day_of(period_from), day_of(period_to))
    started = time.perf_counter()
    parts: list[Partial] = []
    done_bills = 0
    for ref, part in _executor_map(refs, args, executor, workers, dask_address):
        parts.append(part)
        done_bills += ref.bills
        if progress is not None:
            progress(done_bills, len(parts), len(refs))
    merged = merge(parts)
    seconds = time.perf_counter() - started
    result = RunResult(list(scenarios), merged)
    result.meta = {
        "dataset": str(dataset), "source": manifest.source, "period_from": period_from.isoformat(),
        "period_to": period_to.isoformat(), "partitions": len(refs), "seconds": round(seconds, 3),
        "executor": executor, "workers": workers, **merged.stats,
        "scenarios": [{"id": s.id, "name": s.name, "reform": s.reform_path} for s in scenarios],
    }  # fmt: skip
    if projection_years > 0:
        start = projection_start or date(period_from.year, 1, 1)
        result.projection = projection(result, manifest, start, projection_years, period_from.year)
        result.meta["projection"] = {"start": start.isoformat(), "years": projection_years}
    return result


def projection(result: RunResult, manifest: Manifest, start: date, years: int,
               data_year: int) -> list[ProjectionRow]:  # fmt: skip
    """Fund projection for every scenario, from the run's monthly pooled-fund spending."""
    months = result.merged.months.to_pylist()
    sample = manifest.notes.get("persons", {})
    rows: list[ProjectionRow] = []
    for sc in result.scenarios:
        if sc.funds is None:
            continue
        income = AssumedIncome(sc.funds, sc.tree, start.year)
        profile: dict[tuple[str, str], dict[int, int]] = {}
        for m in months:
            scheme = SCHEME_OF_INSUTYPE.get(m["insutype"])
            if m["scenario"] != sc.id or scheme is None or m["admdvs"] not in sc.funds.regions:
                continue
            y, mo = (int(x) for x in m["month"].split("-"))
            if y == data_year:
                cell = profile.setdefault((m["admdvs"], scheme), {})
                cell[mo] = cell.get(mo, 0) + int(m["hifp_pay"])
        scale = {}
        for admdvs, scheme in profile:
            n = sample.get(admdvs, {}).get(scheme)
            if n:  # a synthetic sample stands for the insured counts of the assumptions
                insured = (
                    income.value(admdvs, "funds.employee.contributors", start)
                    + income.value(admdvs, "funds.employee.retirees", start)
                    if scheme == "employee"
                    else income.value(admdvs, "funds.resident.insured", start)
                )
                scale[(admdvs, scheme)] = Fraction(insured, n)
        rows += project(sc.id, profile, data_year, scale, income, start, years)
    return rows


def projection_table(rows: Sequence[ProjectionRow]) -> pa.Table:
    return pa.table(
        {
            "scenario": [r.scenario for r in rows], "admdvs": [r.admdvs for r in rows],
            "scheme": [r.scheme for r in rows], "month": [r.month for r in rows],
            "income": pa.array([r.income for r in rows], pa.int64()),
            "spending": pa.array([r.spending for r in rows], pa.int64()),
            "balance": pa.array([r.balance for r in rows], pa.int64()),
            "months_payable": pa.array([r.months_payable for r in rows], pa.decimal128(12, 1)),
        }
    )  # fmt: skip
