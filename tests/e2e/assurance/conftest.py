"""One live server per test module over its own database (demo institutions and catalogue).

Tests register their own persons (:func:`tests.e2e.assurance.handmade.register`), so they never
share a person's accumulators or account; ledger checks compare balances before and after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from tests.conftest import new_database
from tests.e2e.conftest import ServerProcess
from tests.e2e.settlement.conftest import make
from yibao.catalog import service as catalog
from yibao.client import NhsaClient
from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine
from yibao.institutions import demo as institutions

ClientFactory = Callable[[str], NhsaClient]


@pytest.fixture(scope="module")
def module_db_url(pg: EmbeddedPostgres, template_url: str) -> str:
    return new_database(pg, template_url)


@pytest.fixture(scope="module")
def province(module_db_url: str) -> Iterator[Engine]:
    eng = make_engine(module_db_url, pool_size=2)
    institutions.seed(eng)
    catalog.seed_demo(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def server_url(province: Engine, module_db_url: str) -> Iterator[str]:
    server = ServerProcess(module_db_url)
    server.start(timeout=120)
    yield server.url
    server.stop()


@pytest.fixture
def client(server_url: str) -> Iterator[ClientFactory]:
    """Signed-in clients by institution code (closed after the test)."""
    made: list[NhsaClient] = []

    def factory(code: str) -> NhsaClient:
        c = make(server_url, code)
        made.append(c)
        return c

    yield factory
    for c in made:
        c.close()
