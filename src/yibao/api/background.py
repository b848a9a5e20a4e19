"""Background work of the app (后台任务): the periodic ledger roll-up (账务日结汇总).

The ledger folds finished postings into its daily balances with :func:`yibao.ledger.rollup`;
the app runs it every ``YIBAO_LEDGER_ROLLUP_SECONDS`` seconds (default 300; ``0`` turns it off).
With several uvicorn workers each runs the loop, but a PostgreSQL advisory lock lets only one
roll up at a time (the others skip that round). Errors are logged; the loop never stops the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

import sqlalchemy as sa
import structlog

log = structlog.get_logger(__name__)

ROLLUP_ENV = "YIBAO_LEDGER_ROLLUP_SECONDS"
DEFAULT_ROLLUP_SECONDS = 300.0
#: Advisory lock key of the roll-up (any constant 64-bit number shared by every worker).
ROLLUP_LOCK_KEY = 0x59_4C_45_44_52_4F_4C_4C  # "YLEDROLL"


def rollup_interval(environ: dict[str, str] | None = None) -> float:
    """Seconds between roll-ups from ``YIBAO_LEDGER_ROLLUP_SECONDS`` (0 = disabled)."""
    raw = (environ if environ is not None else os.environ).get(ROLLUP_ENV, "").strip()
    if not raw:
        return DEFAULT_ROLLUP_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{ROLLUP_ENV}: 须为秒数（0 表示关闭），收到 {raw!r}") from None
    if value < 0 or value != value:
        raise ValueError(f"{ROLLUP_ENV}: 须为不小于0的秒数，收到 {raw!r}")
    return value


def rollup_once(engine: sa.Engine) -> int | None:
    """One roll-up under the advisory lock; ``None`` when another worker holds it. The worker
    that rolled up the ledger then folds the settlement records into their daily roll-ups
    (结算日汇总, which feed the console's totals)."""
    from yibao.encounter.service import rollup_settlements
    from yibao.ledger.service import rollup_exclusive

    folded = rollup_exclusive(engine, ROLLUP_LOCK_KEY)
    if folded is not None:
        with engine.begin() as conn:
            rollup_settlements(conn)
    return folded


async def rollup_loop(engine: sa.Engine, interval: float) -> None:
    """Roll up every ``interval`` seconds until cancelled; a failed round is logged and skipped."""
    while True:
        await asyncio.sleep(interval)
        try:
            folded = await asyncio.to_thread(rollup_once, engine)
        except Exception:
            log.exception("ledger_rollup_failed")
            continue
        if folded:
            log.info("ledger_rollup", transfers=folded)


@contextlib.asynccontextmanager
async def periodic_rollup(engine: sa.Engine) -> AsyncIterator[None]:
    """Run :func:`rollup_loop` for the app's lifetime (nothing when the interval is 0)."""
    interval = rollup_interval()
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(rollup_loop(engine, interval), name="ledger-rollup")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
