"""SQLAlchemy engine and the unit of work (工作单元) over PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine

from yibao.db.embedded import libpq_to_sqlalchemy


def connect_timeout() -> int:
    """Seconds a new connection may take (``YIBAO_DB_CONNECT_TIMEOUT``, default 2; libpq's
    minimum): a dead database answers a clear error quickly instead of hanging the caller."""
    return max(int(os.environ.get("YIBAO_DB_CONNECT_TIMEOUT", "2")), 1)


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """An engine on psycopg 3; accepts libpq or SQLAlchemy URLs.

    ``hide_parameters``: a database error's text never carries the statement's values (names,
    ID numbers, secrets) into a log or a traceback.
    """
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
        hide_parameters=True,
        connect_args={"connect_timeout": connect_timeout()},
    )


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Connection]:
    """One database transaction: commit on success, roll back on any exception."""
    with engine.begin() as conn:
        yield conn
