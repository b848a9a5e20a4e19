"""Gateway frame throughput (网关框架吞吐): signed envelopes over HTTP through the message log.

    .venv/bin/python bench/gateway_frame.py --clients 8 --seconds 10 [--workers 2] [--infno 1901]

Uses ``YIBAO_DATABASE_URL`` if set, otherwise a throwaway embedded PostgreSQL. Starts a real
server (uvicorn, ``--workers`` processes), signs in the demo institutions, then ``--clients``
threads (each its own institution and keep-alive connection) post new messages for
``--seconds``. Every request pays the whole frame: CSB signature check, envelope parsing,
sign-in check, the handler, and the message-log row in one PostgreSQL transaction. Prints
requests/s and p50/p99 latency, then the same for identical retries (replays).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from gateway import pct, serve  # bench/gateway.py, the sibling script

HOSPITALS = [
    "H44010000001", "H44010000002", "H44030000001", "H44030000002", "H44030000003",
    "H44040000001", "H44130000001", "H44148100001", "H42138100001", "H42138100002",
]  # fmt: skip
INPUTS = {
    "1901": {"data": {"type": "med_chrgitm_type", "valiFlag": "1"}},
    "1201": {"medinsinfo": {"fixmedins_type": "1", "fixmedins_name": "人民医院"}},
    "9001": {"signIn": {"opter_no": "0001", "mac": "00-00-00-00-00-01", "ip": "127.0.0.1"}},
}


def run(url: str, clients: int, seconds: float, workers: int, infno: str) -> None:
    from yibao.client import NhsaClient
    from yibao.db.engine import make_engine
    from yibao.db.migrate import upgrade
    from yibao.institutions import demo

    upgrade(url)
    engine = make_engine(url, pool_size=1)
    demo.seed(engine)
    engine.dispose()
    port = 18000 + os.getpid() % 1000
    proc = serve(url, port, workers)
    try:
        rows = {r[0]: r for r in demo.DEMO_INSTITUTIONS}
        made = []
        for i in range(clients):
            code = HOSPITALS[i % len(HOSPITALS)]
            c = NhsaClient(
                f"http://127.0.0.1:{port}", fixmedins_code=code, fixmedins_name=rows[code][1],
                mdtrtarea_admvs=rows[code][3], app_key=demo.demo_app_key(code),
                app_secret=demo.demo_secret(code), opter=f"B{i:03d}",
            )  # fmt: skip
            c.sign_in()
            made.append(c)
        for label, replay in (("new messages", False), ("identical retries", True)):
            lat: list[list[float]] = [[] for _ in made]
            errors = [0] * len(made)
            stop = time.perf_counter() + seconds

            def loop(
                k: int,
                replay: bool = replay,
                stop: float = stop,
                lat: list[list[float]] = lat,
                errors: list[int] = errors,
            ) -> None:
                c = made[k]
                fixed = c.envelope(infno, INPUTS[infno])
                while time.perf_counter() < stop:
                    t0 = time.perf_counter()
                    r = c.post(infno, fixed) if replay else c.call(infno, INPUTS[infno])
                    lat[k].append(time.perf_counter() - t0)
                    errors[k] += r.infcode != 0

            threads = [threading.Thread(target=loop, args=(k,)) for k in range(len(made))]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - t0
            flat = [x for xs in lat for x in xs]
            print(
                f"{infno} {label}: {len(flat) / elapsed:,.0f} req/s over {elapsed:.1f}s, "
                f"p50 {pct(flat, 0.5):.1f} ms, p99 {pct(flat, 0.99):.1f} ms, "
                f"mean {statistics.mean(flat) * 1000:.1f} ms, errors {sum(errors)} "
                f"({clients} clients, {workers} workers)"
            )
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--infno", choices=sorted(INPUTS), default="1901")
    args = ap.parse_args()
    url = os.environ.get("YIBAO_DATABASE_URL", "")
    if url:
        run(url, args.clients, args.seconds, args.workers, args.infno)
        return
    from yibao.db.embedded import EmbeddedPostgres

    with EmbeddedPostgres(Path(tempfile.mkdtemp()) / "pgdata", delete_on_stop=True) as pg:
        run(pg.ensure_database(), args.clients, args.seconds, args.workers, args.infno)


if __name__ == "__main__":
    main()
