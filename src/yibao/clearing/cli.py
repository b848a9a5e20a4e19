"""``yibao clearing run|list|show|confirm|approve|send-back|export`` (异地清算)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
import typer

from yibao.clearing.model import ClearingError
from yibao.money import fen_str

app = typer.Typer(help="异地清算 (monthly cross-region clearing)", no_args_is_help=True)
T = TypeVar("T")


def _with_conn(fn: Callable[[sa.Connection], T], *, write: bool) -> T:
    from yibao.config import get_settings
    from yibao.db.engine import make_engine
    from yibao.db.runtime import database_url

    with database_url(get_settings()) as url:
        engine = make_engine(url, pool_size=1)
        try:
            ctx = engine.begin() if write else engine.connect()
            with ctx as conn:
                return fn(conn)
        except ClearingError as exc:
            typer.echo(f"错误: {exc.message} ({exc.field})", err=True)
            raise typer.Exit(2) from exc
        finally:
            engine.dispose()


def _print(s: object) -> None:
    from yibao.clearing.service import Statement

    assert isinstance(s, Statement)
    a, b = s.pair
    d1, d2 = s.totals["directions"]
    typer.echo(
        f"{s.stmt_id}  {s.period}  {a}↔{b}  状态={s.state.value}  明细 {s.line_count} 笔  "
        f"{d1['insured']}应付 {fen_str(d1['clearing_amt'])}  {d2['insured']}应付 "
        f"{fen_str(d2['clearing_amt'])}  轧差: "
        + (f"{s.payer} → {s.payee} {fen_str(s.net_amount)} 元" if s.payer else "无需拨付")
    )


@app.command("run")
def run(
    month: str = typer.Option(..., "--month", help="清算期 YYYY-MM"),
    pair: str | None = typer.Option(None, "--pair", help="两个医保区划, 如 440100,441300"),
    operator: str = typer.Option("cli", "--operator", help="操作员"),
) -> None:
    """Build the month's statements (草稿) for every pair with cross-region traffic."""
    from yibao.clearing import service

    p = None
    if pair:
        parts = [x.strip() for x in pair.split(",")]
        if len(parts) != 2:
            typer.echo("错误: --pair 须为两个医保区划代码，以逗号分隔", err=True)
            raise typer.Exit(2)
        p = (parts[0], parts[1])
    stmts = _with_conn(lambda c: service.run(c, month, actor=operator, pair=p), write=True)
    for s in stmts:
        _print(s)
    if not stmts:
        typer.echo(f"{month} 无异地结算")


@app.command("list")
def list_(
    month: str | None = typer.Option(None, "--month", help="清算期 YYYY-MM（默认全部）"),
) -> None:
    """List the clearing statements (清算单) with their state and net payment."""
    from yibao.clearing import service

    for s in _with_conn(lambda c: service.statements(c, month), write=False):
        _print(s)


@app.command("confirm")
def confirm(
    stmt_id: str = typer.Argument(..., help="清算单号"),
    operator: str = typer.Option(..., "--operator", help="经办人（审计）"),
) -> None:
    """经办确认."""
    from yibao.clearing import service

    _print(_with_conn(lambda c: service.confirm(c, stmt_id, actor=operator), write=True))


@app.command("approve")
def approve(
    stmt_id: str = typer.Argument(..., help="清算单号"),
    operator: str = typer.Option(..., "--operator", help="审批人（须不同于经办人）"),
) -> None:
    """审批 (a different operator) and post the net payment to the ledger."""
    from yibao.clearing import service
    from yibao.encounter.service import business_day

    today = business_day(datetime.now(UTC))
    _print(
        _with_conn(lambda c: service.approve(c, stmt_id, actor=operator, today=today), write=True)
    )


@app.command("send-back")
def send_back(
    stmt_id: str = typer.Argument(..., help="清算单号"),
    operator: str = typer.Option(..., "--operator", help="经办人（审计）"),
    reason: str = typer.Option(..., "--reason", help="退回原因"),
) -> None:
    """退回 a confirmed statement to 草稿."""
    from yibao.clearing import service

    _print(
        _with_conn(
            lambda c: service.send_back(c, stmt_id, actor=operator, reason=reason), write=True
        )
    )


@app.command("export")
def export(
    stmt_id: str = typer.Argument(..., help="清算单号"),
    out: Path = typer.Option(None, "--out", help="XLSX 文件路径"),
) -> None:
    """Write the statement as XLSX (汇总 + 明细)."""
    from yibao.clearing import service
    from yibao.clearing.export import statement_xlsx

    data = _with_conn(
        lambda c: statement_xlsx(service.get(c, stmt_id), service.lines(c, stmt_id)), write=False
    )
    path = out or Path(f"{stmt_id}.xlsx")
    path.write_bytes(data)
    typer.echo(f"已导出 {path} ({len(data)} 字节)")
