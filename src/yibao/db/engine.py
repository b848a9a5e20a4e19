"""SQLAlchemy engine and the unit of work (工作单元) over PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine

from yibao.db.embedded import libpq_to_sqlalchemy


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """An engine on psycopg 3; accepts libpq or SQLAlchemy URLs."""
    return create_engine(
        libpq_to_sqlalchemy(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        echo=echo,
        future=True,
    )


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Connection]:
    """One database transaction: commit on success, roll back on any exception."""
    with engine.begin() as conn:
        yield conn
