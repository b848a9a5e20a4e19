"""``yibao catalog load | show | search``: thin commands over :mod:`yibao.catalog.service`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from sqlalchemy import Engine

from yibao import clock

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(help="医保目录 (catalogue) commands", no_args_is_help=True)


@contextmanager
def _engine() -> Iterator[Engine]:
    from yibao.config import get_settings
    from yibao.db.engine import make_engine
    from yibao.db.migrate import upgrade
    from yibao.db.runtime import database_url

    with database_url(get_settings()) as url:
        upgrade(url)
        engine = make_engine(url, pool_size=1)
        try:
            yield engine
        finally:
            engine.dispose()


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        typer.echo(f"错误: --date {value!r} 应为 YYYY-MM-DD", err=True)
        raise typer.Exit(2) from exc


def _console() -> Console:
    import sys

    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 160)


def _yuan(fen: int | None) -> str:
    from yibao.money import fen_str

    return "-" if fen is None else fen_str(fen)


@app.command("load")
def load(
    folder: Path = typer.Option(
        None,
        "--dir",
        help="catalogue folder (default: YIBAO_CATALOG_DIR, else the shipped catalogs/)",
    ),
) -> None:
    """Validate and load a catalogue folder (idempotent; nothing is written on any error)."""
    from yibao.catalog.defaults import catalog_dir
    from yibao.catalog.files import CatalogFileError
    from yibao.catalog.service import load_catalog

    if folder is None:
        folder = catalog_dir()
    with _engine() as engine:
        try:
            r = load_catalog(engine, folder, actor="cli")
        except CatalogFileError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
    regions = "、".join(r.regions)
    if not r.changed:
        typer.echo(f"目录无变化（版本 {r.ver}）：{regions} 共 {r.unchanged} 行与数据库一致。")
        return
    typer.echo(
        f"已加载目录版本 {r.ver}：统筹区 {regions}；新增 {r.inserted} 行，更新 {r.updated} 行，"
        f"失效 {r.invalidated} 行，未变 {r.unchanged} 行，区域设置变更 {r.regions_changed} 个。"
    )


@app.command("show")
def show(
    code: str = typer.Argument(..., help="医疗目录编码 med_list_codg"),
    region: str = typer.Option(..., "--region", help="就医地医保区划, e.g. 440300"),
    on: str = typer.Option(clock.today().isoformat(), "--date", help="YYYY-MM-DD"),
) -> None:
    """Print one item as in force in REGION on --date, with the layer that set each field."""
    from rich.table import Table

    from yibao.catalog import service
    from yibao.catalog.model import CatalogDataError

    day = _day(on)
    with _engine() as engine, engine.connect() as conn:
        chain = service.chain_for(conn, region)
        try:
            entry = service.get_entry(conn, region, code, day)
        except CatalogDataError as exc:
            typer.echo(f"错误: {exc}", err=True)
            raise typer.Exit(2) from exc
        rows = service.entry_rows(conn, region, code)
    console = _console()
    if not chain:
        console.print(f"统筹区 {region} 没有已加载的医保目录。")
        raise typer.Exit(1)
    if entry is None:
        console.print(
            f"{code} 在 {region}（目录层级 {' → '.join(chain)}）于 {day} 不在医保目录内。"
        )
    else:
        t = Table(title=f"{entry.name}  {code} — {region} {day} 生效（层级 {' → '.join(chain)}）")
        t.add_column("字段", no_wrap=True)
        t.add_column("取值", overflow="fold")
        t.add_column("来源统筹区", no_wrap=True)
        src = entry.sources
        t.add_row(
            "目录类别 list_type",
            f"{entry.list_type} {entry.list_type_name}",
            src.get("list_type", ""),
        )
        t.add_row(
            "收费项目等级 chrgitm_lv",
            f"{entry.chrgitm_lv} {entry.chrgitm_lv_name}",
            src.get("chrgitm_lv", ""),
        )
        t.add_row(
            "医疗收费项目类别 med_chrgitm_type",
            entry.med_chrgitm_type,
            src.get("med_chrgitm_type", ""),
        )
        t.add_row(
            "先行自付比例 selfpay_prop",
            f"{entry.selfpay_prop} — {entry.selfpay_source}",
            src.get("selfpay_prop", ""),
        )
        t.add_row(
            "支付标准 pric_uplmt_amt (元/单位)",
            _yuan(entry.pric_uplmt_amt),
            src.get("pric_uplmt_amt", ""),
        )
        t.add_row("参考单价 pric (元，示意)", _yuan(entry.pric), src.get("pric", ""))
        t.add_row(
            "计价单位 / 剂型 / 规格",
            f"{entry.prcunt} / {entry.drug_dosform} / {entry.drug_spec}",
            "",
        )
        t.add_row("生产企业 prodentp_name", entry.prodentp_name, src.get("prodentp_name", ""))
        t.add_row(
            "限制使用 lmt_used_flag",
            f"{entry.lmt_used_flag} {entry.lmt_usescp if entry.lmt_used_flag == '1' else ''}",
            src.get("lmt_used_flag", ""),
        )
        t.add_row(
            "国谈 hi_nego_drug_flag / 集采",
            f"{entry.hi_nego_drug_flag} / {entry.vol_procurement_flag}",
            "",
        )
        t.add_row("有效期", f"{entry.begndate} ~ {entry.enddate or '长期'}", "")
        if entry.memo:
            t.add_row("备注", entry.memo, src.get("memo", ""))
        console.print(t)
    h = Table(title="各层目录记录（含历史与失效）")
    for col in ("统筹区", "动作", "开始", "结束", "等级", "支付标准", "有效", "版本", "更新时间"):
        h.add_column(col, no_wrap=True)
    for r in rows:
        h.add_row(
            r["admdvs"], r["action"], str(r["begndate"]), str(r["enddate"] or ""),
            r["chrgitm_lv"] or "", _yuan(r["pric_uplmt_amt"]), r["vali_flag"], str(r["ver"]),
            r["updt_time"].strftime("%Y-%m-%d %H:%M:%S"),
        )  # fmt: skip
    console.print(h)


@app.command("search")
def search(
    text: str = typer.Argument(..., help="编码前缀或名称片段"),
    region: str = typer.Option(..., "--region", help="医保区划, e.g. 440300"),
    on: str = typer.Option(clock.today().isoformat(), "--date", help="YYYY-MM-DD"),
    list_type: str = typer.Option(None, "--type", help="目录类别 101/102/201/301…"),
    limit: int = typer.Option(20, help="最多显示条数"),
) -> None:
    """List items of REGION's catalogue whose code starts with / name contains TEXT."""
    from rich.table import Table

    from yibao.catalog import service

    day = _day(on)
    with _engine() as engine, engine.connect() as conn:
        page = service.list_entries(conn, region, day, text=text, list_type=list_type, size=limit)
    t = Table(title=f"{region} {day} 医保目录检索“{text}”：共 {page.total} 条")
    for col in ("编码", "名称", "类别", "等级", "先行自付", "支付标准", "规格", "单位"):
        t.add_column(col, no_wrap=col in ("编码", "先行自付", "支付标准"))
    for e in page.entries:
        t.add_row(
            e.med_list_codg, e.name, e.list_type_name, e.chrgitm_lv_name, str(e.selfpay_prop),
            _yuan(e.pric_uplmt_amt), e.drug_spec, e.prcunt,
        )  # fmt: skip
    _console().print(t)
