"""``yibao campaigns load|list|progress|report`` (激活推广专项)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
import typer

from yibao.campaigns.model import CampaignFileError

app = typer.Typer(
    help="激活推广专项 (activation campaigns: plans, progress, 通报)", no_args_is_help=True
)
T = TypeVar("T")


def _with_conn(fn: Callable[[sa.Connection], T], *, write: bool) -> T:
    from yibao.campaigns.service import CampaignNotFound
    from yibao.config import get_settings
    from yibao.db.engine import make_engine
    from yibao.db.runtime import database_url

    with database_url(get_settings()) as url:
        engine = make_engine(url, pool_size=1)
        try:
            with engine.begin() if write else engine.connect() as conn:
                return fn(conn)
        except CampaignFileError as exc:
            typer.echo(f"错误: {exc}", err=True)
            raise typer.Exit(2) from exc
        except CampaignNotFound as exc:
            typer.echo(f"错误: 没有推广方案 {exc}", err=True)
            raise typer.Exit(2) from exc
        finally:
            engine.dispose()


@app.command("load")
def load(
    file: Path = typer.Argument(..., help="推广方案文件（YAML）"),
    actor: str = typer.Option("cli", help="操作人（审计）"),
) -> None:
    """Check and store a campaign file (YAML); a bad file is refused with the field and rule."""
    from yibao.campaigns import service

    plan, changed = _with_conn(lambda c: service.load_text(
        c, file.read_text(encoding="utf-8"), source_file=file.name, actor=actor, now=service.now()),
        write=True)  # fmt: skip
    typer.echo(f"{plan.id} {plan.name}: {'已载入' if changed else '内容未变化'}")
    for check in plan.checks():
        typer.echo(f"  方案数据核对: {check}")


@app.command("list")
def listing() -> None:
    """Stored campaigns."""
    from yibao.campaigns import service

    for p in _with_conn(lambda c: service.campaigns(c), write=False):
        typer.echo(f"{p.id}\t{p.admdvs}\t{p.start}…{p.end}\t{p.name}")


@app.command("progress")
def progress(
    campaign_id: str = typer.Argument(..., help="推广专项编号"),
    on: str = typer.Option("", help="统计截至 YYYY-MM-DD（默认今天）"),
) -> None:
    """Progress of every target as of a day (tab-separated)."""
    from yibao.campaigns import report, service

    day = date.fromisoformat(on) if on else service.now().date()
    p = _with_conn(lambda c: service.progress(c, campaign_id, day), write=False)
    typer.echo("\t".join(report.HEADER))
    for t in [p.overall, *p.categories, *p.ranked(p.towns), *p.ranked(p.units)]:
        typer.echo("\t".join(str(x) for x in report.row_of(t)))


@app.command("report")
def make_report(
    campaign_id: str = typer.Argument(..., help="推广专项编号"),
    out: Path = typer.Argument(..., help="输出文件：.xlsx 或 .pdf"),
    on: str = typer.Option("", help="统计截至 YYYY-MM-DD"),
) -> None:
    """Write the 通报 as .xlsx or .pdf (by the file name)."""
    from yibao.campaigns import report, service

    day = date.fromisoformat(on) if on else service.now().date()
    p, names = _with_conn(
        lambda c: (service.progress(c, campaign_id, day), service.channel_names(c)), write=False
    )
    try:
        data = report.pdf(p, names) if out.suffix == ".pdf" else report.excel(p, names)
    except report.FontMissing as exc:
        typer.echo(f"错误: {exc}", err=True)
        raise typer.Exit(3) from exc
    out.write_bytes(data)
    typer.echo(f"{out} ({len(data)} 字节)")
