"""Fixtures for the national-interface e2e tests.

One live server per test module (over its own database with the demo institutions), so the
module's tests share its start-up cost; tests keep to their own operators or count deltas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from tests.conftest import new_database
from tests.e2e.conftest import ServerProcess
from yibao.client import NhsaClient
from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine
from yibao.institutions import demo

HOSPITAL = "H44030000001"  # 深圳市人民医院
PHARMACY = "P44030000001"

ClientFactory = Callable[..., NhsaClient]


@pytest.fixture(scope="module")
def nhsa_db_url(pg: EmbeddedPostgres, template_url: str) -> str:
    return new_database(pg, template_url)


@pytest.fixture(scope="module")
def seeded(nhsa_db_url: str) -> Iterator[Engine]:
    eng = make_engine(nhsa_db_url, pool_size=2)
    demo.seed(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def nhsa_server(seeded: Engine, nhsa_db_url: str) -> Iterator[str]:
    server = ServerProcess(nhsa_db_url)
    server.start()
    yield server.url
    server.stop()


def client_for(
    base_url: str, code: str = HOSPITAL, transport: str = "csb", **kw: object
) -> NhsaClient:
    """A client signed with the demo credentials of ``code``."""
    row = next(r for r in demo.DEMO_INSTITUTIONS if r[0] == code)
    return NhsaClient(
        base_url,
        fixmedins_code=code,
        fixmedins_name=row[1],
        mdtrtarea_admvs=row[3],
        app_key=demo.demo_app_key(code),
        app_secret=demo.demo_secret(code),
        transport=transport,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def make_client(nhsa_server: str) -> Iterator[ClientFactory]:
    made: list[NhsaClient] = []

    def factory(code: str = HOSPITAL, transport: str = "csb", **kw: object) -> NhsaClient:
        c = client_for(nhsa_server, code, transport, **kw)
        made.append(c)
        return c

    yield factory
    for c in made:
        c.close()
