"""E2E helpers: console users signed in over HTTP, and institution-signed e-voucher calls."""

from __future__ import annotations

import json
import re
import secrets
import time

import httpx

from yibao.console import service as console_service
from yibao.console.model import Role
from yibao.db.engine import make_engine
from yibao.institutions import demo as institutions_demo
from yibao.wire.transport import sign_csb, sign_tif

PASSWORD = "Staff-pass-2026"


def create_staff(
    db_url: str,
    username: str,
    role: Role,
    *,
    admdvs: str | None = None,
    fixmedins_code: str | None = None,
) -> None:
    """A console user (控制台用户) in the test database."""
    engine = make_engine(db_url, pool_size=1)
    try:
        console_service.create_user(
            engine,
            username=username,
            password=PASSWORD,
            role=role,
            admdvs=admdvs,
            fixmedins_code=fixmedins_code,
        )
    finally:
        engine.dispose()


def login(base: str, username: str, password: str = PASSWORD) -> httpx.Client:
    """Sign in through the console's login form; the client carries the cookie and CSRF header."""
    client = httpx.Client(base_url=base, timeout=30)
    form = client.get("/console/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert match, "login form without csrf_token"
    r = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": match.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    session = client.get("/api/staff/session")
    assert session.status_code == 200, session.text
    client.headers["X-CSRF-Token"] = session.json()["csrf_token"]
    return client


def staff_client(
    base: str,
    db_url: str,
    username: str,
    role: Role = Role.PROVINCE_ADMIN,
    *,
    admdvs: str | None = None,
    fixmedins_code: str | None = None,
) -> httpx.Client:
    create_staff(db_url, username, role, admdvs=admdvs, fixmedins_code=fixmedins_code)
    return login(base, username)


def seed_institutions(db_url: str) -> None:
    """The demo institutions and their gateway credentials (AK/SK)."""
    engine = make_engine(db_url, pool_size=1)
    try:
        institutions_demo.seed(engine)
    finally:
        engine.dispose()


def institution_headers(code: str, *, transport: str = "tif", secret: str = "") -> dict[str, str]:
    """Gateway headers signed with the demo credential of ``code`` (or a given secret)."""
    key = institutions_demo.demo_app_key(code)
    sk = secret or institutions_demo.demo_secret(code)
    if transport == "csb":
        return sign_csb(key, sk, "ec.query", int(time.time() * 1000))
    return sign_tif(key, sk, int(time.time()), secrets.token_hex(8))


def ec_post(
    base: str, path: str, payload: dict[str, object], code: str, **kw: str
) -> httpx.Response:
    """POST to ``/api/voucher/ec/*`` as institution ``code``."""
    headers = {"Content-Type": "application/json", **institution_headers(code, **kw)}
    body = json.dumps(payload, ensure_ascii=False).encode()
    return httpx.post(base + path, content=body, headers=headers, timeout=30)
