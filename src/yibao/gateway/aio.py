"""Exactly once on the lean gateway (一次且仅一次, asynchronous): check-in, then a flow.

A request costs three round trips at most (ADR 0006):

1. :func:`check_in` — one autocommit statement: record the header set's one-time value (UNLOGGED,
   no WAL flush) and look the ``msgid`` up. A known ``msgid`` is answered from the log here.
2. the flow's reads (``BEGIN`` + every read statement, pipelined) — :func:`run_flow`;
3. the flow's deferred writes + the message-log row + ``COMMIT``, pipelined.

The message log's primary key (fixmedins_code, msgid) is the arbiter: a concurrent duplicate
that got past its check-in runs, fails on that key at commit, rolls back, and is then answered
from the log like any retry. Nothing is written before the last round trip, so a refusal only
has to record its answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import AsyncConnectionPool

from yibao.db import flow as db_flow
from yibao.db.flow import Flow, Stmt
from yibao.gateway import store
from yibao.gateway.service import CLOSED_PREFIX, Answer, MessageKey

__all__ = [
    "CLOSED_PREFIX",
    "CheckIn",
    "Stored",
    "check_in",
    "find",
    "raise_floor",
    "record",
    "run_flow",
]

RETRYABLE = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)
BEGIN, COMMIT, ROLLBACK = Stmt("BEGIN"), Stmt("COMMIT"), Stmt("ROLLBACK")


@dataclass(frozen=True, slots=True)
class Stored:
    """A logged answer, as far as a retry needs it."""

    infno: str
    request_hash: str
    content_type: str
    response: bytes
    err_msg: str

    @property
    def closed_by_reversal(self) -> bool:
        """The msgid was closed by 2601 before it arrived (a late original is refused)."""
        return self.request_hash.startswith(CLOSED_PREFIX)


@dataclass(frozen=True, slots=True)
class CheckIn:
    """What :func:`check_in` found."""

    fresh: bool  # the header set's one-time value was unused (or used for this msgid)
    floor_at: datetime | None  # headers signed before this are stale (after a crash)
    sentinel: bool  # False: PostgreSQL lost the unlogged values; raise the floor first
    stored: Stored | None


async def check_in(
    pool: AsyncConnectionPool[Any],
    *,
    app_key: str,
    once: str,
    msgid: str,
    ttl_s: int,
    fixmedins_code: str,
) -> CheckIn:
    """Round trip 1 (autocommit)."""
    params = {"ak": app_key, "nonce": once, "msgid": msgid, "ttl": ttl_s, "fix": fixmedins_code}
    async with pool.connection() as conn:
        (row,) = await db_flow.execute_async(conn, [Stmt(store.CHECK_IN, params, "one")])
    fresh, floor_at, sentinel, infno = row[0], row[1], row[2], row[3]
    stored = None
    if infno is not None:
        stored = Stored(infno, row[4], row[5], bytes(row[6]), row[7])
    return CheckIn(bool(fresh), floor_at, bool(sentinel), stored)


async def find(pool: AsyncConnectionPool[Any], fixmedins_code: str, msgid: str) -> Stored | None:
    """The logged answer of a msgid (after a concurrent duplicate won)."""
    async with pool.connection() as conn:
        (row,) = await db_flow.execute_async(
            conn, [Stmt(store.FIND_ANSWER, (fixmedins_code, msgid), "one")]
        )
    return None if row is None else Stored(row[0], row[1], row[2], bytes(row[3]), row[4])


async def raise_floor(pool: AsyncConnectionPool[Any]) -> None:
    """After PostgreSQL lost the unlogged one-time values: refuse headers signed before now."""
    async with pool.connection() as conn:
        await db_flow.execute_async(conn, [Stmt(store.RAISE_FLOOR)])


def _message(key: MessageKey, answer: Answer) -> Stmt:
    return Stmt(
        store.INSERT_MESSAGE,
        (
            key.fixmedins_code, key.msgid, key.infno, key.request_hash, key.request,
            answer.infcode, answer.err_msg, answer.psn_no, key.opter, answer.inf_refmsgid,
            answer.content_type, answer.body,
        ),
    )  # fmt: skip


class Duplicate(Exception):
    """The msgid was answered by a concurrent request first: answer from the log."""


async def record(pool: AsyncConnectionPool[Any], key: MessageKey, answer: Answer) -> None:
    """Log a refusal that changed nothing else (autocommit); :class:`Duplicate` if the msgid was
    answered meanwhile."""
    async with pool.connection() as conn:
        try:
            await db_flow.execute_async(conn, [_message(key, answer)])
        except pg_errors.UniqueViolation as exc:
            raise Duplicate() from exc


async def _rollback(conn: psycopg.AsyncConnection[Any]) -> None:
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        await conn.execute("ROLLBACK")


async def run_flow(
    pool: AsyncConnectionPool[Any],
    key: MessageKey,
    make_flow: Callable[[], Flow[Any]],
    on_value: Callable[[Any], Answer],
    on_error: Callable[[Exception], Answer],
    *,
    attempts: int = 3,
) -> Answer:
    """Rounds trips 2 and 3: drive a fresh flow, then commit its writes with the answer.

    ``on_error`` turns a refusal raised by the flow into an answer (``record`` says whether it
    is logged) and re-raises anything unexpected. Raises :class:`Duplicate` when a concurrent
    request with the same msgid committed first.
    """
    for attempt in range(attempts):
        async with pool.connection() as conn:
            try:
                drive = await db_flow.run_async(conn, make_flow(), pending=[BEGIN])
            except RETRYABLE:
                await _rollback(conn)
                if attempt == attempts - 1:
                    raise
                continue
            except Exception as exc:
                await _rollback(conn)
                if isinstance(exc, psycopg.Error):
                    raise
                answer = on_error(exc)
                if answer.record:
                    await record(pool, key, answer)
                return answer
            answer = on_value(drive.value)
            try:
                await db_flow.execute_async(conn, [*drive.pending, _message(key, answer), COMMIT])
            except pg_errors.UniqueViolation as exc:
                await _rollback(conn)
                if exc.diag.constraint_name == "pk_gateway_message":
                    raise Duplicate() from exc
                raise
            except RETRYABLE:
                await _rollback(conn)
                if attempt == attempts - 1:
                    raise
                continue
            except BaseException:
                await _rollback(conn)
                raise
            return answer
    raise AssertionError("unreachable")  # pragma: no cover
