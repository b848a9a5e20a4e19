"""``yibao gateway …``: the national-interface gateway's housekeeping (网关运维)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import typer
from sqlalchemy import Engine

from yibao import clock

app = typer.Typer(help="Gateway (国家接口网关) housekeeping", no_args_is_help=True)


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


@app.command("archive")
def archive_cmd(
    keep: int = typer.Option(
        None, help="months kept live (default YIBAO_GATEWAY_RETENTION_MONTHS, ≥ 3)"
    ),
    operator: str = typer.Option("cli", help="operator recorded in the catalogue"),
) -> None:
    """Move message-log months older than the retention period to
    archive.gateway_message_<yyyymm> (报文日志归档; docs/operations.md "Retention")."""
    from yibao.db.retention import RetentionError
    from yibao.gateway import retention

    with _engine() as engine:
        try:
            done = retention.archive_due(
                engine, today=clock.today(), actor=operator, now=datetime.now(UTC), keep=keep
            )
        except RetentionError as e:
            typer.echo(f"错误: {e}", err=True)
            raise typer.Exit(1) from None
    for a in done:
        typer.echo(f"已归档 {a.period}: {a.rows} 条 → archive.{a.table_name} (md5 {a.checksum})")
    if not done:
        typer.echo("没有到期的月份")
