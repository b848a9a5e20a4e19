"""Login, logout and password change (登录、退出、修改密码)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from yibao.console import service
from yibao.console.model import MIN_PASSWORD_LENGTH
from yibao.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Console,
    CsrfFailed,
    check_csrf,
    client_ip,
    cookie_secure,
    current_console,
    engine_of,
    new_login_csrf,
    safe_next,
    tokens_match,
)
from yibao.web.render import page, templates

router = APIRouter(include_in_schema=False)


def _login_form(
    request: Request, *, next_url: str, error: str = "", username: str = "", status: int = 200
) -> Response:
    token = new_login_csrf()
    resp = templates.TemplateResponse(
        request,
        "login.html",
        {"csrf_token": token, "next": next_url, "error": error, "username": username},
        status_code=status,
    )
    resp.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        path="/console",
        max_age=3600,
    )
    return resp


@router.get("/", response_class=RedirectResponse)
def root() -> RedirectResponse:
    return RedirectResponse("/console/", status_code=303)


@router.get("/console/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/console/") -> Response:
    return _login_form(request, next_url=safe_next(next))


@router.post("/console/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/console/",
) -> Response:
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf_token):
        raise CsrfFailed()
    next_url = safe_next(next)
    if not username.strip() or not password:
        return _login_form(
            request, next_url=next_url, error="请输入用户名和密码", username=username, status=400
        )
    engine = engine_of(request)
    ip = client_ip(request)
    result = service.authenticate(engine, username, password, ip=ip)
    if result.principal is None:
        return _login_form(
            request, next_url=next_url, error=result.message, username=username, status=401
        )
    opened = service.open_session(
        engine, result.principal, ip=ip, user_agent=request.headers.get("user-agent", "")
    )
    resp = RedirectResponse(next_url, status_code=303)
    resp.set_cookie(
        SESSION_COOKIE,
        opened.token,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        path="/",
    )
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return resp


@router.post("/console/logout")
async def logout(
    request: Request, console: Annotated[Console, Depends(current_console)]
) -> Response:
    await check_csrf(request, console)
    service.logout(engine_of(request), console.session_token, ip=client_ip(request))
    resp = RedirectResponse("/console/login?bye=1", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/console/account", response_class=HTMLResponse)
def account(request: Request, console: Annotated[Console, Depends(current_console)]) -> Response:
    return page(
        request,
        console,
        "account.html",
        active=None,
        title="修改密码",
        crumbs=[("账户", None), ("修改密码", None)],
        min_length=MIN_PASSWORD_LENGTH,
        problems=[],
        done=False,
    )


@router.post("/console/account", response_class=HTMLResponse)
async def change_password(
    request: Request, console: Annotated[Console, Depends(current_console)]
) -> Response:
    await check_csrf(request, console)
    form = await request.form()
    old = str(form.get("old_password", ""))
    new = str(form.get("new_password", ""))
    again = str(form.get("new_password2", ""))
    problems: list[str] = []
    if new != again:
        problems.append("两次输入的新密码不一致")
    else:
        try:
            service.change_password(engine_of(request), console.principal, old, new)
        except service.PasswordRejected as e:
            problems = e.problems
        except service.ConsoleError as e:
            problems = [str(e)]
    if not problems:
        # every session of the user has ended: sign in again with the new password
        resp = RedirectResponse("/console/login?changed=1", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp
    return page(
        request,
        console,
        "account.html",
        active=None,
        title="修改密码",
        crumbs=[("账户", None), ("修改密码", None)],
        min_length=MIN_PASSWORD_LENGTH,
        problems=problems,
        done=False,
        status_code=400,
    )
