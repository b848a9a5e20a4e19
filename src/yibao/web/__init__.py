"""The web console (经办管理控制台): server-rendered Chinese pages under ``/console``.

:func:`install` mounts the static assets (own CSS/JS, vendored ECharts; no CDN), adds the routers
and the handlers that turn refusals into Chinese pages (login redirect, 403, 404).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yibao.config import deployment_province
from yibao.console.scoping import NoPersonData, OutOfScope
from yibao.web.auth import CsrfFailed, Forbidden, LoginRequired, login_redirect
from yibao.web.render import templates

STATIC = Path(__file__).parent / "static"

# Only our own origin: no CDN, no inline script (chart data is JSON in a non-executed block).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'"
)


HTTP_PAGES = {
    404: ("页面不存在", "您访问的页面不存在，可能地址有误或页面已移动。请从左侧导航重新进入。"),
    405: (
        "无法直接打开此地址",
        "这个地址只接受页面上的表单提交。请返回上一页，或从左侧导航重新进入。",
    ),
}


def _browser_under_console(request: Request) -> bool:
    path = request.url.path
    return (path == "/console" or path.startswith("/console/")) and "text/html" in (
        request.headers.get("accept", "")
    )


def _error(request: Request, status: int, title: str, message: str) -> Response:
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": title, "message": message},
        status_code=status,
    )


class SecurityHeaders:
    """Security headers on console pages (安全响应头).

    A plain ASGI middleware: requests outside ``/console`` (the national-interface gateway, the
    APIs) pass straight through, without the task and stream wrapping of ``BaseHTTPMiddleware``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/console"):
            await self.app(scope, receive, send)
            return
        extra = [
            ("content-security-policy", CSP),
            ("x-frame-options", "DENY"),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "same-origin"),
        ]
        if not path.startswith("/console/static"):
            extra.append(("cache-control", "no-store"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    """Add the console to the app (called from ``yibao.api.app._include_routers``)."""
    from yibao.web import (
        routes_auth,
        routes_campaigns,
        routes_claims,
        routes_funds,
        routes_online,
        routes_pages,
        routes_payment,
        routes_public,
        routes_sim,
        routes_sim_counter,
        routes_simulation,
    )

    deployment_province()  # a YIBAO_PROVINCE that is not two digits stops the app at start
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")

    @app.get("/favicon.ico", include_in_schema=False)
    def _favicon() -> Response:
        """Browsers ask for /favicon.ico by themselves; the console's icon (an SVG) answers."""
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")
    app.include_router(routes_auth.router)
    app.include_router(routes_pages.router)
    app.include_router(routes_sim.router)
    app.include_router(routes_sim_counter.router)  # 收费窗口 (refresh-safe steps)
    app.include_router(routes_payment.router)  # 支付方式改革 /console/payment
    app.include_router(routes_funds.router)  # 单位缴费, 基金收支, 可支付月数
    app.include_router(routes_campaigns.router)  # 激活推广 /console/campaigns (issue 16)
    app.include_router(routes_claims.router)  # 零星报销 /console/claims (issue 16)
    app.include_router(routes_public.router)  # 网上服务大厅 /services: 服务目录, 边问边办 (public)
    app.include_router(routes_simulation.router)
    app.include_router(routes_online.router)  # 线上结算: 移动支付订单, 电子处方 /console/online
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(login_redirect(exc.next_url), status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return _error(
            request, 403, "无权访问", "您的角色无权打开此页面。如需权限，请联系省级管理员。"
        )

    @app.exception_handler(NoPersonData)
    async def _no_person(request: Request, exc: NoPersonData) -> Response:
        return _error(request, 403, "无权访问", "您的角色不能查看参保人或结算单的个人明细。")

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        return _error(
            request,
            403,
            "安全校验失败",
            "表单安全令牌（CSRF）缺失或不匹配，请求已被拒绝。请返回并刷新页面后重试。",
        )

    @app.exception_handler(OutOfScope)
    async def _out_of_scope(request: Request, exc: OutOfScope) -> Response:
        return _error(request, 404, "未找到记录", "未找到该记录，或该记录不在您的管辖范围内。")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """A browser under /console gets a Chinese page for an unknown address (404) or a step
        address opened without its form (405); API clients keep FastAPI's JSON."""
        page = HTTP_PAGES.get(exc.status_code)
        if page and _browser_under_console(request):
            return _error(request, exc.status_code, *page)
        return await http_exception_handler(request, exc)
