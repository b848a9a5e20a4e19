"""Shared fixtures: one throwaway embedded PostgreSQL per test session.

- ``pg``: the running server (pgserver, deleted at the end).
- ``template_url``: a database migrated once to ``heads`` and used as a template.
- ``db_url`` / ``engine``: a fresh database per test, copied from the template (fast, isolated).
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from yibao.db.embedded import EmbeddedPostgres, with_database
from yibao.db.engine import make_engine
from yibao.db.migrate import upgrade

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg() -> Iterator[EmbeddedPostgres]:
    folder = Path(tempfile.mkdtemp(prefix="yibao-test-pg-"))
    server = EmbeddedPostgres(folder / "pgdata", delete_on_stop=True)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def template_url(pg: EmbeddedPostgres) -> str:
    url = pg.ensure_database("yibao_template")
    upgrade(url)
    with psycopg.connect(pg.admin_uri, autocommit=True) as conn:
        # no open connections may remain on a template
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = 'yibao_template' AND pid <> pg_backend_pid()"
        )
    return url


def new_database(pg: EmbeddedPostgres, template_url: str) -> str:
    """Create a fresh database from the migrated template; return its libpq URL."""
    name = f"yibao_t{os.getpid()}_{next(_counter)}"
    with psycopg.connect(pg.admin_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE yibao_template')
    return with_database(template_url, name)


@pytest.fixture
def db_url(pg: EmbeddedPostgres, template_url: str) -> str:
    return new_database(pg, template_url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url, pool_size=4)
    try:
        yield eng
    finally:
        eng.dispose()
