"""``yibao simulate run|export|generate|report`` (政策测算). docs/simulation.md shows each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

app = typer.Typer(
    help="政策测算 (policy simulation): replay claims under reforms", no_args_is_help=True
)
out = Console()


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} 不是日期 (YYYY-MM-DD)", param_hint=name) from exc


@contextmanager
def _progress(label: str, total: int) -> Iterator[Progress]:
    with Progress(
        TextColumn(label), BarColumn(), TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=out, transient=False,
    ) as bar:  # fmt: skip
        bar.add_task(label, total=total)
        yield bar


def _fail(exc: Exception) -> None:
    out.print(f"[red]错误: {exc}[/red]", soft_wrap=True)
    raise typer.Exit(2) from exc


@app.command("generate")
def generate_cmd(
    out_dir: Path = typer.Option(..., "--out", help="数据集目录 (written)"),
    bills: int = typer.Option(1_000_000, "--bills", help="结算笔数"),
    year: int = typer.Option(2025, "--year", help="医保年度"),
    seed: int = typer.Option(2025, "--seed", help="随机种子（同种子同数据）"),
    profile: str = typer.Option("realistic", "--profile", help="realistic | stress"),
    partition_bills: int = typer.Option(250_000, "--partition-bills", help="每个分区的结算笔数"),
    assumptions: Path | None = typer.Option(
        None, "--assumptions", help="假设文件 (默认 simulation/synthetic/guangdong.yaml)"
    ),
) -> None:
    """Write a synthetic province-year (合成数据) from documented assumptions."""
    from yibao.policy.loader import default_tree
    from yibao.simulation.synthetic import Assumptions, generate

    if profile not in ("realistic", "stress"):
        raise typer.BadParameter("realistic 或 stress", param_hint="--profile")
    with _progress("生成合成数据", bills) as bar:
        m = generate(
            out_dir, bills, year, default_tree(), seed=seed, profile=profile,
            partition_bills=partition_bills, assumptions=Assumptions.load(assumptions),
            progress=lambda n: bar.advance(bar.task_ids[0], n),
        )  # fmt: skip
    out.print(
        f"已生成 {m.bills:,} 笔结算, {m.items:,} 条明细, {len(m.partitions)} 个分区 → {out_dir}"
    )


@app.command("export")
def export_cmd(
    out_dir: Path = typer.Option(..., "--out", help="数据集目录 (written)"),
    date_from: str = typer.Option(..., "--from", help="期间起 YYYY-MM-DD (整年导出)"),
    date_to: str = typer.Option(..., "--to", help="期间止 YYYY-MM-DD"),
    regions: str | None = typer.Option(None, "--regions", help="参保地, 逗号分隔"),
    partition_bills: int = typer.Option(250_000, "--partition-bills", help="每个分区的结算笔数"),
) -> None:
    """Export settlements from PostgreSQL to partitioned Parquet (参保人已化名)."""
    from yibao.config import get_settings
    from yibao.db.engine import make_engine
    from yibao.db.runtime import database_url
    from yibao.simulation.export import export

    d0, d1 = _date(date_from, "--from"), _date(date_to, "--to")
    with database_url(get_settings()) as url:
        engine = make_engine(url, pool_size=1)
        try:
            with _progress("导出结算", 1) as bar:

                def tick(done: int, total: int) -> None:
                    bar.update(bar.task_ids[0], completed=done, total=max(total, 1))

                m = export(engine, out_dir, d0, d1, regions=regions.split(",") if regions else None,
                           partition_bills=partition_bills, progress=tick)  # fmt: skip
        finally:
            engine.dispose()
    skipped = sum(m.notes.get("skipped_regions", {}).values())
    out.print(f"已导出 {m.bills:,} 笔结算, {m.items:,} 条明细, {len(m.partitions)} 个分区 → {out_dir}"
              + (f" (无政策文件的参保地 {skipped} 笔未导出)" if skipped else ""))  # fmt: skip


@app.command("run")
def run_cmd(
    data: Path = typer.Option(..., "--data", help="数据集目录 (export 或 generate 的输出)"),
    reforms: list[Path] = typer.Option([], "--reform", help="改革方案文件 (可多次)"),
    date_from: str = typer.Option(..., "--from", help="期间起 YYYY-MM-DD"),
    date_to: str = typer.Option(..., "--to", help="期间止 YYYY-MM-DD"),
    out_dir: Path = typer.Option(..., "--out", help="结果目录 (Parquet + Excel)"),
    regions: str | None = typer.Option(None, "--regions", help="只测算这些参保地, 逗号分隔"),
    workers: int = typer.Option(1, "--workers", help="本机进程数"),
    dask: str | None = typer.Option(
        None, "--dask", help="Dask 集群地址 tcp://host:8786 或 local:N"
    ),
    years: int = typer.Option(0, "--projection-years", help="基金预测年数 (0 = 不预测)"),
    start: str | None = typer.Option(None, "--projection-start", help="预测起始月 YYYY-MM-DD"),
) -> None:
    """Replay the claims under the baseline and each reform; write results and report."""
    from yibao.policy.model import PolicyError
    from yibao.simulation.dataset import Manifest, partitions
    from yibao.simulation.report import write
    from yibao.simulation.rules import SimulationError
    from yibao.simulation.runner import load_scenarios, run

    d0, d1 = _date(date_from, "--from"), _date(date_to, "--to")
    try:
        scenarios = load_scenarios(reforms)
        Manifest.read(data)
        span = list(range(d0.year, d1.year + 1))
        wanted = regions.split(",") if regions else None
        total = sum(p.bills for p in partitions(data, wanted, span))
    except (PolicyError, SimulationError, FileNotFoundError, ValueError) as exc:
        _fail(exc)
    executor = "dask" if dask else ("processes" if workers > 1 else "local")
    try:
        with _progress(f"测算 {len(scenarios)} 个方案", total) as bar:
            result = run(
                data, scenarios, d0, d1, regions=regions.split(",") if regions else None,
                executor=executor, workers=workers, dask_address=dask, projection_years=years,
                projection_start=_date(start, "--projection-start") if start else None,
                progress=lambda bills, done, n: bar.update(bar.task_ids[0], completed=bills),
            )  # fmt: skip
    except (PolicyError, SimulationError) as exc:
        _fail(exc)
    write(out_dir, result)
    m = result.meta
    out.print(f"{m['bills']:,} 笔结算 × {len(scenarios)} 个方案, {m['seconds']:.1f} 秒 "
              f"({m['bills'] / max(m['seconds'], 1e-9):,.0f} 笔/秒) → {out_dir}")  # fmt: skip
    report_cmd(out_dir, by="admdvs", xlsx=None)


@app.command("report")
def report_cmd(
    result_dir: Path = typer.Argument(..., help="结果目录"),
    by: str | None = typer.Option(
        None, "--by", help="分组: admdvs | insutype | psn_group | assist_class | level | med_type"
    ),
    xlsx: Path | None = typer.Option(None, "--xlsx", help="另存 Excel 报表"),
) -> None:
    """Print a run's results (tables and charts); optionally write the Excel report again."""
    from yibao.simulation.report import write_xlsx
    from yibao.simulation.results import Results
    from yibao.simulation.textreport import render

    try:
        res = Results.read(result_dir)
    except FileNotFoundError as exc:
        _fail(exc)
    for item in render(res, by):
        out.print(item)
    if xlsx is not None:
        write_xlsx(xlsx, res)
        out.print(f"Excel → {xlsx}")
