"""Liveness and readiness (存活与就绪检查), JSON for load balancers and orchestrators.

- ``GET /healthz`` — liveness: the process answers. 200 ``{"status": "ok", "version"}``; it never
  touches the database, so a database outage does not get a healthy process restarted.
- ``GET /readyz`` — readiness: the database answers within :data:`READY_TIMEOUT_S` and its schema
  is at the code's migration heads. 200 ``{"status": "ready", …}`` or 503
  ``{"status": "not_ready", "database": …, "migrations": …, "message": "<Chinese reason>"}``.
  A dead database costs the probe at most :data:`READY_TIMEOUT_S` (the engine's connect timeout
  bounds the worker thread too, see :func:`yibao.db.engine.connect_timeout`).
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from yibao import __version__
from yibao.db.probe import migration_heads

READY_TIMEOUT_S = 1.0

router = APIRouter(tags=["ops"])


@cache
def _scripts() -> Any:
    from alembic.script import ScriptDirectory

    from yibao.db.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("postgresql://x"))


def code_heads() -> frozenset[str]:
    """The migration heads this code expects (every capability branch's newest revision)."""
    return frozenset(_scripts().get_heads())


def missing_revisions(database_heads: frozenset[str]) -> list[str]:
    """Code heads the database has not reached. A head another branch depends on is not listed
    in ``alembic_version`` once the dependant is applied, so compare against every revision the
    database's heads imply (ancestors and dependencies)."""
    try:
        applied = {r.revision for r in _scripts().iterate_revisions(tuple(database_heads), "base")}
    except Exception:  # a revision this code does not know (a newer schema): not current
        return sorted(database_heads - code_heads()) or ["?"]
    return sorted(code_heads() - applied)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process is up (no database access)."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Readiness: database reachable and migrations current (200), else 503 with the reason."""
    engine: Engine = request.app.state.engine
    try:
        heads = await asyncio.wait_for(
            run_in_threadpool(migration_heads, engine), timeout=READY_TIMEOUT_S
        )
    except TimeoutError:
        return _not_ready("timeout", "unknown", f"数据库在{READY_TIMEOUT_S:g}秒内未响应")
    except Exception:  # any failure to reach or read it: not ready, no traceback needed
        return _not_ready("unreachable", "unknown", "数据库不可达，请检查数据库服务")
    missing_list = missing_revisions(heads)
    if missing_list:
        missing = ", ".join(missing_list)
        return _not_ready(
            "ok",
            "outdated",
            f"数据库结构版本不是当前版本（缺少 {missing}），请执行 yibao db upgrade",
        )
    return JSONResponse(
        {"status": "ready", "database": "ok", "migrations": "current", "version": __version__}
    )


def _not_ready(database: str, migrations: str, message: str) -> JSONResponse:
    body = {"status": "not_ready", "database": database, "migrations": migrations,
            "message": message, "version": __version__}  # fmt: skip
    return JSONResponse(body, status_code=503)
