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
        # No pre-ping: it costs a round trip on every checkout (the settlement hot path); a
        # connection the server dropped fails once and is replaced, and old ones are recycled.
        pool_pre_ping=False,
        pool_recycle=1800,
        echo=echo,
        future=True,
    )


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Connection]:
    """One database transaction: commit on success, roll back on any exception."""
    with engine.begin() as conn:
        yield conn
