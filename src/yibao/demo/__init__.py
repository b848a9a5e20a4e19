"""Demo data (演示数据): a living province on first start.

Each capability contributes an idempotent seeder; :func:`seed_all` runs them in dependency order.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from sqlalchemy import Engine

log = structlog.get_logger(__name__)

Seeder = Callable[[Engine], None]


def seeders() -> list[tuple[str, Seeder]]:
    """The seeders in the order they must run (registry before vouchers before settlements)."""
    from yibao.campaigns import demo as campaigns_demo
    from yibao.catalog.service import seed_demo as catalog_seed
    from yibao.console import demo as console_demo
    from yibao.demo import settlements as settlements_demo
    from yibao.filing import demo as filing_demo
    from yibao.funds import demo as funds_demo
    from yibao.institutions import demo as institutions_demo
    from yibao.online import apps as online_apps
    from yibao.payment import demo as payment_demo
    from yibao.registry import demo as registry_demo
    from yibao.voucher import demo as voucher_demo

    return [
        ("catalog", catalog_seed),
        ("console", console_demo.seed),
        ("institutions", institutions_demo.seed),
        ("registry", registry_demo.seed),
        ("voucher", voucher_demo.seed),
        ("filing", filing_demo.seed),
        ("funds", funds_demo.seed),  # a year of contributions before the settlements spend
        ("settlements", settlements_demo.seed),  # plays encounters over all of the above
        ("payment", payment_demo.seed),  # settlement lists of the demo stays, 医共体, budgets
        ("campaigns", campaigns_demo.seed),  # the 广水 2021 e-voucher plan (campaigns/*.yaml)
        ("online", online_apps.seed_demo),  # the demo institutions' mobile-payment/e-prescription apps
    ]


def seed_all(engine: Engine, on_step: Callable[[str], None] | None = None) -> None:
    """Run every seeder; each one is idempotent, so a restart seeds nothing twice. ``on_step`` is
    told each seeder's name before it runs (``yibao serve``'s progress display)."""
    for name, seed in seeders():
        log.info("demo_seed", seeder=name)
        if on_step is not None:
            on_step(name)
        seed(engine)
    analyze(engine)


def analyze(engine: Engine) -> None:
    """Refresh the planner's statistics after a bulk load (ANALYZE).

    Hot statements are prepared per connection and PostgreSQL may keep a generic plan made while a
    table was still nearly empty (a sequential scan, e.g. of the message log) until autovacuum's
    next analyse; fresh statistics right after loading avoid those minutes of slow plans.
    """
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
