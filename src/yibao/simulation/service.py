"""Simulation use cases for the console (测算任务): datasets, reforms, runs with progress.

A run started from the console is recorded in ``simulation_run`` (who, what, progress) and
executed in a background thread of the server, partition by partition; its results are written
to ``<data dir>/simulation/runs/<run_id>/`` (Parquet, Excel). Province-scale runs use the CLI
or a Dask cluster (docs/simulation.md §7). Analysts see aggregates only: results hold no person.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog

from yibao.config import Settings
from yibao.simulation import store
from yibao.simulation.dataset import Manifest
from yibao.simulation.reform import parse_reform
from yibao.simulation.report import write
from yibao.simulation.results import Results
from yibao.simulation.rules import SimulationError
from yibao.simulation.runner import load_scenarios, run, simulation_dir

log = structlog.get_logger(__name__)
_NAME = "abcdefghijklmnopqrstuvwxyz0123456789-_"


def data_root(settings: Settings) -> Path:
    return settings.data_dir / "simulation"


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    source: str
    bills: int
    period_from: str
    period_to: str
    regions: tuple[str, ...]


@dataclass(frozen=True)
class ReformInfo:
    id: str
    name: str
    description: str
    path: str


def datasets(root: Path) -> list[DatasetInfo]:
    out = []
    folder = root / "datasets"
    for d in sorted(folder.iterdir()) if folder.is_dir() else []:
        try:
            m = Manifest.read(d)
        except (FileNotFoundError, ValueError):
            continue
        out.append(DatasetInfo(d.name, m.source, m.bills, m.period_from, m.period_to,
                               tuple(sorted({p.region for p in m.partitions}))))  # fmt: skip
    return out


def reforms() -> list[ReformInfo]:
    out = []
    for path in sorted((simulation_dir() / "reforms").glob("*.yaml")):
        r = parse_reform(path)
        out.append(ReformInfo(r.id, r.name, r.description, str(path)))
    return out


def create_demo_dataset(root: Path, bills: int = 200_000, year: int = 2025) -> str:
    """A synthetic province-year for trying the page (合成演示数据)."""
    from yibao.policy.loader import default_tree
    from yibao.simulation.synthetic import generate

    name = f"synthetic-{year}-{bills // 1000}k"
    target = root / "datasets" / name
    if not (target / "manifest.json").is_file():
        generate(target, bills, year, default_tree(), partition_bills=50_000)
    return name


@dataclass(frozen=True)
class RunRequest:
    dataset: str
    reforms: tuple[str, ...]  # reform ids
    date_from: date
    date_to: date
    regions: tuple[str, ...] | None  # None: every region of the dataset
    projection_years: int
    projection_start: date | None


def start_run(engine: sa.Engine, root: Path, user: str, req: RunRequest) -> str:
    """Check the request, record the run and start it; returns the run id.

    Raises :class:`SimulationError` (field and rule) on bad input, nothing recorded."""
    if not req.dataset or any(c not in _NAME for c in req.dataset):
        raise SimulationError("dataset: 请选择数据集")
    folder = root / "datasets" / req.dataset
    try:
        manifest = Manifest.read(folder)
    except (FileNotFoundError, ValueError) as exc:
        raise SimulationError(f"dataset: 数据集 {req.dataset} 不存在或无法读取") from exc
    known = {r.id: r for r in reforms()}
    unknown = [r for r in req.reforms if r not in known]
    if unknown:
        raise SimulationError(f"reforms: 未知的改革方案 {', '.join(unknown)}")
    if req.date_to < req.date_from:
        raise SimulationError("period: 结束日期早于开始日期")
    if not 0 <= req.projection_years <= 10:
        raise SimulationError("projection_years: 预测年数须为 0–10")
    if req.regions is not None and not req.regions:
        raise SimulationError("regions: 管辖范围内没有该数据集的参保地")
    run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
    with engine.begin() as conn:
        store.insert_run(conn, {
            "run_id": run_id, "created_by": user, "created_at": datetime.now(UTC),
            "dataset": req.dataset, "state": "running", "bills_total": manifest.bills,
            "bills_done": 0, "error": "",
            "params": {
                "reforms": list(req.reforms), "from": req.date_from.isoformat(),
                "to": req.date_to.isoformat(), "regions": list(req.regions or []),
                "projection_years": req.projection_years,
                "projection_start": req.projection_start.isoformat() if req.projection_start else None,
            },
        })  # fmt: skip
    paths = [known[r].path for r in req.reforms]
    threading.Thread(
        target=_execute, args=(engine, root, run_id, folder, paths, req), daemon=True,
        name=f"simulation-{run_id}",
    ).start()  # fmt: skip
    log.info("simulation_started", run_id=run_id, dataset=req.dataset, reforms=list(req.reforms))
    return run_id


def _execute(engine: sa.Engine, root: Path, run_id: str, folder: Path, paths: list[str],
             req: RunRequest) -> None:  # fmt: skip
    last = [0.0]

    def progress(bills: int, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] > 0.5 or done == total:
            last[0] = now
            with engine.begin() as conn:
                store.update_run(conn, run_id, bills_done=bills)

    try:
        scenarios = load_scenarios(paths)
        result = run(
            folder, scenarios, req.date_from, req.date_to, regions=req.regions,
            projection_years=req.projection_years, projection_start=req.projection_start,
            progress=progress,
        )  # fmt: skip
        write(root / "runs" / run_id, result)
        with engine.begin() as conn:
            store.update_run(conn, run_id, state="done", finished_at=datetime.now(UTC),
                             bills_done=result.meta["bills"])  # fmt: skip
        log.info("simulation_done", run_id=run_id, seconds=result.meta["seconds"])
    except Exception as exc:  # a background run must record every failure, not die silently
        with engine.begin() as conn:
            store.update_run(conn, run_id, state="failed", error=str(exc)[:2000],
                             finished_at=datetime.now(UTC))  # fmt: skip
        log.warning("simulation_failed", run_id=run_id, error=str(exc)[:300])


def get_run(engine: sa.Engine, run_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        return store.get_run(conn, run_id)


def recent_runs(engine: sa.Engine, limit: int = 20) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return store.list_runs(conn, limit)


def run_folder(root: Path, run_id: str) -> Path | None:
    """The result folder of a finished run (None for an unknown or malformed id)."""
    if not run_id or any(c not in _NAME for c in run_id):
        return None
    folder = root / "runs" / run_id
    return folder if (folder / "run.json").is_file() else None


def results(root: Path, run_id: str) -> Results | None:
    folder = run_folder(root, run_id)
    return None if folder is None else Results.read(folder)
