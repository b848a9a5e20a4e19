"""The app's periodic ledger roll-up: advisory lock, loop, lifespan (PostgreSQL)."""

from __future__ import annotations

import asyncio
import time

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from yibao.api.app import create_app
from yibao.api.background import ROLLUP_ENV, ROLLUP_LOCK_KEY, rollup_loop, rollup_once


def _rolled_at(engine: sa.Engine) -> object:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT rolled_at FROM ledger_rollup_state WHERE id = 1")
        ).scalar_one()


def test_rollup_once_skips_while_another_worker_holds_the_lock(engine: sa.Engine) -> None:
    with engine.connect() as other:
        other.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": ROLLUP_LOCK_KEY})
        assert rollup_once(engine) is None
        other.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ROLLUP_LOCK_KEY})
    assert _rolled_at(engine) is None
    assert rollup_once(engine) == 0
    assert _rolled_at(engine) is not None


def test_loop_survives_a_failing_round() -> None:
    broken = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")

    async def run() -> asyncio.Task[None]:
        task = asyncio.create_task(rollup_loop(broken, 0.01))
        await asyncio.sleep(0.2)  # several failed rounds (connection refused), each logged
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return task

    asyncio.run(run())


def _wait_rolled(engine: sa.Engine, timeout: float = 10) -> object:
    deadline = time.monotonic() + timeout
    while (at := _rolled_at(engine)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return at


def test_app_lifespan_rolls_up_periodically(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ROLLUP_ENV, "0.05")
    with TestClient(create_app(engine)):
        assert _wait_rolled(engine) is not None


def test_zero_interval_disables_the_task(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ROLLUP_ENV, "0")
    with TestClient(create_app(engine)) as client:
        assert client.get("/healthz").status_code == 200
        tasks = client.portal.call(lambda: {t.get_name() for t in asyncio.all_tasks()})  # type: ignore[union-attr]
    assert "ledger-rollup" not in tasks
    assert _rolled_at(engine) is None
