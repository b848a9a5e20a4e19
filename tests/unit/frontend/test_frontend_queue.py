"""The durable reversal queue on a real file: fsync-ed records, replay, compaction, one owner."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from yibao.frontend.model import Reversal
from yibao.frontend.queue import QueueLocked, ReversalQueue


def _r(msgid: str) -> Reversal:
    return Reversal(msgid, "O" + msgid, "2207", "/fsi/api/rsfComIfsService/callService",
                    "application/json;charset=utf-8", '{"infno":"2601"}', "2026-12-03T10:00:00")  # fmt: skip


def test_queue_survives_a_restart_and_forgets_what_was_delivered(tmp_path: Path) -> None:
    path = tmp_path / "q" / "reversals.jsonl"
    q = ReversalQueue(path)
    assert q.put(_r("M1")) and q.put(_r("M2")) and not q.put(_r("M1"))
    q.attempted("M1", "t", "ConnectError")
    q.delivered("M2", "t", 0)
    q.delivered("M9", "t", 0)  # unknown: nothing written
    q.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    q = ReversalQueue(path)  # a restart: replayed and compacted
    assert [(r.msgid, r.attempts) for r in q.pending()] == [("M1", 1)]
    assert '"M2"' not in path.read_text()
    q.delivered("M1", "t", 0)
    q.close()
    assert ReversalQueue(path).pending() == []


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "reversals.jsonl"
    q = ReversalQueue(path)
    q.put(_r("M1"))
    q.close()
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"op": "queued", "msgid": "M2", "ba')  # power cut mid-write
    q = ReversalQueue(path)
    assert [r.msgid for r in q.pending()] == ["M1"]
    q.put(_r("M3"))
    q.close()
    assert [r.msgid for r in ReversalQueue(path).pending()] == ["M1", "M3"]


def test_one_processor_owns_a_queue(tmp_path: Path) -> None:
    path = tmp_path / "reversals.jsonl"
    q = ReversalQueue(path)
    with pytest.raises(QueueLocked):
        ReversalQueue(path)
    q.close()
    ReversalQueue(path).close()
