"""The exactly-once transaction boundary (一次且仅一次) every national-interface call runs in.

:func:`execute_once` opens ONE database transaction and first *claims* the key
(fixmedins_code, msgid): a transaction-scoped advisory lock on the key, then a look for its
message-log row:

1. if the row already exists: the same content (``request_hash``) gets the stored response
   bytes back (:data:`REPLAY`), different content is refused (:data:`CONFLICT`);
2. otherwise it runs ``work(conn)`` — the handler's business writes — then inserts the
   message-log row with the response in the same transaction, and commits.

So an acknowledged answer is never lost (it committed with its writes) and never applied twice
(a retry finds the row; the primary key refuses a second row). A concurrent duplicate's claim
waits on the advisory lock until the first transaction ends, then replays its answer (or, if the
first rolled back, runs itself).
``work`` raises :class:`Refusal` to roll its writes back and answer anyway; the refusal is
recorded when ``answer.record`` (business refusals) and not recorded otherwise (bad input).
Serialisation failures and deadlocks are retried a few times from the start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from yibao.db import hot
from yibao.gateway import store

NEW = "new"  # work ran; answer committed (and recorded when answer.record)
REPLAY = "replay"  # identical retry: the stored response
CONFLICT = "conflict"  # same msgid, different content
REFUSED = "refused"  # work refused with an unrecorded answer (nothing written)

CLOSED_PREFIX = "reversed-by:"  # request_hash of a msgid closed by 2601 before it arrived


@dataclass(frozen=True, slots=True)
class Answer:
    """A response to send (and to record): body bytes exactly as sent."""

    body: bytes
    content_type: str
    infcode: int
    err_msg: str = ""
    psn_no: str = ""
    inf_refmsgid: str = ""
    record: bool = True


@dataclass(frozen=True, slots=True)
class MessageKey:
    """Who sent what: the idempotency key and the content it must match."""

    fixmedins_code: str
    msgid: str
    infno: str
    request_hash: str
    request: str = ""
    opter: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str
    answer: Answer | None = None  # NEW / REFUSED
    stored: store.StoredMessage | None = None  # REPLAY / CONFLICT


class Refusal(Exception):
    """Raised by ``work``: roll back its writes and send ``answer`` (recorded if ``record``)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.err_msg)
        self.answer = answer


def _previous(existing: store.StoredMessage, key: MessageKey) -> Outcome:
    if existing.request_hash == key.request_hash and existing.infno == key.infno:
        return Outcome(REPLAY, stored=existing)
    return Outcome(CONFLICT, stored=existing)


def _claim(conn: sa.Connection, key: MessageKey) -> store.Claim | None:
    return store.claim(
        conn, key.fixmedins_code, key.msgid, key.infno, key.request_hash, key.request, key.opter
    )


def _complete(conn: sa.Connection, key: MessageKey, claimed: store.Claim, answer: Answer) -> None:
    store.complete(
        conn,
        key.fixmedins_code,
        key.msgid,
        claimed,
        infcode=answer.infcode,
        err_msg=answer.err_msg,
        psn_no=answer.psn_no,
        inf_refmsgid=answer.inf_refmsgid,
        content_type=answer.content_type,
        response=answer.body,
    )


def _attempt(
    engine: sa.Engine, key: MessageKey, work: Callable[[sa.Connection], Answer]
) -> Outcome:
    with engine.connect() as conn:
        tx = conn.begin()
        try:
            claimed = _claim(conn, key)
            if claimed is None:
                existing = store.find(conn, key.fixmedins_code, key.msgid)
                tx.rollback()
                if existing is None:  # pragma: no cover - claimed then deleted under us
                    raise RuntimeError("message-log row vanished")
                return _previous(existing, key)
            answer = work(conn)
            if answer.record:
                _complete(conn, key, claimed, answer)
            tx.commit()
            return Outcome(NEW, answer=answer)
        except Refusal as refusal:
            tx.rollback()
            refused = refusal.answer
        except BaseException:
            if tx.is_active:
                tx.rollback()
            raise
        if not refused.record:
            return Outcome(REFUSED, answer=refused)
        with conn.begin():
            again = _claim(conn, key)
            if again is None:
                existing = store.find(conn, key.fixmedins_code, key.msgid)
                assert existing is not None
                return _previous(existing, key)
            _complete(conn, key, again, refused)
        return Outcome(NEW, answer=refused)


def execute_once(
    engine: sa.Engine,
    key: MessageKey,
    work: Callable[[sa.Connection], Answer],
    *,
    attempts: int = 3,
) -> Outcome:
    """Run ``work`` at most once per (fixmedins_code, msgid); see the module docstring."""
    for attempt in range(attempts):
        try:
            return _attempt(engine, key, work)
        except OperationalError as exc:  # through SQLAlchemy
            if not isinstance(exc.orig, hot.RETRYABLE_ERRORS) or attempt == attempts - 1:
                raise
        except hot.RETRYABLE_ERRORS:  # a hot-path statement (psycopg directly)
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def find_message(
    conn: sa.Connection, fixmedins_code: str, msgid: str
) -> store.StoredMessage | None:
    """The recorded answer of a msgid (for 2601 冲正 by ``omsgid`` and for 3202 files)."""
    return store.find(conn, fixmedins_code, msgid)
