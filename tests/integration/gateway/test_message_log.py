"""execute_once on real PostgreSQL: replay, conflict, refusals, rollback, concurrent duplicates."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from yibao.gateway import service as gw
from yibao.gateway import store

MARKS = sa.table("gw_test_marks", sa.column("v", sa.Text))


@pytest.fixture
def marks(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE gw_test_marks (v text)"))
    return engine


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM gw_test_marks")).scalar_one())


def key(msgid: str = "M1", h: str = "h1", infno: str = "2207") -> gw.MessageKey:
    return gw.MessageKey("H44030000001", msgid, infno, h)


def writer(body: bytes = b'{"infcode":0}'):  # type: ignore[no-untyped-def]
    def work(conn: sa.Connection) -> gw.Answer:
        conn.execute(MARKS.insert().values(v="x"))
        return gw.Answer(body, "application/json", 0)

    return work


def test_first_call_writes_once_and_retry_replays(marks: Engine) -> None:
    first = gw.execute_once(marks, key(), writer(b"A"))
    assert first.kind == gw.NEW and first.answer and first.answer.body == b"A"
    again = gw.execute_once(marks, key(), writer(b"B"))
    assert again.kind == gw.REPLAY and again.stored and again.stored.response == b"A"
    assert _count(marks) == 1


def test_same_msgid_other_content_conflicts(marks: Engine) -> None:
    gw.execute_once(marks, key(h="h1"), writer())
    other = gw.execute_once(marks, key(h="h2"), writer())
    assert other.kind == gw.CONFLICT
    other_infno = gw.execute_once(marks, key(infno="2206"), writer())
    assert other_infno.kind == gw.CONFLICT
    assert _count(marks) == 1


def test_msgid_is_scoped_per_institution(marks: Engine) -> None:
    gw.execute_once(marks, key(), writer())
    other = gw.MessageKey("H44030000002", "M1", "2207", "h1")
    assert gw.execute_once(marks, other, writer()).kind == gw.NEW
    assert _count(marks) == 2


def _refusing(record: bool):  # type: ignore[no-untyped-def]
    def work(conn: sa.Connection) -> gw.Answer:
        conn.execute(MARKS.insert().values(v="rolled back"))
        raise gw.Refusal(gw.Answer(b"NO", "application/json", -1, "不行", record=record))

    return work


def test_recorded_refusal_rolls_back_and_replays(marks: Engine) -> None:
    out = gw.execute_once(marks, key(), _refusing(True))
    assert out.kind == gw.NEW and out.answer and out.answer.infcode == -1
    assert _count(marks) == 0
    again = gw.execute_once(marks, key(), writer())
    assert again.kind == gw.REPLAY and again.stored and again.stored.response == b"NO"
    assert _count(marks) == 0


def test_unrecorded_refusal_leaves_nothing(marks: Engine) -> None:
    out = gw.execute_once(marks, key(), _refusing(False))
    assert out.kind == gw.REFUSED
    with marks.connect() as conn:
        assert store.count_messages(conn) == 0
    assert gw.execute_once(marks, key(), writer()).kind == gw.NEW
    assert _count(marks) == 1


def test_crash_in_work_leaves_nothing(marks: Engine) -> None:
    def boom(conn: sa.Connection) -> gw.Answer:
        conn.execute(MARKS.insert().values(v="x"))
        raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        gw.execute_once(marks, key(), boom)
    assert _count(marks) == 0
    with marks.connect() as conn:
        assert store.find(conn, "H44030000001", "M1") is None


def test_concurrent_duplicates_run_work_once(marks: Engine) -> None:
    started = threading.Event()
    release = threading.Event()
    runs: list[int] = []

    def slow(conn: sa.Connection) -> gw.Answer:
        runs.append(1)
        conn.execute(MARKS.insert().values(v="x"))
        started.set()
        release.wait(30)
        return gw.Answer(b"ONCE", "application/json", 0)

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(gw.execute_once, marks, key(), slow)
        assert started.wait(30)
        others = [pool.submit(gw.execute_once, marks, key(), slow) for _ in range(3)]
        release.set()
        outcomes = [first.result(), *(f.result() for f in others)]
    assert len(runs) == 1 and _count(marks) == 1
    assert outcomes[0].kind == gw.NEW
    assert all(
        o.kind == gw.REPLAY and o.stored and o.stored.response == b"ONCE" for o in outcomes[1:]
    )
