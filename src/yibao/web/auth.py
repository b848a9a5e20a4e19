"""Console request context (控制台请求上下文): session cookie, role check, CSRF.

- The session cookie ``yibao_console`` carries a random token (HttpOnly, SameSite=Lax, Secure on
  HTTPS); the server keeps its SHA-256, user, expiry and CSRF token in PostgreSQL.
- Every state-changing form carries ``csrf_token``. Signed-in forms are checked against the token
  bound to the session; the login form (no session yet) uses a double-submit cookie
  ``yibao_csrf``. Missing or mismatched tokens get 403.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from sqlalchemy import Engine

from yibao.config import deployment_province
from yibao.console import service
from yibao.console.model import Page, Principal, Scope, scope_for

SESSION_COOKIE = "yibao_console"
LOGIN_CSRF_COOKIE = "yibao_csrf"


class LoginRequired(Exception):
    """No live session: the page redirects to the login form."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class Forbidden(Exception):
    """The role may not open this page (403)."""


class CsrfFailed(Exception):
    """Missing or mismatched CSRF token (403)."""


@dataclass(frozen=True, slots=True)
class Console:
    """What every console page knows about the request: who, what they may see, the CSRF token."""

    principal: Principal
    scope: Scope
    csrf_token: str
    session_token: str

    def may_open(self, page: Page) -> bool:
        return self.principal.may_open(page)


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def current_console(request: Request) -> Console:
    """FastAPI dependency: the signed-in user, or a redirect to the login page."""
    token = request.cookies.get(SESSION_COOKIE, "")
    row = service.resolve_session(engine_of(request), token) if token else None
    if row is None:
        path = request.url.path
        if request.url.query:
            path += "?" + request.url.query
        raise LoginRequired(path)
    return Console(
        row.principal, scope_for(row.principal, deployment_province()), row.csrf_token, token
    )


def require(console: Console, page: Page) -> None:
    if not console.may_open(page):
        raise Forbidden(page.value)


def tokens_match(expected: str, given: str | None) -> bool:
    # bytes: compare_digest refuses non-ASCII str (a forged token must get a 403, not a 500)
    return (
        bool(expected)
        and bool(given)
        and hmac.compare_digest(expected.encode("utf-8"), (given or "").encode("utf-8"))
    )


async def check_csrf(request: Request, console: Console) -> None:
    """Refuse a signed-in form post whose ``csrf_token`` is not the session's (403)."""
    form = await request.form()
    given = form.get("csrf_token")
    if not isinstance(given, str) or not tokens_match(console.csrf_token, given):
        raise CsrfFailed()


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)


def login_redirect(next_url: str) -> str:
    return "/console/login?next=" + quote(next_url, safe="")


def safe_next(next_url: str | None) -> str:
    """Only local console paths are followed after login (no open redirect)."""
    if next_url and next_url.startswith("/console") and not next_url.startswith("//"):
        return next_url
    return "/console/"


def cookie_secure(request: Request) -> bool:
    return request.url.scheme == "https"
