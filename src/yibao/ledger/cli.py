"""``yibao ledger rollup | verify | balances``: thin commands over :mod:`yibao.ledger`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import typer
from sqlalchemy import Engine

from yibao import clock

app = typer.Typer(help="基金账务 (fund ledger) commands", no_args_is_help=True)


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


def _day(value: str | None) -> date:
    if value is None:
        return clock.today()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        typer.echo(f"错误: --date {value!r} 应为 YYYY-MM-DD", err=True)
        raise typer.Exit(2) from exc


@app.command("rollup")
def rollup_cmd() -> None:
    """Fold finished postings into the daily balances (日结滚动汇总) and finished settlement
    records into their daily roll-ups (结算日汇总); safe to run any time."""
    from yibao.encounter.service import rollup_settlements
    from yibao.ledger import rollup

    with _engine() as engine, engine.begin() as conn:
        n = rollup(conn)
        s = rollup_settlements(conn)
    typer.echo(f"已汇总 {n} 笔转账，{s} 条结算记录")


@app.command("verify")
def verify_cmd(
    full: bool = typer.Option(
        False,
        "--full",
        help="check the whole history, not only what was written since the last "
        "verified point (全量核对)",
    ),
) -> None:
    """Zero-sum, chain completeness, mirror and roll-up checks (账务核对) of what was written since
    the last verified point (增量, the stored watermark), or of everything with --full; the
    watermark moves up when all is well; exit 1 on a problem."""
    from yibao.ledger.service import verify_full, verify_since

    with _engine() as engine, engine.begin() as conn:
        rep = verify_full(conn) if full else verify_since(conn)
    scope = "全量核对" if full else "增量核对（自上次核对通过的位置起）"
    typer.echo(
        f"{scope}：转账 {rep.transfers} 笔，记账链 {rep.chains} 条，分录合计 {rep.entry_sum} 分"
    )
    problems = {
        "不平衡的记账链": rep.unbalanced_chains,
        "不完整的记账链": rep.incomplete_chains,
        "不对称的冲销": rep.bad_reversals,
        "未登记的账户": rep.unknown_accounts,
        "日汇总不一致": rep.rollup_mismatches,
        "余额限制提示": rep.limit_violations,
    }
    for label, items in problems.items():
        for item in items[:20]:
            typer.echo(f"  {label}: {item}")
    typer.echo("核对通过" if rep.ok else "核对未通过")
    if not rep.ok:
        raise typer.Exit(1)


@app.command("balances")
def balances_cmd(
    region: str = typer.Option(None, help="pooling region (admdvs), e.g. 440100"),
    kind: str = typer.Option(None, help="fund | personal | payable | clearing | bank | mulaid"),
    as_of: str = typer.Option(None, "--date", help="value date YYYY-MM-DD (default today)"),
) -> None:
    """Account balances at the end of a value date (余额, 元)."""
    from yibao.ledger import account_balances
    from yibao.money import fen_str

    day = _day(as_of)
    filters = {k: v for k, v in (("region", region), ("kind", kind)) if v}
    with _engine() as engine, engine.connect() as conn:
        rows = account_balances(conn, day, **filters)
    typer.echo(f"{'账户':<32}{'借方':>16}{'贷方':>16}{'余额':>16}")
    for b in rows:
        typer.echo(
            f"{b.account_code:<32}{fen_str(b.debits):>16}{fen_str(b.credits):>16}"
            f"{fen_str(b.balance):>16}"
        )


@app.command("archive")
def archive_cmd(
    keep: int = typer.Option(None, help="months kept live (default YIBAO_LEDGER_RETENTION_MONTHS)"),
    operator: str = typer.Option("cli", help="operator recorded in the catalogue"),
) -> None:
    """Move transfers older than the retention period to archive.ledger_transfer_<yyyymm>
    (账务明细归档; balances and chain heads stay; docs/operations.md "Retention")."""
    from datetime import UTC, datetime

    from yibao.db.retention import RetentionError
    from yibao.ledger import retention

    with _engine() as engine:
        try:
            done = retention.archive_due(
                engine, today=clock.today(), actor=operator, now=datetime.now(UTC), keep=keep
            )
        except RetentionError as e:
            typer.echo(f"错误: {e}", err=True)
            raise typer.Exit(1) from None
    for a in done:
        typer.echo(f"已归档 {a.period}: {a.rows} 笔 → archive.{a.table_name} (md5 {a.checksum})")
    if not done:
        typer.echo("没有到期的月份")


@app.command("drop-archive")
def drop_archive_cmd(
    month: str = typer.Option(..., help="YYYYMM of an archived month"),
    note: str = typer.Option(..., help="where its pg_dump is kept (required)"),
    operator: str = typer.Option("cli", help="operator recorded in the catalogue"),
) -> None:
    """Drop an archived month after `pg_dump -t archive.ledger_transfer_<yyyymm>` was stored."""
    from datetime import UTC, datetime

    from yibao.db.retention import RetentionError
    from yibao.ledger import retention

    with _engine() as engine, engine.begin() as conn:
        try:
            retention.drop_month(conn, month, actor=operator, now=datetime.now(UTC), note=note)
        except RetentionError as e:
            typer.echo(f"错误: {e}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"已删除归档表 archive.ledger_transfer_{month}（导出副本：{note}）")
