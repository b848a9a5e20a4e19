"""Use cases as flows (用例流程): business code written once, I/O in as few statements as possible.

A *flow* is a generator that describes its I/O instead of doing it ("sans-I/O")::

    def settle_visit(cmd: SettleVisit) -> Flow[Settled]:
        facts = yield Read(visit_q(...), lines_q(...), person_q(...))   # ONE statement
        plan = decide(cmd, *facts)                                      # pure Python
        yield Write(*plan.writes)                                       # deferred
        return plan.outcome

- :class:`Read` — scalar subqueries (:class:`Q`, each returning one value, usually JSON) sent
  as ONE ``SELECT (q1), (q2), …`` statement; the flow receives one value per subquery.
- :class:`Write` — data-modifying statements (:class:`W`, no ``WITH`` of their own) the flow needs
  no answer from. A driver *defers* them; at the end they become the data-modifying CTEs of ONE
  statement (with whatever the caller adds, e.g. the gateway's message-log row). A ``W`` may say
  how many rows it must touch (``expect``: optimistic concurrency, e.g. ``version = %(v)s``);
  if any does not, the statement raises ``conflict`` and nothing of it is applied. A :class:`Q`
  in the same statement can stop it with ``yibao_refuse('…')`` (a refusal with that message).
- :class:`Call` — anything else a flow needs done outside the database (a relay through the
  cross-province hub). A driver runs ``call.sync()`` or ``await call.async_()``.

Why single statements: psycopg costs about as much Python time per statement as PostgreSQL
spends executing a small one, and a statement in autocommit mode is a transaction by itself, so
read + write need no ``BEGIN``/``COMMIT`` round trips (ADR 0010). Parameters are named
(``%(name)s``); :func:`compose` prefixes them per part.

:func:`run` drives a flow on a synchronous psycopg connection inside the caller's transaction (a
SQLAlchemy ``Connection``); :func:`run_async` on an ``AsyncConnection``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar, cast

import msgspec
import psycopg
from psycopg import _queries
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb, set_json_dumps, set_json_loads

__all__ = [
    "Call",
    "Conflict",
    "Flow",
    "Jsonb",
    "Q",
    "Read",
    "Refused",
    "W",
    "Write",
    "compose",
    "run",
    "run_async",
]

T = TypeVar("T")

# JSON parameters and json results through msgspec (C) instead of the json module.
set_json_dumps(msgspec.json.encode)
set_json_loads(msgspec.json.decode)
# psycopg caches the conversion of a query's ``%(name)s`` placeholders only for queries of at most
# 4096 characters and 50 parameters; a settlement's one write statement is longer. The cache is an
# LRU of a few hundred entries and our statements are a handful of shapes.
_queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, 32768)
_queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, 400)


@dataclass(frozen=True, slots=True)
class Q:
    """A scalar subquery (one row, one column, or NULL) with its named parameters."""

    sql: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class W:
    """A data-modifying statement (``INSERT/UPDATE/DELETE … RETURNING 1`` when ``expect`` is
    given: the number of rows it must touch, else the whole statement is a conflict)."""

    sql: str
    params: Mapping[str, Any] = field(default_factory=dict)
    expect: int | None = None
    name: str = ""  # the CTE's name, for a Q of the same statement to read its rows


@dataclass(frozen=True, slots=True)
class Read:
    """Subqueries sent as one statement; the flow receives their values in order."""

    qs: tuple[Q, ...]

    def __init__(self, *qs: Q) -> None:
        object.__setattr__(self, "qs", qs)


@dataclass(frozen=True, slots=True)
class Write:
    """Statements whose results the flow does not need; sent later, as one statement."""

    ws: tuple[W, ...]

    def __init__(self, *ws: W) -> None:
        object.__setattr__(self, "ws", ws)


@dataclass(frozen=True, slots=True)
class Call:
    """Work outside the database: ``sync()`` for the synchronous driver, ``async_()`` for the
    asynchronous one (which runs ``sync`` in a thread when there is none)."""

    sync: Callable[[], Any]
    async_: Callable[[], Awaitable[Any]] | None = field(default=None)


Op = Read | Write | Call
Flow = Generator[Op, Any, T]


class Conflict(Exception):
    """A ``W`` touched another number of rows than expected (someone changed the data since it
    was read): nothing was applied; run the flow again."""


class Refused(Exception):
    """A statement refused with ``yibao_refuse(message)``: nothing was applied."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


CONFLICT = "conflict"
_NAME = re.compile(r"%\((\w+)\)s")


@lru_cache(maxsize=1024)
def _prefixed(sql: str, prefix: str) -> str:
    return _NAME.sub(lambda m: f"%({prefix}{m.group(1)})s", sql)


def compose(ws: Sequence[W], qs: Sequence[Q]) -> tuple[str, dict[str, Any]]:
    """One statement: every ``W`` as a data-modifying CTE, every ``Q`` a column of the final
    ``SELECT``, then a guard column that raises ``conflict`` when an ``expect`` is not met."""
    params: dict[str, Any] = {}
    ctes: list[str] = []
    guards: list[str] = []
    for i, w in enumerate(ws):
        p = f"w{i}_"
        name = w.name or f"w{i}"
        ctes.append(f"{name} AS ({_prefixed(w.sql, p)})")
        params.update({p + k: v for k, v in w.params.items()})
        if w.expect is not None:
            guards.append(f"(SELECT count(*) FROM {name}) = {int(w.expect)}")
    cols: list[str] = []
    for i, q in enumerate(qs):
        p = f"q{i}_"
        cols.append(f"({_prefixed(q.sql, p)})")
        params.update({p + k: v for k, v in q.params.items()})
    if guards:
        cols.append(
            f"CASE WHEN {' AND '.join(guards)} THEN NULL ELSE yibao_refuse('{CONFLICT}') END"
        )
    if not cols:
        cols.append("NULL")
    head = f"WITH {', '.join(ctes)} " if ctes else ""
    return f"{head}SELECT {', '.join(cols)}", params


def _raise(exc: pg_errors.RaiseException) -> None:
    message = exc.diag.message_primary or ""
    if message == CONFLICT:
        raise Conflict() from exc
    raise Refused(message) from exc


# ---- drivers ----------------------------------------------------------------------------------


def execute(conn: psycopg.Connection[Any], ws: Sequence[W] = (), qs: Sequence[Q] = ()) -> list[Any]:
    """Run ``ws`` and ``qs`` as one statement on a synchronous connection; the ``qs`` values."""
    sql, params = compose(ws, qs)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            row = cur.fetchone()
    except pg_errors.RaiseException as exc:
        _raise(exc)
    assert row is not None
    return list(row[: len(qs)])


async def execute_async(
    conn: psycopg.AsyncConnection[Any], ws: Sequence[W] = (), qs: Sequence[Q] = ()
) -> list[Any]:
    """:func:`execute` on an asynchronous connection (autocommit: one transaction)."""
    sql, params = compose(ws, qs)
    try:
        async with conn.cursor() as cur:
            await cur.execute(sql, params)
            row = await cur.fetchone()
    except pg_errors.RaiseException as exc:
        _raise(exc)
    assert row is not None
    return list(row[: len(qs)])


def run(conn: psycopg.Connection[Any], flow: Flow[T], *, flush: bool = True) -> T:
    """Drive ``flow`` on ``conn`` inside the caller's transaction; deferred writes are sent with
    the next read and (with ``flush``) at the end. Commit is the caller's."""
    pending: list[W] = []
    result: Any = None
    try:
        while True:
            op = flow.send(result)
            if isinstance(op, Write):
                pending.extend(op.ws)
                result = None
            elif isinstance(op, Read):
                result = execute(conn, pending, op.qs)
                pending = []
            else:
                result = op.sync()
    except StopIteration as stop:
        if flush and pending:
            execute(conn, pending)
        return cast(T, stop.value)


@dataclass(slots=True)
class Drive:
    """Where :func:`run_async` stopped: the flow's value and the writes still to send."""

    value: Any
    pending: list[W]


async def run_async(
    conn: psycopg.AsyncConnection[Any],
    flow: Flow[Any],
    *,
    first: Callable[[Read], Awaitable[list[Any]]] | None = None,
) -> Drive:
    """Drive ``flow`` on ``conn`` (autocommit). The deferred writes are returned, not sent, so
    that the caller sends them with its own (one statement). ``first`` runs the flow's first
    read instead of the driver (the gateway adds its check-in to it)."""
    import asyncio

    pending: list[W] = []
    result: Any = None
    while True:
        try:
            op = flow.send(result)
        except StopIteration as stop:
            return Drive(stop.value, pending)
        if isinstance(op, Write):
            pending.extend(op.ws)
            result = None
        elif isinstance(op, Read):
            if pending:  # each statement commits by itself: a flow reads first, writes last
                raise RuntimeError("a flow run asynchronously must not read after writing")
            if first is not None:
                result, first = await first(op), None
            else:
                result = await execute_async(conn, (), op.qs)
        elif op.async_ is not None:
            result = await op.async_()
        else:
            result = await asyncio.to_thread(op.sync)
