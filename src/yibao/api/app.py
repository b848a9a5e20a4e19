"""The ASGI application (FastAPI): one app serving every HTTP entry point.

Capabilities contribute routers in :func:`_include_routers`; handlers stay thin and call the
capability's service layer. The national-interface gateway's paths are answered by
:class:`YibaoApp` itself, before FastAPI's middleware and routing (plain ASGI, ADR 0010): they are
the platform's hot path and need none of it; they appear in ``/openapi.json`` all the same.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.types import Receive, Scope, Send

from yibao import __version__
from yibao.api.nhsa import asgi
from yibao.api.nhsa.frame import Gateway
from yibao.config import Settings, get_settings
from yibao.db.engine import make_engine


class YibaoApp(FastAPI):
    """FastAPI, with the national-interface gateway's paths answered before its machinery."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            infno = asgi.path_infno(scope["path"])
            if infno is not None:
                await asgi.serve(nhsa_gateway(self), infno, scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            from yibao.api.nhsa.openapi import gateway_paths

            schema = super().openapi()
            schema["paths"].update(gateway_paths())
            self.openapi_schema = schema
        return self.openapi_schema


def nhsa_gateway(app: FastAPI) -> Any:
    """The app's national-interface gateway (created on first use; the demo seeder installs one
    on its own clock as ``app.state.nhsa_gateway``)."""
    gw = getattr(app.state, "nhsa_gateway", None)
    if gw is None:
        gw = Gateway(app.state.engine, getattr(app.state, "nhsa_settings", None))
        app.state.nhsa_gateway = gw
    return gw


def _include_routers(app: FastAPI) -> None:
    """Register every capability's router (each import is the capability's public HTTP face)."""
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
    from yibao.hub.port import HUB_CLEARING, HUB_VOUCHERS

    app.state.voucher_elsewhere = HUB_VOUCHERS  # other provinces' e-vouchers (voucher.ports)
    app.state.clearing_hub = HUB_CLEARING  # the month's report to the hub (clearing.ports)
    from yibao.funds.api import router as funds_router

    app.include_router(funds_router)  # contributions and fund position (缴费与基金) /api/funds/…
    from yibao.claims.api import router as claims_router
    from yibao.services.api import router as services_router

    app.include_router(claims_router)  # 零星报销 channel API /api/claims/channel/…
    app.include_router(services_router)  # service catalogue and policy Q&A /api/services/…
    from yibao.online.api import router as online_router

    app.include_router(online_router)  # mobile payment and e-prescription centres /api/online/…


def create_app(engine: Engine, settings: Settings | None = None) -> FastAPI:
    """Build the app over an existing engine (tests and ``yibao serve`` both use this)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from yibao.api.background import periodic_rollup
        from yibao.online.background import sweeper

        async with periodic_rollup(engine), sweeper(app):  # ledger roll-up; online sweeper
            yield
        gw = getattr(app.state, "nhsa_gateway", None)
        if gw is not None:
            await gw.close()

    from yibao.api import docs, errors, health

    app = YibaoApp(
        title="Yibao 医保平台",
        version=__version__,
        description="Provincial basic medical insurance platform (基本医疗保险平台)"
        + docs.DESCRIPTION_LINK,
        lifespan=lifespan,
        docs_url=None,  # served by yibao.api.docs from local files (no CDN)
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.settings = settings or get_settings()
    docs.install(app)  # /docs, /redoc, /docs/nhsa/ (national-interface pages), offline

    app.include_router(health.router)  # /healthz (liveness), /readyz (database, migrations)
    errors.install(app)  # database down → 503, unstorable values / control characters → 400
    _include_routers(app)
    return app


def app_from_env() -> FastAPI:
    """Factory used by uvicorn workers: the database URL comes from ``YIBAO_DATABASE_URL``."""
    from yibao.logging import configure

    configure()
    url = os.environ["YIBAO_DATABASE_URL"]
    return create_app(make_engine(url), get_settings())
