"""E2E fixtures: a real Yibao server process (uvicorn) on loopback over the test PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from yibao.db.embedded import EmbeddedPostgres

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``python -m uvicorn`` over ``app_from_env`` (or another ``app`` factory, e.g. a test's
    fault-injecting wrapper): start, wait until healthy, kill."""

    def __init__(
        self,
        db_url: str,
        extra_env: dict[str, str] | None = None,
        *,
        app: str = "yibao.api.app:app_from_env",
    ) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, YIBAO_DATABASE_URL=db_url, **(extra_env or {}))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        log = open(ARTIFACTS / f"server-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                self.app,
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()  # a server that never became healthy must not outlive the test
        raise TimeoutError("server did not become healthy")

    def kill(self) -> None:
        """kill -9 (crash tests)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def server_factory(pg: EmbeddedPostgres, template_url: str) -> Iterator[type[ServerProcess]]:
    started: list[ServerProcess] = []

    class _Tracked(ServerProcess):
        def start(self, timeout: float = 120) -> None:
            started.append(self)
            super().start(timeout)

    yield _Tracked
    for s in started:
        s.stop()


@pytest.fixture
def live_server(db_url: str, server_factory: type[ServerProcess]) -> str:
    server = server_factory(db_url)
    server.start()
    return server.url
