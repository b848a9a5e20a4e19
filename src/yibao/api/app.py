"""The ASGI application (FastAPI): one app serving every HTTP entry point.

Capabilities contribute routers in :func:`_include_routers`; handlers stay thin and call the
capability's service layer.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from sqlalchemy import Engine, text

from yibao import __version__
from yibao.config import Settings, get_settings
from yibao.db.engine import make_engine


def _include_routers(app: FastAPI) -> None:
    """Register every capability's router (each import is the capability's public HTTP face)."""
    from yibao.api.nhsa.routes import router as nhsa_router

    app.include_router(nhsa_router)  # national interface gateway (国家接口) /fsi/api/…, /ebus/…
    from yibao.web import install as install_console

    install_console(app)  # web console (经办管理控制台) under /console, static assets
    from yibao.registry.api import router as registry_router
    from yibao.voucher.api import router as voucher_router

    app.include_router(registry_router)  # registry (参保登记) /api/registry/…
    from yibao.api.staff_auth import router as staff_router

    app.include_router(staff_router)  # staff session info (经办人员会话) /api/staff/session
    app.include_router(voucher_router)  # e-voucher (医保电子凭证) /api/voucher/…
    from yibao.filing.api import router as filing_router

    app.include_router(filing_router)  # cross-region filing (异地就医备案) /api/filing/…
    from yibao.catalog.api import router as catalog_router

    app.include_router(catalog_router)  # catalogue (医保目录) /api/catalog/…
    from yibao.clearing.api import router as clearing_router

    app.include_router(clearing_router)  # cross-region clearing (异地清算) /api/clearing/admin/…
    from yibao.hub.api import router as hub_router

    app.include_router(hub_router)  # cross-province relay (跨省中转) /api/hub/…
    from yibao.funds.api import router as funds_router

    app.include_router(funds_router)  # contributions and fund position (缴费与基金) /api/funds/…


def create_app(engine: Engine, settings: Settings | None = None) -> FastAPI:
    """Build the app over an existing engine (tests and ``yibao serve`` both use this)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        from yibao.api.background import periodic_rollup

        async with periodic_rollup(engine):  # ledger roll-up (账务日结汇总) every few minutes
            yield

    app = FastAPI(
        title="Yibao 医保平台",
        version=__version__,
        description="Provincial basic medical insurance platform (基本医疗保险平台)",
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.settings = settings or get_settings()

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    _include_routers(app)
    return app


def app_from_env() -> FastAPI:
    """Factory used by uvicorn workers: the database URL comes from ``YIBAO_DATABASE_URL``."""
    url = os.environ["YIBAO_DATABASE_URL"]
    return create_app(make_engine(url), get_settings())


def engine_of(request: Request) -> Engine:
    """FastAPI dependency: the app's SQLAlchemy engine."""
    engine: Engine = request.app.state.engine
    return engine
