"""``yibao online …``: the online centres' apps, the sweep, and the day's reconciliation.

Thin commands over :mod:`yibao.online.service`, :mod:`yibao.online.apps` and
:mod:`yibao.online.queries`; dates default to today in China time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

import typer
from sqlalchemy import Engine

from yibao.clock import CHINA

app = typer.Typer(
    help="线上结算：移动支付中心与电子处方中心 (online settlement)", no_args_is_help=True
)


@contextmanager
def _engine() -> Iterator[Engine]:
    from yibao.config import get_settings
    from yibao.db.engine import make_engine
    from yibao.db.migrate import upgrade
    from yibao.db.runtime import database_url

    with database_url(get_settings()) as url:
        upgrade(url)
        engine = make_engine(url, pool_size=2)
        try:
            yield engine
        finally:
            engine.dispose()


@app.command("seed-demo")
def seed_demo() -> None:
    """Open the demo institutions' online apps (public demo keys; docs/api/mobile-payment.md)."""
    from yibao.online import apps

    with _engine() as engine:
        apps.seed_demo(engine)
    typer.echo("已为演示机构开通线上结算应用")


@app.command("platform-key")
def platform_key() -> None:
    """Print the platform's SM2 public key (hex) that institutions verify answers with."""
    from yibao.online import apps

    typer.echo(apps.platform_public_key())


@app.command("sweep")
def sweep() -> None:
    """Reverse the orders whose 医保 outcome stayed unknown (the server does this by itself)."""
    from yibao.online.service import Centre
    from yibao.online.service import sweep as run

    with _engine() as engine:
        done = run(Centre.from_env(engine), "")
    typer.echo(f"自动冲正 {done['reversed']} 笔")


@app.command("reconcile")
def reconcile(day: str = typer.Option("", "--day", help="业务日期 yyyy-MM-dd，默认今天")) -> None:
    """The day's reconciliation: orders ↔ 医保 settlements ↔ the provider's statement."""
    from yibao.money import fen_str
    from yibao.online import queries

    on = date.fromisoformat(day) if day else datetime.now(CHINA).date()
    with _engine() as engine:
        report = queries.reconciliation(engine, on)
    typer.echo(f"{on.isoformat()} 订单 {report.orders} 笔；医保：订单 {fen_str(report.hi_total)} 元 / 结算 "
               f"{fen_str(report.settlement_total)} 元；现金：订单 {fen_str(report.cash_total)} 元 / 对账单 "
               f"{fen_str(report.provider_total)} 元；{'平' if report.balanced else '不平'}")  # fmt: skip
    for d in report.differences:
        typer.echo(
            f"  {d.key}  {d.detail}  本中心 {fen_str(d.ours)} 元  对方 {fen_str(d.theirs)} 元"
        )
    if not report.balanced:
        raise typer.Exit(1)
