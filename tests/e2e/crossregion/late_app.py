"""A Yibao app whose insured-side settle answer is lost in transit (test-only fault injection).

Started by the cross-province tests as ``tests.e2e.crossregion.late_app:late_insured_app``: the
production app (``app_from_env``) wrapped in a middleware that holds the answer of
``POST /api/hub/insured/settle`` for :data:`DELAY_SECONDS` after the settlement has committed,
so a hub with a shorter hop timeout sees a timeout although the insured side did settle.
Production code carries no such switch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from yibao.api.app import app_from_env

DELAY_SECONDS = 4.0
LATE_PATH = "/api/hub/insured/settle"


def late_insured_app() -> FastAPI:
    """``app_from_env`` whose insured-side settle answers :data:`DELAY_SECONDS` late."""
    app = app_from_env()

    @app.middleware("http")
    async def _late(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)  # the endpoint has run and committed
        if request.url.path == LATE_PATH:
            await asyncio.sleep(DELAY_SECONDS)
        return response

    return app
