"""``python3 dev.py start`` as a user runs it: a short start display ending with the addresses,
and one SIGTERM stops everything it started (the server and the embedded PostgreSQL).

Runs the real command in a subprocess with a throwaway data folder (its own embedded PostgreSQL)
and ``--no-demo`` (seeding the demo province takes minutes; the display of the seeders is checked
in tests/unit/test_startup.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _started_here(data_dir: Path, root: psutil.Process) -> list[psutil.Process]:
    """dev.py's descendants, and every process naming the data folder (the embedded PostgreSQL
    detaches from its parent, so it is found by its data directory)."""
    try:
        found = {p.pid: p for p in root.children(recursive=True)}
    except psutil.NoSuchProcess:
        found = {}
    for p in psutil.process_iter(["cmdline"]):
        if str(data_dir) in " ".join(p.info["cmdline"] or []):
            found[p.pid] = p
    return [p for p in found.values() if p.pid != root.pid]


def _alive(procs: list[psutil.Process]) -> list[str]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            continue
    return out


def test_dev_start_prints_a_short_start_and_sigterm_stops_server_and_postgres(
    tmp_path: Path,
) -> None:
    port = free_port()
    data_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("YIBAO_DATABASE_URL", "VIRTUAL_ENV")}
    env.update(YIBAO_DATA_DIR=str(data_dir), YIBAO_PORT=str(port), PYTHONUNBUFFERED="1")
    base_python = getattr(sys, "_base_executable", sys.executable)  # dev.py runs outside .venv
    out = tmp_path / "start.log"
    with out.open("wb") as log:
        proc = subprocess.Popen(
            [base_python, str(ROOT / "dev.py"), "start", "--no-demo"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    root = psutil.Process(proc.pid)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            assert proc.poll() is None, out.read_text(encoding="utf-8", errors="replace")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("dev.py start never became healthy:\n" + out.read_text(errors="replace"))
        started = _started_here(data_dir, root)
        names = " ".join(" ".join(p.cmdline()) for p in started)
        assert "yibao serve" in names and "postgres" in names, names

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        deadline = time.monotonic() + 30
        while _alive(started) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _alive(started) == []
        assert _alive(_started_here(data_dir, root)) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in _started_here(data_dir, root):
            p.kill()

    text = out.read_text(encoding="utf-8")
    assert "HTTP Request" not in text and "Running upgrade" not in text and "initdb" not in text
    assert f"http://127.0.0.1:{port}/console" in text
    assert f"http://127.0.0.1:{port}/docs/nhsa/" in text
    assert "升级数据库结构" in text
    assert text.rstrip().endswith("Yibao 已停止（服务和数据库）"), text
    assert len(text.splitlines()) < 20, text
