"""``yibao institutions list | add | credential | status``: thin commands over the service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy import Engine

app = typer.Typer(help="定点医药机构 (designated institutions) commands", no_args_is_help=True)


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


@app.command("list")
def list_(
    admdvs: str = typer.Option("", help="only this region (6 digits)"),
    secrets: bool = typer.Option(False, "--secrets", help="also print AK/SK (handle with care)"),
) -> None:
    """List institutions with type, level, network status and gateway keys."""
    from rich.console import Console
    from rich.table import Table

    from yibao import codes
    from yibao.institutions import service
    from yibao.institutions.model import FIXMEDINS_TYPES, ONLINE_FLAGS

    table = Table(
        "机构编号",
        "名称",
        "类型",
        "医院等级",
        "医保区划",
        "联网状态",
        "AK",
        *(["SK"] if secrets else []),
    )
    with _engine() as engine, engine.connect() as conn:
        for i in service.in_region(conn, admdvs):
            creds = service.active_credentials(conn, i.fixmedins_code)
            lv = (
                codes.label("hosp_lv", i.hosp_lv)
                if i.hosp_lv and "hosp_lv" in codes.table_names()
                else i.hosp_lv
            )
            table.add_row(
                i.fixmedins_code,
                i.fixmedins_name,
                FIXMEDINS_TYPES.get(i.fixmedins_type, i.fixmedins_type),
                lv or "-",
                i.admdvs,
                ONLINE_FLAGS.get(i.fix_onln_open_flag, i.fix_onln_open_flag),
                ", ".join(c.app_key for c in creds) or "-",
                *([", ".join(c.app_secret for c in creds) or "-"] if secrets else []),
            )
    Console().print(table)


@app.command("add")
def add(
    code: str = typer.Argument(..., help="fixmedins_code, e.g. H44030000009"),
    name: str = typer.Argument(..., help="fixmedins_name"),
    kind: str = typer.Option("1", "--type", help="1 定点医疗机构 / 2 定点零售药店"),
    admdvs: str = typer.Option(..., help="医保区划 (6 digits)"),
    hosp_lv: str = typer.Option("", help="医院等级 hosp_lv (hospitals)"),
    uscc: str = typer.Option("", help="统一社会信用代码"),
) -> None:
    """Register (or update) an institution and print a new gateway AK/SK."""
    from yibao.institutions import service
    from yibao.institutions.model import Institution, InstitutionError

    with _engine() as engine:
        try:
            with engine.begin() as conn:
                service.register(conn, Institution(code, name, kind, admdvs, hosp_lv, uscc))
                cred = service.issue_credential(conn, code)
        except InstitutionError as exc:
            typer.echo(f"错误: {exc}", err=True)
            raise typer.Exit(2) from exc
    typer.echo(f"已登记 {code} {name}\nAK: {cred.app_key}\nSK: {cred.app_secret}")


@app.command("credential")
def credential(code: str = typer.Argument(..., help="fixmedins_code")) -> None:
    """Issue one more AK/SK for an institution (key rotation)."""
    from yibao.institutions import service
    from yibao.institutions.model import InstitutionError

    with _engine() as engine:
        try:
            with engine.begin() as conn:
                cred = service.issue_credential(conn, code)
        except InstitutionError as exc:
            typer.echo(f"错误: {exc}", err=True)
            raise typer.Exit(2) from exc
    typer.echo(f"AK: {cred.app_key}\nSK: {cred.app_secret}")


@app.command("status")
def status(
    code: str = typer.Argument(..., help="fixmedins_code"),
    flag: str = typer.Argument(..., help="0 暂停联网 / 1 正常联网 / 2 取消定点"),
) -> None:
    """Change an institution's network status (定点联网开通标志)."""
    from yibao.institutions import service
    from yibao.institutions.model import ONLINE_FLAGS

    if flag not in ONLINE_FLAGS:
        typer.echo("错误: 联网状态须为 0 暂停联网 / 1 正常联网 / 2 取消定点", err=True)
        raise typer.Exit(2)
    with _engine() as engine, engine.begin() as conn:
        if not service.set_online_flag(conn, code, flag):
            typer.echo(f"错误: 定点医药机构{code}不存在", err=True)
            raise typer.Exit(2)
    typer.echo(f"{code} 联网状态: {ONLINE_FLAGS[flag]}")
