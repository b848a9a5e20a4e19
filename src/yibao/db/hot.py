"""Hot-path SQL (热路径): literal statements on the caller's transaction, without SQLAlchemy.

A settlement (2207/2304/2102) runs about a dozen statements. Through SQLAlchemy Core each one
cost 0.5–1 ms of Python CPU (statement construction, cache keys, bind and result processing),
more than the engine's whole split. The statements of the settlement path are therefore plain SQL
strings run by psycopg on the DBAPI connection underneath the caller's
:class:`sqlalchemy.Connection`: same connection, same transaction, same commit. psycopg prepares
a statement on the server after a few executions, so a hot statement is parsed and planned once
per connection.

Parameters use psycopg's ``%(name)s`` style; wrap dicts for JSONB columns in :class:`Jsonb`.
Errors are psycopg's own (``psycopg.errors.*``), not SQLAlchemy's wrappers: callers that catch
integrity or serialisation errors catch both (see :data:`INTEGRITY_ERRORS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from psycopg import errors as pg_errors
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from sqlalchemy.exc import IntegrityError

__all__ = [
    "INTEGRITY_ERRORS",
    "RETRYABLE_ERRORS",
    "Jsonb",
    "execute",
    "executemany",
    "one",
    "one_dict",
    "rows",
    "rows_dict",
    "scalar",
]

Params = Mapping[str, Any]

#: a unique or check violation, whichever layer ran the statement
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (IntegrityError, pg_errors.IntegrityError)
#: errors after which the whole transaction may simply be run again
RETRYABLE_ERRORS: tuple[type[Exception], ...] = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
)


def driver(conn: sa.Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under ``conn`` (its transaction is the caller's)."""
    return cast(psycopg.Connection[Any], conn.connection.driver_connection)


def execute(conn: sa.Connection, sql: str, params: Params | None = None) -> int:
    """Run one statement; return the row count."""
    with driver(conn).cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


def executemany(conn: sa.Connection, sql: str, params: Sequence[Params]) -> None:
    """Run one statement for each parameter set (psycopg pipelines them: one round trip)."""
    with driver(conn).cursor() as cur:
        cur.executemany(sql, params)


def one(conn: sa.Connection, sql: str, params: Params | None = None) -> tuple[Any, ...] | None:
    """The first row as a tuple, or None."""
    with driver(conn).cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def scalar(conn: sa.Connection, sql: str, params: Params | None = None) -> Any:
    """The first column of the first row (None when there is no row)."""
    row = one(conn, sql, params)
    return None if row is None else row[0]


def rows(conn: sa.Connection, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
    """Every row as a tuple."""
    with driver(conn).cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def one_dict(conn: sa.Connection, sql: str, params: Params | None = None) -> dict[str, Any] | None:
    """The first row as a dict by column name, or None."""
    with driver(conn).cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def rows_dict(conn: sa.Connection, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
    """Every row as a dict by column name."""
    with driver(conn).cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params)
        return cur.fetchall()
