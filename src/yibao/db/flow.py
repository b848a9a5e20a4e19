"""Use cases as flows (用例流程): business code written once, run synchronously or asynchronously.

A *flow* is a generator that describes its I/O instead of doing it ("sans-I/O")::

    def settle_visit(cmd: SettleVisit) -> Flow[Outcome]:
        facts = yield Read(visit_facts(cmd))      # one round trip: every statement pipelined
        plan = decide(cmd, *facts)               # pure Python: state machine, engine, ledger
        yield Write(settlement_writes(plan))     # deferred: sent with the caller's commit
        return plan.outcome

- :class:`Read` — statements sent together in one round trip (psycopg pipeline mode); the flow
  receives one result per statement, shaped by its :class:`Stmt` ``fetch``.
- :class:`Write` — statements the flow does not need answers from. A driver *defers* them and
  sends them with the next read, or at the end together with whatever the caller adds (the
  gateway adds its message-log row and ``COMMIT``): the writes of a use case cost one round trip.
  A statement that must stop the transaction raises an error in SQL; psycopg then skips the rest
  of the pipeline and the caller rolls back.
- :class:`Call` — anything else a flow needs done outside the database (a relay through the
  cross-province hub). A driver runs ``call.sync()`` or ``await call.async_()``.

:func:`run` drives a flow on a synchronous psycopg connection (inside the caller's transaction,
e.g. under a SQLAlchemy ``Connection``); :func:`run_async` on an ``AsyncConnection`` (the lean
gateway). The same SQL, the same decisions, either way; tests feed results by hand.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast

import psycopg

T = TypeVar("T")
Fetch = Literal["none", "one", "all", "scalar", "rowcount"]
Params = Sequence[Any] | dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Stmt:
    """One SQL statement and how its result is read: ``none``, ``one`` (a tuple or None),
    ``all`` (a list of tuples), ``scalar`` (first column of the first row, or None) or
    ``rowcount``."""

    sql: str
    params: Params = None
    fetch: Fetch = "none"


@dataclass(frozen=True, slots=True)
class Read:
    """Statements sent in one round trip; the flow receives their results in order."""

    stmts: tuple[Stmt, ...]

    def __init__(self, *stmts: Stmt) -> None:
        object.__setattr__(self, "stmts", stmts)


@dataclass(frozen=True, slots=True)
class Write:
    """Statements whose results the flow does not need; sent later, with the commit."""

    stmts: tuple[Stmt, ...]

    def __init__(self, *stmts: Stmt) -> None:
        object.__setattr__(self, "stmts", stmts)


@dataclass(frozen=True, slots=True)
class Call:
    """Work outside the database: ``sync()`` for the synchronous driver, ``async_()`` for the
    asynchronous one (which may run ``sync`` in a thread)."""

    sync: Callable[[], Any]
    async_: Callable[[], Awaitable[Any]] | None = field(default=None)


Op = Read | Write | Call
Flow = Generator[Op, Any, T]


# ---- results ----------------------------------------------------------------------------------


def _shape(stmt: Stmt, rows: list[tuple[Any, ...]] | None, rowcount: int) -> Any:
    if stmt.fetch == "none":
        return None
    if stmt.fetch == "rowcount":
        return rowcount
    rows = rows or []
    if stmt.fetch == "all":
        return rows
    first = rows[0] if rows else None
    if stmt.fetch == "one":
        return first
    return None if first is None else first[0]


# ---- synchronous driver -----------------------------------------------------------------------


def execute(conn: psycopg.Connection[Any], stmts: Sequence[Stmt]) -> list[Any]:
    """Send ``stmts`` in one round trip on a synchronous connection; their shaped results."""
    if len(stmts) == 1:
        s = stmts[0]
        with conn.cursor() as cur:
            cur.execute(s.sql, s.params)
            rows = cur.fetchall() if s.fetch in ("one", "all", "scalar") else None
            return [_shape(s, rows, cur.rowcount)]
    out: list[Any] = []
    with conn.pipeline():
        curs = [conn.execute(s.sql, s.params) for s in stmts]
    for s, cur in zip(stmts, curs, strict=True):
        rows = cur.fetchall() if s.fetch in ("one", "all", "scalar") else None
        out.append(_shape(s, rows, cur.rowcount))
    return out


def run(conn: psycopg.Connection[Any], flow: Flow[T], *, flush: bool = True) -> T:
    """Drive ``flow`` on ``conn`` inside the caller's transaction; deferred writes are sent
    before each read and (with ``flush``) at the end. Commit is the caller's."""
    pending: list[Stmt] = []
    result: Any = None
    try:
        while True:
            op = flow.send(result)
            if isinstance(op, Write):
                pending.extend(op.stmts)
                result = None
            elif isinstance(op, Read):
                answers = execute(conn, [*pending, *op.stmts])
                result = answers[len(pending) :]
                pending.clear()
            else:
                result = op.sync()
    except StopIteration as stop:
        if flush and pending:
            execute(conn, pending)
        return cast(T, stop.value)


# ---- asynchronous driver ----------------------------------------------------------------------


async def execute_async(conn: psycopg.AsyncConnection[Any], stmts: Sequence[Stmt]) -> list[Any]:
    """Send ``stmts`` in one round trip on an asynchronous connection; their shaped results."""
    if len(stmts) == 1:
        s = stmts[0]
        async with conn.cursor() as cur:
            await cur.execute(s.sql, s.params)
            rows = await cur.fetchall() if s.fetch in ("one", "all", "scalar") else None
            return [_shape(s, rows, cur.rowcount)]
    out: list[Any] = []
    async with conn.pipeline():
        curs = [await conn.execute(s.sql, s.params) for s in stmts]
    for s, cur in zip(stmts, curs, strict=True):
        rows = await cur.fetchall() if s.fetch in ("one", "all", "scalar") else None
        out.append(_shape(s, rows, cur.rowcount))
    return out


@dataclass(slots=True)
class Drive:
    """The outcome of :func:`run_async`: the flow's value and the writes still to send."""

    value: Any
    pending: list[Stmt]


async def run_async(
    conn: psycopg.AsyncConnection[Any], flow: Flow[Any], *, pending: list[Stmt] | None = None
) -> Drive:
    """Drive ``flow`` on ``conn``; the deferred writes are returned, not sent, so that the
    caller sends them with its own last statements and ``COMMIT`` in one round trip.
    ``pending`` go out first, with the flow's first read (e.g. ``BEGIN``)."""
    import asyncio

    pending = list(pending or [])
    result: Any = None
    while True:
        try:
            op = flow.send(result)
        except StopIteration as stop:
            return Drive(stop.value, pending)
        if isinstance(op, Write):
            pending.extend(op.stmts)
            result = None
        elif isinstance(op, Read):
            answers = await execute_async(conn, [*pending, *op.stmts])
            result = answers[len(pending) :]
            pending = []
        elif op.async_ is not None:
            result = await op.async_()
        else:
            result = await asyncio.to_thread(op.sync)
