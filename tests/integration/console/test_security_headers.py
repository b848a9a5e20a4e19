"""Security headers (安全响应头): on console pages, and only there."""

from __future__ import annotations

from fastapi.testclient import TestClient

from yibao.web import CSP


def test_console_pages_carry_security_headers(client: TestClient) -> None:
    r = client.get("/console/login")
    assert r.status_code == 200
    assert r.headers["content-security-policy"] == CSP
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["cache-control"] == "no-store"


def test_static_assets_are_cacheable_but_still_protected(client: TestClient) -> None:
    r = client.get("/console/static/css/console.css")
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "no-store" not in r.headers.get("cache-control", "")


def test_redirects_of_the_console_carry_them_too(client: TestClient) -> None:
    r = client.get("/console/")
    assert r.status_code == 303
    assert r.headers["x-frame-options"] == "DENY"


def test_other_paths_are_untouched(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert "content-security-policy" not in r.headers
    assert "x-frame-options" not in r.headers
