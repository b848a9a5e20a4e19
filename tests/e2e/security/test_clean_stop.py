"""Finding 5 (issue 10): one signal to what the README starts stops the server and its database.

- After a ``kill -9`` of ``yibao serve``, ``pgdata/.handle_pids.json`` kept the dead PID and every
  later clean stop left PostgreSQL running (7 of 7 runs). Now: kill -9, start again, one SIGTERM
  — the postmaster is gone, twice in a row.
- ``yibao serve`` loaded the demo province (public credentials) unless told not to; now only
  with ``--demo`` (finding 10), which ``dev.py start`` passes.
- ``python3 dev.py start`` did not pass SIGTERM on. Now one SIGTERM (and one SIGINT, as Ctrl-C
  sends) to dev.py stops ``yibao serve`` and its PostgreSQL.

Each run uses its own data folder and port, without demo data (``--no-demo``) to stay short.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.conftest import ARTIFACTS, free_port

ROOT = Path(__file__).resolve().parents[3]


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def wait_gone(pid: int, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.2)
    return False


def demo_login_works(port: int) -> bool:
    """Whether the public demo account (admin / Yibao2026demo) signs in."""
    from yibao.console.demo import DEMO_PASSWORD

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        form = http.get("/console/login").text
        token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        r = http.post("/console/login", data={"username": "admin", "password": DEMO_PASSWORD,
                                              "csrf_token": token}, follow_redirects=False)  # fmt: skip
        return r.status_code == 303


class Deployment:
    """A data folder and port for ``yibao serve`` / ``dev.py start`` runs."""

    def __init__(self) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="yibao-stop-"))
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "YIBAO_DATABASE_URL"}
        self.env = dict(env, YIBAO_DATA_DIR=str(self.data), YIBAO_PORT=str(self.port))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.descendants: set[int] = set()  # e.g. yibao serve under dev.py: cleaned up too

    @property
    def pgdata(self) -> Path:
        return self.data / "pgdata"

    def start(self, *cmd: str) -> subprocess.Popen[bytes]:
        ARTIFACTS.mkdir(exist_ok=True)
        log = open(ARTIFACTS / f"stop-{self.port}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(list(cmd), cwd=ROOT, env=self.env, stdout=log,
                                stderr=subprocess.STDOUT)  # fmt: skip
        self.procs.append(proc)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"{cmd} exited with {proc.returncode}"
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    kids = psutil.Process(proc.pid).children(recursive=True)
                    self.descendants |= {k.pid for k in kids}
                    return proc
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{cmd} did not become healthy")

    def serve(self, *flags: str) -> subprocess.Popen[bytes]:
        return self.start(sys.executable, "-m", "yibao.cli", "serve", *flags)

    def postmaster(self) -> int:
        return int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])

    def handles(self) -> list[int]:
        return [int(p) for p in json.loads((self.pgdata / ".handle_pids.json").read_text())]

    def cleanup(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for pid in self.descendants:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        pid_file = self.pgdata / "postmaster.pid"
        if pid_file.exists():
            pid = self.postmaster()
            if alive(pid):
                os.kill(pid, signal.SIGQUIT)  # leave nothing running, whatever happened
                wait_gone(pid, 10)


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    d = Deployment()
    try:
        yield d
    finally:
        d.cleanup()


def test_sigterm_after_an_earlier_kill_9_stops_postgresql(deployment: Deployment) -> None:
    first = deployment.serve("--no-demo")
    postmaster = deployment.postmaster()
    first.kill()  # kill -9: no cleanup, its PID stays in .handle_pids.json
    first.wait()
    assert alive(postmaster) and first.pid in deployment.handles()
    for _ in range(2):
        server = deployment.serve()  # no flag: no demo data (finding 10)
        assert not demo_login_works(deployment.port)
        postmaster = deployment.postmaster()
        server.send_signal(signal.SIGTERM)
        assert server.wait(60) == 0
        assert wait_gone(postmaster), "PostgreSQL outlived the server's clean stop"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_one_signal_to_dev_py_start_stops_server_and_database(
    deployment: Deployment, sig: signal.Signals
) -> None:
    dev = deployment.start(sys.executable, "dev.py", "start", "--no-demo")
    postmaster = deployment.postmaster()
    serve = [p for p in psutil.Process(dev.pid).children(recursive=True) if "serve" in p.cmdline()]
    assert serve, "dev.py start runs yibao serve"
    dev.send_signal(sig)
    dev.wait(90)
    assert all(wait_gone(p.pid) for p in serve), "yibao serve outlived dev.py"
    assert wait_gone(postmaster), "PostgreSQL outlived dev.py"
