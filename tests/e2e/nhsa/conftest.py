"""Fixtures for the national-interface e2e tests: a live server with demo institutions."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from yibao.client import NhsaClient
from yibao.institutions import demo

HOSPITAL = "H44030000001"  # 深圳市人民医院
PHARMACY = "P44030000001"

ClientFactory = Callable[..., NhsaClient]


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    demo.seed(engine)
    return engine


@pytest.fixture
def nhsa_server(seeded: Engine, live_server: str) -> str:
    return live_server


@pytest.fixture
def make_client(nhsa_server: str) -> Iterator[ClientFactory]:
    made: list[NhsaClient] = []

    def factory(code: str = HOSPITAL, transport: str = "csb", **kw: object) -> NhsaClient:
        row = next(r for r in demo.DEMO_INSTITUTIONS if r[0] == code)
        c = NhsaClient(
            nhsa_server,
            fixmedins_code=code,
            fixmedins_name=row[1],
            mdtrtarea_admvs=row[3],
            app_key=demo.demo_app_key(code),
            app_secret=demo.demo_secret(code),
            transport=transport,
            **kw,  # type: ignore[arg-type]
        )
        made.append(c)
        return c

    yield factory
    for c in made:
        c.close()
