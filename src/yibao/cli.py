"""Command line (命令行): ``yibao serve | db | policy | calc | …``.

Thin entry points over the services. Imports of heavy modules happen inside commands so that
``yibao --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import os
import signal

import typer

from yibao import cli_help
from yibao.config import get_settings

cli_help.install()  # flags show no <bool> type in --help

app = typer.Typer(
    help="Yibao 医保平台 command line",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # a traceback must never print secrets or persons
)
db_app = typer.Typer(help="Database (数据库) commands", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _register_subcommands() -> None:
    """Capabilities add their typer sub-apps here."""
    from yibao.console.cli import app as console_app

    app.add_typer(console_app, name="console")
    from yibao.catalog.cli import app as catalog_app

    app.add_typer(catalog_app, name="catalog")
    from yibao.registry.cli import app as registry_app
    from yibao.voucher.cli import app as voucher_app

    app.add_typer(registry_app, name="registry")
    app.add_typer(voucher_app, name="voucher")
    from yibao.policy.cli import policy_app
    from yibao.settlement.cli import register as register_settlement

    register_settlement(app)  # yibao calc
    app.add_typer(policy_app, name="policy")  # yibao policy
    from yibao.hissim.cli import his_sim

    app.command("his-sim")(his_sim)  # simulated HIS / pharmacy POS against a running server
    from yibao.institutions.cli import app as institutions_app

    app.add_typer(institutions_app, name="institutions")  # yibao institutions list|add|status
    from yibao.clearing.cli import app as clearing_app

    app.add_typer(clearing_app, name="clearing")  # yibao clearing run --month 2026-10
    from yibao.ledger.cli import app as ledger_app

    app.add_typer(ledger_app, name="ledger")  # yibao ledger rollup|verify|balances
    from yibao.gateway.cli import app as gateway_app

    app.add_typer(gateway_app, name="gateway")  # yibao gateway archive
    from yibao.payment.cli import app as payment_app

    app.add_typer(payment_app, name="payment")  # yibao payment tables|group|advance|year-end|…
    from yibao.online.cli import app as online_app

    app.add_typer(online_app, name="online")  # yibao online reconcile|sweep|seed-demo|platform-key
    from yibao.funds.cli import app as funds_app

    app.add_typer(funds_app, name="funds")  # yibao funds assess|export|import|position …
    from yibao.campaigns.cli import app as campaigns_app
    from yibao.claims.cli import app as claims_app
    from yibao.services.cli import app as services_app

    app.add_typer(campaigns_app, name="campaigns")  # yibao campaigns load|list|progress|report
    app.add_typer(claims_app, name="claims")  # yibao claims list|overdue (零星报销)
    app.add_typer(services_app, name="services")  # yibao services catalogue|ask|qa-eval (边问边办)
    from yibao.simulation.cli import app as simulate_app

    app.add_typer(simulate_app, name="simulate")  # yibao simulate run|export|generate|report
    from yibao.frontend.cli import app as frontend_app

    app.add_typer(frontend_app, name="frontend")  # yibao frontend run|check|key-file|queue (前置机)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all schema migrations (on the URL, or on the embedded PostgreSQL)."""
    from yibao.db.migrate import current_heads, upgrade
    from yibao.db.runtime import database_url

    with database_url(get_settings()) as url:
        upgrade(url)
        typer.echo("schema at: " + ", ".join(current_heads(url)))


@db_app.command("reseal")
def db_reseal(
    old_key_file: str = typer.Option(..., help="file holding the previous platform secret"),
) -> None:
    """Re-seal every stored secret under the current platform secret (key rotation)."""
    from pathlib import Path

    from yibao.db.engine import make_engine
    from yibao.db.runtime import database_url
    from yibao.institutions.sealing import SealError
    from yibao.platform_secret import secret_key
    from yibao.secret_rotation import reseal_all

    old = Path(old_key_file).read_text(encoding="utf-8").strip()
    with database_url(get_settings()) as url:
        engine = make_engine(url, pool_size=1)
        try:
            with engine.begin() as conn:
                counts = reseal_all(conn, old_key=old, new_key=secret_key())
        except SealError as e:
            typer.echo(f"未轮换（没有任何改动）: {e}", err=True)
            raise typer.Exit(1) from None
        finally:
            engine.dispose()
    typer.echo("已用新平台密钥重新加密: " + ", ".join(f"{t} {n}" for t, n in counts.items()))


@db_app.command("url")
def db_url() -> None:
    """Start the embedded PostgreSQL (if no URL) and print its URL until interrupted."""
    from yibao.db.runtime import database_url

    with database_url(get_settings()) as url:
        typer.echo(url)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


@app.command()
def serve(
    host: str = typer.Option(None, help="listen address (default YIBAO_HOST or 127.0.0.1)"),
    port: int = typer.Option(None, help="port (default YIBAO_PORT or 8000)"),
    demo: bool = typer.Option(
        False,
        "--demo/--no-demo",
        help="load the demo province (institutions and users with PUBLIC credentials); "
        "`python3 dev.py start` asks for it, a deployment must not",
    ),
    workers: int = typer.Option(1, help="uvicorn worker processes"),
) -> None:
    """Start Yibao: database, migrations, demo data, then the API and console."""
    import uvicorn

    from yibao.db.engine import make_engine
    from yibao.db.migrate import upgrade
    from yibao.db.runtime import database_url

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    # SIGTERM and SIGHUP behave like Ctrl-C: the embedded PostgreSQL is stopped cleanly (uvicorn
    # takes SIGINT/SIGTERM over while it runs and raises them again after its shutdown).
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    from yibao import startup
    from yibao.demo import seed_all, seeders

    with contextlib.ExitStack() as stack:
        try:  # quiet: a progress display instead of ~2,000 log lines (yibao.startup)
            with startup.quiet(), startup.Steps(2 + (len(seeders()) if demo else 0)) as steps:
                steps.step("启动数据库")
                url = stack.enter_context(database_url(settings))
                steps.step("升级数据库结构")
                upgrade(url)
                if demo:
                    engine = make_engine(url, pool_size=2)
                    seed_all(engine, on_step=lambda n: steps.step(startup.seeder_label(n)))
                    engine.dispose()
        except KeyboardInterrupt:
            startup.hush()
            raise typer.Exit(130) from None  # stopped while starting: the database stops too
        os.environ["YIBAO_DATABASE_URL"] = url
        typer.echo(startup.welcome(host, port, demo=demo))
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.run(
                "yibao.api.app:app_from_env",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="warning",
                log_config=None,  # yibao.logging owns the handlers (redaction, no locals)
                timeout_graceful_shutdown=5,  # a stop never waits on a hung or idle connection
            )
        startup.hush()  # the database's shutdown chatter
    typer.echo("Yibao 已停止（服务和数据库）")


_register_subcommands()


def main() -> None:
    from yibao.logging import configure

    configure()
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
