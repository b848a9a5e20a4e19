"""The online centres' sweeper (后台巡检): every ``YIBAO_ONLINE_SWEEP_SECONDS`` seconds (default 5;
``0`` turns it off) reverse the orders whose 医保 outcome stayed unknown and deliver the 6302
callbacks still owed. A PostgreSQL advisory lock lets one worker sweep at a time."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
import structlog

log = structlog.get_logger(__name__)
SWEEP_LOCK_KEY = 0x59_4F_4E_4C_53_57_45_50  # "YONLSWEP"


def sweep_once(app: Any) -> dict[str, int] | None:
    from yibao.online.api import centre_of_app
    from yibao.online.service import sweep

    centre = centre_of_app(app)
    with centre.engine.connect() as conn:
        if not conn.execute(sa.text("SELECT to_regclass('online_order') IS NOT NULL")).scalar():
            return None
        if not conn.execute(
            sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": SWEEP_LOCK_KEY}
        ).scalar():
            return None
        try:
            return sweep(centre, getattr(app.state, "online_base_url", ""))
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": SWEEP_LOCK_KEY})
            conn.commit()


async def _loop(app: Any, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            done = await asyncio.to_thread(sweep_once, app)
        except Exception:
            log.exception("online_sweep_failed")
            continue
        if done and any(done.values()):
            log.info("online_sweep", **done)


@contextlib.asynccontextmanager
async def sweeper(app: Any) -> AsyncIterator[None]:
    interval = float(os.environ.get("YIBAO_ONLINE_SWEEP_SECONDS", "5") or 0)
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(_loop(app, interval), name="online-sweep")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
