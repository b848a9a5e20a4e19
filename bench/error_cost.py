"""What an unexpected error costs the server (CPU and log bytes per request).

    .venv/bin/python bench/error_cost.py [--requests 30]

A NUL byte in an envelope field (5206 ``psn_no: "x\\u0000"``) reached PostgreSQL and failed there:
the server logged a traceback. With structlog's default renderer (rich, ``show_locals=True``)
each such request cost ~1.8 s of CPU and ~78 KB of log, and printed secrets (issue 10, finding 1).
This prints, for that request and for an ordinary refusal (5206 of an unknown person) as the
baseline, the server's CPU milliseconds and log bytes per request, measured over ``--requests``
sequential calls against a throwaway embedded PostgreSQL (or ``YIBAO_DATABASE_URL``).

Run it with another checkout's code first on ``PYTHONPATH`` to compare before/after.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HOSPITAL = "H44030000001"


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def start_server(url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, YIBAO_DATABASE_URL=url)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "yibao.api.app:app_from_env", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not start")


def measure(client: object, pid: int, log: Path, psn_no: str, n: int) -> tuple[float, float]:
    call = client.call  # type: ignore[attr-defined]
    call("5206", {"data": {"psn_no": psn_no, "cum_ym": "202610"}})  # warm up
    time.sleep(0.2)
    cpu0, size0 = cpu_seconds(pid), log.stat().st_size
    for _ in range(n):
        call("5206", {"data": {"psn_no": psn_no, "cum_ym": "202610"}})
    time.sleep(0.2)
    return (cpu_seconds(pid) - cpu0) * 1000 / n, (log.stat().st_size - size0) / n


def run(url: str, n: int) -> None:
    from yibao.client import NhsaClient
    from yibao.db.engine import make_engine
    from yibao.db.migrate import upgrade
    from yibao.institutions import demo

    upgrade(url)
    engine = make_engine(url, pool_size=1)
    demo.seed(engine)
    engine.dispose()
    log = Path(tempfile.mkdtemp(prefix="yibao-errcost-")) / "server.log"
    proc, base = start_server(url, log)
    try:
        row = next(r for r in demo.DEMO_INSTITUTIONS if r[0] == HOSPITAL)
        with NhsaClient(base, fixmedins_code=HOSPITAL, fixmedins_name=row[1],
                        mdtrtarea_admvs=row[3], app_key=demo.demo_app_key(HOSPITAL),
                        app_secret=demo.demo_secret(HOSPITAL)) as c:  # fmt: skip
            c.sign_in("0001")
            base_cpu, base_log = measure(c, proc.pid, log, "4403009999999999", n)
            nul_cpu, nul_log = measure(c, proc.pid, log, "x\x00", n)
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"requests per kind: {n} (sequential, one client)")
    print(
        f"ordinary refusal (5206 unknown person): {base_cpu:8.1f} ms CPU, {base_log:8.0f} log bytes"
    )
    print(
        f"unexpected error (5206 NUL in psn_no):  {nul_cpu:8.1f} ms CPU, {nul_log:8.0f} log bytes"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    url = os.environ.get("YIBAO_DATABASE_URL", "")
    if url:
        run(url, args.requests)
        return
    from yibao.db.embedded import EmbeddedPostgres

    with EmbeddedPostgres(Path(tempfile.mkdtemp()) / "pgdata", delete_on_stop=True) as pg:
        run(pg.ensure_database("bench_errors"), args.requests)


if __name__ == "__main__":
    main()
