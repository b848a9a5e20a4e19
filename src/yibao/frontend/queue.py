"""The durable local queue of 2601 冲正 waiting for the centre (ADR 0014).

One append-only file of JSON lines (records of :mod:`yibao.frontend.model`): a reversal is
written and ``fsync``-ed before the HIS is told it is queued, so a crash or a power cut after
that answer loses nothing; a delivery is appended when the centre answered. On start the file is
replayed (a torn last line is skipped) and compacted: rewritten with only what still waits,
through a temporary file, ``fsync`` and an atomic rename. The file is created mode 600: it holds
the envelopes (psn_no, the operator) the HIS sent.

One process owns a queue file (the processor runs one worker); a lock file next to it stops a
second processor from opening the same queue.
"""

from __future__ import annotations

import fcntl
import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import IO

from yibao.frontend import model
from yibao.frontend.model import Reversal


class QueueLocked(RuntimeError):
    """Another processor holds this queue file."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ReversalQueue:
    """Pending reversals by msgid, mirrored in an append-only file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lockfile: IO[str] = open(str(path) + ".lock", "a")  # noqa: SIM115
        try:
            fcntl.flock(self._lockfile.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._lockfile.close()
            raise QueueLocked(f"冲正队列 {path} 已被另一个前置机进程使用") from exc
        lines: list[str] = []
        if path.exists():
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        self._pending = model.replay(lines)
        self._compact()
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115

    # ---- reading --------------------------------------------------------------------------

    def pending(self) -> list[Reversal]:
        with self._lock:
            return list(self._pending.values())

    def get(self, msgid: str) -> Reversal | None:
        with self._lock:
            return self._pending.get(msgid)

    # ---- writing (each record fsync-ed before it counts) ------------------------------------

    def _append(self, line: str) -> None:
        self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def put(self, r: Reversal) -> bool:
        """Queue a reversal (False when its msgid already waits)."""
        with self._lock:
            if r.msgid in self._pending:
                return False
            self._append(model.queued_record(r))
            self._pending[r.msgid] = r
            return True

    def attempted(self, msgid: str, at: str, outcome: str) -> None:
        with self._lock:
            r = self._pending.get(msgid)
            if r is None:
                return
            self._append(model.attempt_record(msgid, at, outcome))
            self._pending[msgid] = replace(r, attempts=r.attempts + 1)

    def delivered(self, msgid: str, at: str, infcode: int | None) -> None:
        with self._lock:
            if self._pending.pop(msgid, None) is None:
                return
            self._append(model.delivered_record(msgid, at, infcode))

    def _compact(self) -> None:
        """Rewrite the file with what still waits (temporary file, fsync, rename, fsync dir)."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for r in self._pending.values():
                f.write(model.queued_record(r) + "\n")
                for _ in range(r.attempts):
                    f.write(model.attempt_record(r.msgid, r.queued_at, "before restart") + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)

    def close(self) -> None:
        with self._lock:
            self._file.close()
            self._lockfile.close()
