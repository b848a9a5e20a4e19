"""Console integration fixtures: the app over the per-test database, demo users seeded."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from yibao.api.app import create_app
from yibao.console import demo

PASSWORD = demo.DEMO_PASSWORD


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    demo.seed(engine)
    return engine


@pytest.fixture
def client(seeded: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(seeded), follow_redirects=False) as c:
        yield c


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no csrf_token in form"
    return m.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token (from the next page)."""
    token = csrf_of(client.get("/console/login").text)
    r = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/console/"},
    )
    assert r.status_code == 303, r.text
    page = client.get("/console/")
    assert page.status_code == 200
    return csrf_of(page.text)
