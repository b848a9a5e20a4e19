"""Exactly once on the lean gateway (一次且仅一次, asynchronous): statements per request.

A flow's request costs three statements, each its own transaction (autocommit; ADR 0010):

1. the *check-in*: record the header set's one-time value (UNLOGGED: no WAL flush), read the
   crash floor and the sentinel, look the ``msgid`` up in the message log. A known ``msgid`` is
   answered from the log here — a retry costs this one statement;
2. the flow's reads, in one ``SELECT`` of scalar subqueries;
3. the flow's writes and the message-log row, as the data-modifying CTEs of one statement. The
   writes carry their optimistic checks (``version = …``); if one fails nothing is applied and
   the flow runs again from its reads.

The message log's primary key (fixmedins_code, msgid) is the arbiter: a concurrent duplicate that
got past its check-in fails on that key, nothing of it is applied, and it is answered from the
log like any retry.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import AsyncConnectionPool

from yibao.db import flow as db_flow
from yibao.db.flow import Flow, Q, W
from yibao.gateway import store
from yibao.gateway.service import CLOSED_PREFIX, Answer, MessageKey

__all__ = [
    "ATTEMPTS",
    "CLOSED_PREFIX",
    "Busy",
    "CheckIn",
    "Duplicate",
    "Once",
    "Stored",
    "check_in",
    "find",
    "raise_floor",
    "record",
    "run_flow",
]


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
class Once:
    """A request's one-time header value and what it is looked up by."""

    app_key: str
    once: str
    ttl_s: int
    fixmedins_code: str
    msgid: str
    signed_ms: int  # the headers' timestamp (epoch milliseconds)


@dataclass(frozen=True, slots=True)
class CheckIn:
    """What the check-in found."""

    fresh: bool  # the header set's one-time value was unused
    stale: bool  # signed before the floor (headers of before a crash recovery)
    sentinel: bool  # False: PostgreSQL lost the unlogged values; raise the floor first
    stored: Stored | None

    @property
    def proceed(self) -> bool:
        """Nothing stops the request here (fresh headers, unknown msgid, no lost values)."""
        return self.fresh and not self.stale and self.sentinel and self.stored is None


def _check_in_parts(o: Once) -> tuple[list[W], list[Q]]:
    nonce = W(
        store.RECORD_ONCE,
        {"ak": o.app_key, "nonce": o.once, "msgid": o.msgid, "ttl": o.ttl_s},
        name="once",
    )
    key = {"fix": o.fixmedins_code, "msgid": o.msgid}
    qs = [
        Q("SELECT count(*) FROM once"),
        Q(store.FLOOR),
        Q(store.SENTINEL_THERE),
        Q(store.STORED_FIELDS, key),
        Q(store.STORED_RESPONSE, key),
    ]
    return [nonce], qs


def _check_in_of(values: list[Any], o: Once) -> CheckIn:
    fresh, floor_at, sentinel, fields, response = values
    stored = None
    if fields is not None:
        infno, request_hash, content_type, err_msg = fields
        stored = Stored(infno, request_hash, content_type, bytes(response), err_msg)
    # whole seconds: a TIF timestamp has no milliseconds
    stale = floor_at is not None and o.signed_ms < int(floor_at.timestamp()) * 1000
    return CheckIn(bool(fresh), stale, bool(sentinel), stored)


async def check_in(pool: AsyncConnectionPool[Any], o: Once) -> CheckIn:
    """The check-in alone (a plain handler's request, or a flow that stopped before reading)."""
    ws, qs = _check_in_parts(o)
    async with pool.connection() as conn:
        return _check_in_of(await db_flow.execute_async(conn, ws, qs), o)


async def find(pool: AsyncConnectionPool[Any], fixmedins_code: str, msgid: str) -> Stored | None:
    """The logged answer of a msgid (after a concurrent duplicate won)."""
    key = {"fix": fixmedins_code, "msgid": msgid}
    async with pool.connection() as conn:
        fields, response = await db_flow.execute_async(
            conn, (), [Q(store.STORED_FIELDS, key), Q(store.STORED_RESPONSE, key)]
        )
    if fields is None:
        return None
    return Stored(fields[0], fields[1], fields[2], bytes(response), fields[3])


async def raise_floor(pool: AsyncConnectionPool[Any]) -> None:
    """After PostgreSQL lost the unlogged one-time values: refuse headers signed before now."""
    async with pool.connection() as conn:
        await conn.execute(store.RAISE_FLOOR)


def message_write(key: MessageKey, answer: Answer) -> W:
    """The message-log row of an answer."""
    return W(
        store.INSERT_MESSAGE,
        {
            "fix": key.fixmedins_code,
            "msgid": key.msgid,
            "infno": key.infno,
            "hash": key.request_hash,
            "request": key.request,
            "infcode": answer.infcode,
            "err_msg": answer.err_msg,
            "psn_no": answer.psn_no,
            "opter": key.opter,
            "ref": answer.inf_refmsgid,
            "ctype": answer.content_type,
            "response": answer.body,
        },
    )


class Duplicate(Exception):
    """The msgid was answered by a concurrent request first: answer from the log."""


class Busy(Exception):
    """Every attempt of the flow met a concurrent change of the same rows (one person settling
    at several counters at once): nothing was applied and nothing logged; the same msgid may be
    sent again."""


ATTEMPTS = 12
"""How often a flow is run again after an optimistic write met a concurrent change. Attempts
after the first wait a random moment (up to 2 ms × 2^attempt, at most 50 ms) so that writers of
one person's rows stop colliding."""


def backoff(attempt: int) -> float:
    """Seconds to wait before attempt ``attempt`` (1-based) runs the flow again."""
    return random.uniform(0, min(0.05, 0.002 * 2**attempt))


async def record(pool: AsyncConnectionPool[Any], key: MessageKey, answer: Answer) -> None:
    """Log a refusal that changed nothing else; :class:`Duplicate` if the msgid was answered
    meanwhile."""
    async with pool.connection() as conn:
        try:
            await db_flow.execute_async(conn, [message_write(key, answer)])
        except pg_errors.UniqueViolation as exc:
            raise Duplicate() from exc


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a flow's request ended: answered now, or stopped at its check-in."""

    answer: Answer | None = None
    check_in: CheckIn | None = None


async def run_flow(
    pool: AsyncConnectionPool[Any],
    key: MessageKey,
    once: Once,
    make_flow: Callable[[], Flow[Any]],
    on_value: Callable[[Any], Answer],
    on_error: Callable[[Exception], Answer],
    *,
    attempts: int = ATTEMPTS,
) -> Outcome:
    """Check in and run a fresh flow; commit its writes with the answer in one statement.

    ``on_error`` turns a refusal raised by the flow (or a :class:`~yibao.db.flow.Refused`
    statement) into an answer (``record`` says whether it is logged) and re-raises anything
    unexpected. Raises :class:`Duplicate` when a concurrent request with the same msgid won and
    :class:`Busy` when every attempt met a concurrent change.
    """
    checked = await check_in(pool, once)
    if not checked.proceed:
        return Outcome(check_in=checked)
    for attempt in range(attempts):
        async with pool.connection() as conn:
            try:
                drive = await db_flow.run_async(conn, make_flow())
                answer = on_value(drive.value)
                await db_flow.execute_async(conn, [*drive.pending, message_write(key, answer)])
                return Outcome(answer=answer)
            except db_flow.Conflict as exc:
                if attempt == attempts - 1:
                    raise Busy() from exc
            except pg_errors.UniqueViolation as exc:
                if exc.diag.constraint_name != "pk_gateway_message":
                    raise
                if await find(pool, key.fixmedins_code, key.msgid) is not None:
                    raise Duplicate() from exc
                if attempt == attempts - 1:  # another msgid's row (2601 closing a late original)
                    raise
                continue
            except psycopg.Error:
                raise
            except Exception as exc:
                answer = on_error(exc)
                if answer.record:
                    await record(pool, key, answer)
                return Outcome(answer=answer)
        await asyncio.sleep(backoff(attempt + 1))  # after a conflict, off the connection
    raise AssertionError("unreachable")  # pragma: no cover
