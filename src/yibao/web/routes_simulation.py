"""政策测算 pages: choose data, reforms and period; watch progress; read results; download.

Thin: every use case is in :mod:`yibao.simulation.service`; charts come from
:mod:`yibao.web.sources.simulation`. Analysts, province and city staff may open it; a city user
simulates only the regions of their city.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from yibao.config import get_settings
from yibao.console.model import Page
from yibao.console.scoping import OutOfScope
from yibao.simulation import service
from yibao.simulation.rules import SimulationError
from yibao.web.auth import Console, check_csrf, current_console, engine_of, require
from yibao.web.render import page
from yibao.web.sources import simulation as src

router = APIRouter(prefix="/console/simulation", include_in_schema=False)
Ctx = Annotated[Console, Depends(current_console)]
CRUMB = ("政策测算", "/console/simulation")


def _root() -> Path:
    return service.data_root(get_settings())


def _form_page(request: Request, console: Console, error: str = "", status: int = 200) -> Response:
    datasets = service.datasets(_root())
    return page(
        request, console, "simulation.html", active=Page.SIMULATION, title="政策测算",
        crumbs=[("政策测算", None)], datasets=datasets, reforms=service.reforms(),
        runs=service.recent_runs(engine_of(request)), error=error, status_code=status,
    )  # fmt: skip


@router.get("", response_class=HTMLResponse)
def index(request: Request, console: Ctx) -> Response:
    require(console, Page.SIMULATION)
    return _form_page(request, console)


@router.post("/demo-dataset")
async def demo_dataset(request: Request, console: Ctx) -> Response:
    require(console, Page.SIMULATION)
    await check_csrf(request, console)
    await run_in_threadpool(service.create_demo_dataset, _root())
    return RedirectResponse("/console/simulation", status_code=303)


def _day(text: str, label: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise SimulationError(f"{label}: “{text}”不是有效日期，应为 YYYY-MM-DD") from exc


@router.post("/runs")
async def start(request: Request, console: Ctx) -> Response:
    require(console, Page.SIMULATION)
    await check_csrf(request, console)
    form = await request.form()
    try:
        dataset = str(form.get("dataset") or "")
        info = next((d for d in service.datasets(_root()) if d.name == dataset), None)
        regions = None
        if info is not None and not console.scope.all_regions:
            regions = src.allowed_regions(console.scope, info.regions)
        years = str(form.get("projection_years") or "0").strip()
        if not years.isdigit():
            raise SimulationError("projection_years: 预测年数须为 0–10 的整数")
        start_text = str(form.get("projection_start") or "").strip()
        req = service.RunRequest(
            dataset=dataset,
            reforms=tuple(str(v) for v in form.getlist("reform")),
            date_from=_day(str(form.get("date_from") or ""), "期间起"),
            date_to=_day(str(form.get("date_to") or ""), "期间止"),
            regions=regions,
            projection_years=int(years),
            projection_start=_day(start_text, "预测起始月") if start_text else None,
        )
        run_id = service.start_run(engine_of(request), _root(), console.principal.username, req)
    except SimulationError as exc:
        return _form_page(request, console, str(exc), status=400)
    return RedirectResponse(f"/console/simulation/runs/{run_id}", status_code=303)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def show(request: Request, console: Ctx, run_id: str) -> Response:
    require(console, Page.SIMULATION)
    row = service.get_run(engine_of(request), run_id)
    if row is None:
        raise OutOfScope()
    res = service.results(_root(), run_id) if row["state"] == "done" else None
    return page(
        request, console, "simulation_run.html", active=Page.SIMULATION, title="测算结果",
        crumbs=[CRUMB, (run_id, None)], run=row, view=src.view(res) if res else None, res=res,
    )  # fmt: skip


@router.get("/runs/{run_id}/progress")
def progress(request: Request, console: Ctx, run_id: str) -> Response:
    require(console, Page.SIMULATION)
    row = service.get_run(engine_of(request), run_id)
    if row is None:
        raise OutOfScope()
    return JSONResponse({k: row[k] for k in ("state", "bills_done", "bills_total", "error")})


@router.get("/runs/{run_id}/report.xlsx")
def download_xlsx(request: Request, console: Ctx, run_id: str) -> Response:
    require(console, Page.SIMULATION)
    folder = service.run_folder(_root(), run_id)
    if folder is None:
        raise OutOfScope()
    return FileResponse(
        folder / "report.xlsx", filename=f"测算结果-{run_id}.xlsx",
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )  # fmt: skip


@router.get("/runs/{run_id}/results.zip")
def download_parquet(request: Request, console: Ctx, run_id: str) -> Response:
    require(console, Page.SIMULATION)
    folder = service.run_folder(_root(), run_id)
    if folder is None:
        raise OutOfScope()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in (
            "run.json",
            "cells.parquet",
            "months.parquet",
            "distribution.parquet",
            "projection.parquet",
        ):
            z.write(folder / name, name)
    return Response(
        buf.getvalue(), media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="simulation-{run_id}.zip"'},
    )  # fmt: skip
