"""Console over HTTP (in-process app, real PostgreSQL): login, CSRF, roles, cookies, audit."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.integration.console.conftest import PASSWORD, csrf_of, login


def test_pages_require_login(client: TestClient) -> None:
    r = client.get("/console/persons?q=x")
    assert r.status_code == 303
    assert r.headers["location"] == "/console/login?next=%2Fconsole%2Fpersons%3Fq%3Dx"


def test_login_sets_httponly_lax_cookie_and_redirects_to_next(client: TestClient) -> None:
    token = csrf_of(client.get("/console/login").text)
    r = client.post(
        "/console/login",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/console/audit",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/audit"
    cookie = r.headers["set-cookie"]
    assert "yibao_console=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_open_redirect_is_not_followed(client: TestClient) -> None:
    token = csrf_of(client.get("/console/login").text)
    r = client.post(
        "/console/login",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/",
        },
    )
    assert r.headers["location"] == "/console/"


def test_wrong_password_shows_chinese_error(client: TestClient) -> None:
    token = csrf_of(client.get("/console/login").text)
    r = client.post(
        "/console/login", data={"username": "admin", "password": "nope-12345", "csrf_token": token}
    )
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text


def test_login_without_matching_csrf_is_403(client: TestClient) -> None:
    client.get("/console/login")
    r = client.post(
        "/console/login", data={"username": "admin", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert r.status_code == 403
    assert "安全校验失败" in r.text


def test_logout_needs_csrf_then_ends_session(client: TestClient, seeded: Engine) -> None:
    csrf = login(client, "admin")
    assert client.post("/console/logout", data={}).status_code == 403
    assert client.post("/console/logout", data={"csrf_token": "x" * 43}).status_code == 403
    assert client.get("/console/").status_code == 200  # still signed in
    r = client.post("/console/logout", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert client.get("/console/").status_code == 303  # back to login
    with seeded.connect() as conn:
        acts = list(conn.execute(sa.text("SELECT action FROM audit_log ORDER BY id")).scalars())
    assert acts[-2:] == ["console.login", "console.logout"]


def test_stolen_cookie_after_logout_is_useless(client: TestClient, seeded: Engine) -> None:
    csrf = login(client, "gz_admin")
    cookie = client.cookies.get("yibao_console")
    client.post("/console/logout", data={"csrf_token": csrf})
    with TestClient(
        client.app, follow_redirects=False, cookies={"yibao_console": cookie or ""}
    ) as other:
        assert other.get("/console/").status_code == 303


def test_analyst_cannot_open_person_pages(client: TestClient) -> None:
    login(client, "analyst")
    home = client.get("/console/").text
    assert "参保人查询" not in home and "政策查询" in home
    r = client.get("/console/persons")
    assert r.status_code == 403 and "无权访问" in r.text
    assert client.get("/console/settlements/ANY").status_code == 403


def test_city_admin_has_no_audit_page(client: TestClient) -> None:
    login(client, "gz_admin")
    assert client.get("/console/audit").status_code == 403
    assert "统计范围：广州市 ·" in client.get("/console/").text


def test_change_password_form_reports_rules_in_chinese(client: TestClient) -> None:
    csrf = login(client, "sz_admin")
    r = client.post(
        "/console/account",
        data={
            "csrf_token": csrf,
            "old_password": PASSWORD,
            "new_password": "abc",
            "new_password2": "abc",
        },
    )
    assert r.status_code == 400
    assert "密码长度至少 10 位" in r.text and "必须同时包含英文字母和数字" in r.text
    assert client.post("/console/account", data={"old_password": PASSWORD}).status_code == 403


def test_security_headers_and_local_assets(client: TestClient) -> None:
    login(client, "admin")
    r = client.get("/console/")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert "/console/static/vendor/echarts/echarts.min.js" in r.text
    assert "http" not in "".join(
        line for line in r.text.splitlines() if "<script" in line or "stylesheet" in line
    )
    js = client.get("/console/static/vendor/echarts/echarts.min.js")
    assert js.status_code == 200 and len(js.content) > 500_000


def test_demo_seed_is_idempotent(seeded: Engine) -> None:
    from yibao.console import demo

    demo.seed(seeded)
    with seeded.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM console_user")).scalar() == len(
            demo.DEMO_USERS
        )
