"""App-wide answers to failures that are not the caller's bug (统一错误应答).

- **The database is down** (a refused or timed-out connection, a connection lost mid-request):
  503 with a clear Chinese message — JSON ``{"error": "DATABASE_UNAVAILABLE", "message": …}`` for
  the APIs, the console's error page under ``/console`` — quickly (the engine's connect timeout,
  :func:`yibao.db.engine.connect_timeout`), logged as one warning line, no traceback.
- **A value the database cannot store** (a NUL character in a text, a number or date out of the
  column's range): 400 ``{"error": "INVALID_VALUE", …}``; nothing was written (the request's
  transaction rolled back).
- **NUL or other control characters in the path or query string** of the APIs and the console:
  400 before any work (:class:`ControlCharacterGuard`). The national-interface gateway routes
  answer in their own envelope and are left to it.

The national-interface gateway (``/fsi/…``, ``/ebus/…``) answers in its own envelope and never
reaches these handlers.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.types import ASGIApp, Receive, Scope, Send

log = structlog.get_logger(__name__)

DB_DOWN = "数据库暂不可用，请求未办理，请稍后重试"
BAD_VALUE = "请求含有无法保存的值（如NUL等控制字符，或超出范围的数字、日期），请求未办理"
CONTROL = "请求地址或参数含有NUL等控制字符，请求未办理"
GATEWAY_PREFIXES = ("/fsi/", "/ebus/")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _answer(request: Request, status: int, key: str, title: str, message: str) -> Response:
    if request.url.path.startswith("/console"):
        from yibao.web.render import templates

        return templates.TemplateResponse(
            request, "error.html", {"status": status, "title": title, "message": message},
            status_code=status,
        )  # fmt: skip
    return JSONResponse({"error": key, "field": "", "message": message}, status_code=status)


class ControlCharacterGuard:
    """400 for NUL and other control characters in a path or query string (outside the
    gateway), before routing: such a value can only fail later, deeper and slower."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope.get("path", "")
            raw = unquote_to_bytes(scope.get("raw_path") or path.encode("utf-8", "replace"))
            query = unquote_to_bytes(scope.get("query_string", b"").replace(b"+", b" "))
            if not path.startswith(GATEWAY_PREFIXES) and (
                _CONTROL.search(raw) or _CONTROL.search(query)
            ):
                body = JSONResponse({"error": "INVALID_CHARACTER", "field": "", "message": CONTROL},
                                    status_code=400)  # fmt: skip
                await body(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    """Register the handlers and the guard on ``app``."""
    app.add_middleware(ControlCharacterGuard)

    async def database_down(request: Request, exc: Exception) -> Response:
        log.warning("database_unavailable", path=request.url.path, error=type(exc).__name__)
        return _answer(request, 503, "DATABASE_UNAVAILABLE", "数据库暂不可用", DB_DOWN)

    async def bad_value(request: Request, exc: Exception) -> Response:
        log.info("value_refused_by_database", path=request.url.path, error=type(exc).__name__)
        return _answer(request, 400, "INVALID_VALUE", "请求有误", BAD_VALUE)

    for kind in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError):
        app.add_exception_handler(kind, database_down)
    app.add_exception_handler(sa_exc.DataError, bad_value)
    _refusals(app)


def _refusals(app: FastAPI) -> None:
    """Refusals a router forgot to map (e.g. a channel signature checked in a dependency of a
    router without the e-voucher's route class) answer like the routers that map them."""
    from yibao.http.institution import InstitutionAuthError
    from yibao.http.staff import StaffAuthError
    from yibao.voucher.model import EcError

    async def ec_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, EcError)
        body = {"code": exc.code, "error": exc.key, "message": exc.message}
        return JSONResponse(body, exc.http_status)

    async def institution_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, InstitutionAuthError)
        body = {"code": exc.code, "error": exc.key, "message": exc.message}
        return JSONResponse(body, exc.status)

    async def staff_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StaffAuthError)
        body = {"code": exc.status, "error": exc.key, "field": "", "message": exc.message}
        return JSONResponse(body, exc.status)

    app.add_exception_handler(EcError, ec_error)
    app.add_exception_handler(InstitutionAuthError, institution_error)
    app.add_exception_handler(StaffAuthError, staff_error)
