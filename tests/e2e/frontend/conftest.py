"""Fixtures for the front-end processor (医保前置机) end to end.

Real parts only: the centre (uvicorn over embedded PostgreSQL with the demo province, persons and
catalogue), ``yibao frontend run`` as its own process, a switchable TCP relay between the two (to
make the centre slow or unreachable, as a network would), a static HIS page served from another
origin, and Debian's Chromium.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from tests.conftest import new_database
from tests.e2e.browser.conftest import browser  # noqa: F401  (the Chromium fixture)
from tests.e2e.conftest import ARTIFACTS, ServerProcess, free_port
from tests.e2e.settlement.conftest import seed_world
from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine
from yibao.frontend.model import key_file_text
from yibao.hissim.flows import CHINA
from yibao.institutions import demo

HERE = Path(__file__).resolve().parent
SINGLE_URL = "/fsi/api/rsfComIfsService/callService"
_SEQ = itertools.count(random.randrange(10000))


# ---- the centre -----------------------------------------------------------------------------


@pytest.fixture(scope="package")
def centre_db(pg: EmbeddedPostgres, template_url: str) -> Iterator[tuple[str, Engine]]:
    url = new_database(pg, template_url)
    engine = make_engine(url, pool_size=2)
    seed_world(engine)
    yield url, engine
    engine.dispose()


@pytest.fixture(scope="package")
def centre(centre_db: tuple[str, Engine]) -> Iterator[str]:
    """The centre, answering browser pages of any local port with CORS (an origin pattern)."""
    server = ServerProcess(centre_db[0], {"YIBAO_NHSA_CORS_ORIGINS": "http://127.0.0.1:*"})
    server.start()
    yield server.url
    server.stop()


# ---- a relay that can make the centre slow or unreachable -------------------------------------


class Relay:
    """TCP relay to the centre. ``pass``: bytes flow; ``hold``: requests reach the centre but
    its answers are dropped (a timeout after sending); ``down()``: nothing listens and open
    connections are cut (connection refused); ``up()`` listens again on the same port."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.mode = "pass"
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.up()

    def up(self) -> None:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self._listener = s
        self.mode = "pass"
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def down(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            for c in self._conns:
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)
                c.close()
            self._conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, server]
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, answers: bool) -> None:
        try:
            while True:
                chunk = src.recv(65536)
                if not chunk:
                    break
                if answers and self.mode == "hold":
                    continue  # the centre answered; the network lost it
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.down()


@pytest.fixture
def relay(centre: str) -> Iterator[Relay]:
    r = Relay(int(centre.rsplit(":", 1)[1]))
    yield r
    r.close()


# ---- the HIS page, from another origin ----------------------------------------------------------


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="package")
def page_origin() -> Iterator[str]:
    """A static server for tests/e2e/frontend/his_page.html (its own port: its own origin)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), partial(_Quiet, directory=str(HERE)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


# ---- the front-end processor, as a real process ------------------------------------------------


@dataclass
class Frontend:
    url: str
    log_file: Path
    console_log: Path
    queue_file: Path
    proc: subprocess.Popen[bytes]

    def health(self) -> dict[str, Any]:
        data = httpx.get(self.url + "/healthz", timeout=5).json()
        assert isinstance(data, dict)
        return data

    def logs(self) -> str:
        return self.log_file.read_text(encoding="utf-8") + self.console_log.read_text(
            encoding="utf-8", errors="replace"
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def write_key_file(folder: Path, code: str) -> Path:
    """The institution's key file, as `yibao frontend key-file --demo` writes it (mode 600)."""
    path = folder / f"{code}.key.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key_file_text(demo.demo_app_key(code), demo.demo_secret(code)))
    return path


def start_frontend(
    upstream: str, code: str, folder: Path, *extra: str, origin: str = "", allow: str = "127.0.0.1"
) -> Frontend:
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    console = ARTIFACTS / f"frontend-{port}.log"
    fe = Frontend(
        url=f"http://127.0.0.1:{port}",
        log_file=folder / "frontend.log",
        console_log=console,
        queue_file=folder / "reversals.jsonl",
        proc=subprocess.Popen(
            [
                sys.executable,
                "-m",
                "yibao.cli",
                "frontend",
                "run",
                "--centre",
                upstream,
                "--institution",
                code,
                "--key-file",
                str(write_key_file(folder, code)),
                "--allow",
                allow,
                "--port",
                str(port),
                "--queue-file",
                str(folder / "reversals.jsonl"),
                "--log-file",
                str(folder / "frontend.log"),
                *(["--cors-origin", origin] if origin else []),
                *extra,
            ],
            stdout=open(console, "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        ),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if fe.proc.poll() is not None:
            raise RuntimeError(f"frontend exited with {fe.proc.returncode}: {console}")
        try:
            fe.health()
            return fe
        except httpx.HTTPError:
            time.sleep(0.1)
    fe.stop()
    raise TimeoutError("frontend did not start")


@pytest.fixture
def frontends() -> Iterator[list[Frontend]]:
    started: list[Frontend] = []
    yield started
    for fe in started:
        fe.stop()


# ---- a HIS's envelopes ---------------------------------------------------------------------


@dataclass
class His:
    """What a HIS puts around its inputs (unsigned: the processor signs)."""

    code: str
    opter: str = "0001"
    opter_name: str = "收费员张敏"
    sign_no: str = ""

    @property
    def row(self) -> tuple[str, str, str, str, str]:
        return next(r for r in demo.DEMO_INSTITUTIONS if r[0] == self.code)

    def envelope(self, infno: str, input: dict[str, Any], insuplc: str = "") -> dict[str, Any]:
        now = datetime.now(CHINA)
        return {
            "infno": infno,
            "msgid": f"{self.code}{now:%Y%m%d%H%M%S}{next(_SEQ) % 10000:04d}",
            "mdtrtarea_admvs": self.row[3], "insuplc_admdvs": insuplc, "recer_sys_code": "YBXT",
            "dev_no": "", "dev_safe_info": "", "cainfo": "", "signtype": "", "infver": "V1.0",
            "opter_type": "1", "opter": self.opter, "opter_name": self.opter_name,
            "inf_time": f"{now:%Y-%m-%d %H:%M:%S}", "fixmedins_code": self.code,
            "fixmedins_name": self.row[1], "sign_no": self.sign_no, "input": input,
        }  # fmt: skip


def answer(text: str) -> dict[str, Any]:
    data = json.loads(text, parse_float=Decimal)
    assert isinstance(data, dict)
    return data


def output(status: int, text: str) -> dict[str, Any]:
    """The output of a successful answer (fails the test with the answer otherwise)."""
    data = answer(text)
    assert status == 200 and data.get("infcode") == 0, (status, text[:500])
    out = data.get("output") or {}
    assert isinstance(out, dict)
    return out
