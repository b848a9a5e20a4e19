"""Settlement throughput over HTTP (结算吞吐): 2207 settlements/s and whole outpatient visits/s,
beside pgbench TPC-B on the same PostgreSQL in the same run.

    .venv/bin/python bench/gateway.py [--clients 8] [--seconds 10] [--workers 2]
                                      [--persons 400] [--pgbench-seconds 10]

Uses ``YIBAO_DATABASE_URL`` if set, otherwise a throwaway embedded PostgreSQL (fsync and
synchronous_commit are printed; the embedded server runs with PostgreSQL's defaults, fsync on).
Steps: migrate and seed (demo institutions, catalogue, ``--persons`` insured); pgbench -i -s 10 in
its own database and ``pgbench -c 8 -j 2 -T`` (TPC-B); start ``--workers`` uvicorn processes;
then, with ``--clients`` threads on keep-alive connections (:mod:`lean_http`: raw sockets, so the
load generator takes little of the box):

1. 2207 only: every client first prepares visits (2201 → 2203 → 2204 → 2206, untimed) and signs
   their 2207s, then all post them for ``--seconds`` (timed: only send and receive);
2. retries: every answered 2207 posted again with its msgid and fresh headers (each answer must be
   byte-identical): the exactly-once replay path, the gateway's cost without a settlement;
3. whole visits: 2201 → 2203 → 2204 → 2206 → 2207 per visit for ``--seconds`` (envelopes built
   and signed during the phase, as a HIS would).

Each phase prints calls/s, p50/p99 latency and CPU ms per call of the server processes,
PostgreSQL (postmaster and backends) and the load generator; then the load average and the ratios
to pgbench TPC-B. The last line is ``ratio 2207/pgbench: X.XXX``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))  # lean_http, the sibling module

HOSPITALS = ("H44030000001", "H44030000002", "H44030000003", "H44030000004")


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (seconds) in milliseconds."""
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000 if s else float("nan")


def _in_threads(work: Any, n: int) -> float:
    """Run ``work(k)`` for k in 0..n-1 in n threads; the seconds until all are done."""
    t0 = time.perf_counter()
    threads = [threading.Thread(target=work, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (Linux /proc), 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def postmaster_pid(libpq: str) -> int | None:
    """The PostgreSQL server's pid when it runs on this machine (its data directory readable)."""
    import psycopg

    try:
        with psycopg.connect(libpq) as conn:
            row = conn.execute("SHOW data_directory").fetchone()
        with open(Path(str(row[0] if row else "")) / "postmaster.pid") as f:
            return int(f.readline())
    except (OSError, ValueError, psycopg.Error):
        return None


class CpuMeter:
    """CPU seconds used by the server processes, PostgreSQL (its postmaster and backends, when
    local) and this (client) process."""

    def __init__(self, server_pid: int, pg_pid: int | None) -> None:
        self.server_pid = server_pid
        self.pg_pid = pg_pid

    def sample(self) -> dict[str, float]:
        server = [self.server_pid, *_children(self.server_pid)]
        out = {"server": sum(_cpu_seconds(p) for p in server)}
        if self.pg_pid is not None:
            out["postgres"] = sum(_cpu_seconds(p) for p in [self.pg_pid, *_children(self.pg_pid)])
        out["clients"] = time.process_time()
        return out

    @staticmethod
    def per_op(before: dict[str, float], after: dict[str, float], n: int) -> str:
        if not n:
            return ""
        parts = [f"{k} {(after[k] - before[k]) / n * 1000:.2f}" for k in before]
        return "CPU ms per call: " + ", ".join(parts)


def serve(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    """``--workers`` uvicorn processes of the app on ``url``'s database, once healthy."""
    env = dict(os.environ, YIBAO_DATABASE_URL=url)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "yibao.api.app:app_from_env",
            "--factory",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def pgbench(url: str, seconds: int) -> float:
    """TPC-B tps of pgbench (scale 10, 8 clients, 2 threads) on the same server."""
    from urllib.parse import parse_qs, urlparse

    import psycopg

    from yibao.db.embedded import pg_bin, with_database

    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname='pgbench'").fetchone():
            conn.execute('CREATE DATABASE "pgbench"')
    target = with_database(url, "pgbench")
    u = urlparse(target)
    q = parse_qs(u.query)
    env = dict(os.environ)
    env["PGHOST"] = q.get("host", [u.hostname or "127.0.0.1"])[0]
    if u.port:
        env["PGPORT"] = str(u.port)
    env["PGUSER"] = u.username or "postgres"
    if u.password:
        env["PGPASSWORD"] = u.password
    env["PGDATABASE"] = "pgbench"
    exe = pg_bin("pgbench")
    subprocess.run([exe, "-i", "-q", "-s", "10"], env=env, check=True, capture_output=True)
    out = subprocess.run(
        [exe, "-c", "8", "-j", "2", "-T", str(seconds)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    m = re.search(r"tps = ([0-9.]+)", out)
    return float(m.group(1)) if m else float("nan")


def _clients(base: str, n: int) -> list[Any]:
    from lean_http import LeanNhsaClient
    from yibao.institutions import demo

    rows = {r[0]: r for r in demo.DEMO_INSTITUTIONS}
    out = []
    for i in range(n):
        code = HOSPITALS[i % len(HOSPITALS)]
        c = LeanNhsaClient(
            base,
            fixmedins_code=code,
            fixmedins_name=rows[code][1],
            mdtrtarea_admvs=rows[code][3],
            app_key=demo.demo_app_key(code),
            app_secret=demo.demo_secret(code),
            opter=f"B{i:03d}",
        )
        c.sign_in()
        out.append(c)
    return out


class Phase:
    """One timed phase: ``work(k)`` in every client thread; prints rate, latency, CPU per call."""

    def __init__(self, meter: CpuMeter, clients: int) -> None:
        self.meter = meter
        self.lat: list[list[float]] = [[] for _ in range(clients)]
        self.errors = [0] * clients

    def run(self, work: Any, calls_per_item: int = 1) -> tuple[float, list[float], str]:
        cpu0 = self.meter.sample()
        elapsed = _in_threads(work, len(self.lat))
        flat = [x for xs in self.lat for x in xs]
        cpu = self.meter.per_op(cpu0, self.meter.sample(), calls_per_item * len(flat))
        return len(flat) / elapsed if elapsed else 0.0, flat, cpu


def run(url: str, args: argparse.Namespace) -> None:
    import psycopg

    from yibao.catalog import service as catalog
    from yibao.checkout import demo as persons
    from yibao.client import NhsaError
    from yibao.db.embedded import sqlalchemy_to_libpq
    from yibao.db.engine import make_engine
    from yibao.db.migrate import upgrade
    from yibao.demo import analyze
    from yibao.hissim import flows
    from yibao.institutions import demo

    upgrade(url)
    engine = make_engine(url, pool_size=1)
    demo.seed(engine)
    catalog.seed_demo(engine)
    persons.seed(engine, args.persons)
    analyze(engine)  # fresh statistics after loading, as pgbench -i vacuums its tables
    engine.dispose()
    libpq = sqlalchemy_to_libpq(url)
    with psycopg.connect(libpq) as conn:
        fsync = conn.execute("SHOW fsync").fetchone()
        sync = conn.execute("SHOW synchronous_commit").fetchone()
    print(
        f"PostgreSQL fsync={fsync[0] if fsync else '?'} synchronous_commit={sync[0] if sync else '?'}"
    )
    tps = pgbench(libpq, args.pgbench_seconds)
    print(
        f"pgbench TPC-B (scale 10, 8 clients, 2 threads, {args.pgbench_seconds}s): {tps:,.0f} tps"
    )

    port = 19000 + os.getpid() % 1000
    proc = serve(url, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        made = _clients(base, args.clients)
        certnos = [r["certno"] for r in persons.demo_rows(args.persons)]
        patients: list[flows.Patient] = [flows.lookup(made[0], n) for n in certnos]
        local = [p for p in patients if p.insuplc_admdvs == "440300"] or patients

        # 1. 2207 only: visits prepared up to 2206 (untimed), 2207s signed before timing ------
        queues: list[list[dict[str, Any]]] = [[] for _ in made]

        def prepare(k: int) -> None:
            rng = random.Random(k)
            c = made[k]
            for _ in range(args.prepare):
                p = rng.choice(local)
                v = flows.outpatient(c, p, rng, lines=3, settle=False)
                data = dict(v.calls[-1].request["input"]["data"])
                data.update(flows.plain(flows.split_totals(flows.ok(v.calls[2])["result"])))
                queues[k].append({"data": data, "region": p.insuplc_admdvs})

        took = _in_threads(prepare, len(made))
        print(f"prepared {sum(map(len, queues))} visits up to 2206 in {took:.1f}s")
        stats_engine = make_engine(url, pool_size=1)
        analyze(stats_engine)  # the tables grew from empty: statistics as in steady operation
        stats_engine.dispose()
        signed: list[list[tuple[dict[str, Any], bytes]]] = [
            [
                (env, made[k].prepared("2207", env))
                for item in queues[k]
                for env in [
                    made[k].envelope("2207", {"data": item["data"]}, insuplc_admdvs=item["region"])
                ]
            ]
            for k in range(len(made))
        ]
        meter = CpuMeter(proc.pid, postmaster_pid(libpq))
        answered: list[list[tuple[dict[str, Any], bytes]]] = [[] for _ in made]
        stop = time.perf_counter() + args.seconds
        phase = Phase(meter, len(made))

        def settle(k: int) -> None:
            raw = made[k].raw
            for env, req in signed[k]:
                if time.perf_counter() >= stop:
                    break
                t1 = time.perf_counter()
                status, _, body = raw.request(req)
                phase.lat[k].append(time.perf_counter() - t1)
                phase.errors[k] += status != 200 or b'"infcode":0,' not in body
                answered[k].append((env, body))

        setl_rate, flat, cpu = phase.run(settle)
        print(
            f"2207 settlements: {setl_rate:,.0f}/s ({len(flat)} in {args.seconds:.0f}s), "
            f"p50 {pct(flat, 0.5):.1f} ms, p99 {pct(flat, 0.99):.1f} ms, errors {sum(phase.errors)} "
            f"({len(made)} clients, {args.workers} workers)"
        )
        print("  " + cpu)
        if len(flat) == sum(map(len, signed)):
            print("  (the prepared visits ran out before --seconds: raise --prepare)")

        # 2. retries of answered 2207s, same msgid, fresh headers: the replay path ----------
        resigned = [
            [(made[k].prepared("2207", env), body) for env, body in answered[k]]
            for k in range(len(made))
        ]
        phase = Phase(meter, len(made))

        def replay(k: int) -> None:
            raw = made[k].raw
            for req, body in resigned[k]:
                t1 = time.perf_counter()
                _, _, again = raw.request(req)
                phase.lat[k].append(time.perf_counter() - t1)
                phase.errors[k] += again != body  # a retry must get the identical bytes

        retry_rate, rflat, cpu = phase.run(replay)
        print(
            f"2207 retries (same msgid, stored answer): {retry_rate:,.0f}/s, "
            f"p50 {pct(rflat, 0.5):.1f} ms, p99 {pct(rflat, 0.99):.1f} ms, "
            f"not byte-identical {sum(phase.errors)}"
        )
        print("  " + cpu)

        # 3. whole visits ---------------------------------------------------------------
        stop = time.perf_counter() + args.seconds
        phase = Phase(meter, len(made))

        def visits(k: int) -> None:
            rng = random.Random(1000 + k)
            c = made[k]
            while time.perf_counter() < stop:
                t1 = time.perf_counter()
                try:
                    flows.outpatient(c, rng.choice(local), rng, lines=3)
                except NhsaError:
                    phase.errors[k] += 1
                phase.lat[k].append(time.perf_counter() - t1)

        visit_rate, vflat, cpu = phase.run(visits, calls_per_item=5)
        print(
            f"whole outpatient visits (2201→2203→2204→2206→2207): {visit_rate:,.0f}/s "
            f"({len(vflat)} in {args.seconds:.0f}s, {5 * visit_rate:,.0f} calls/s), "
            f"p50 {pct(vflat, 0.5):.1f} ms, p99 {pct(vflat, 0.99):.1f} ms per visit, "
            f"errors {sum(phase.errors)}"
        )
        print("  " + cpu)
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(
            f"ratios to pgbench TPC-B: retries {retry_rate / tps:.3f}, "
            f"visits {visit_rate / tps:.3f}, visit calls {5 * visit_rate / tps:.3f}"
        )
        print(f"ratio 2207/pgbench: {setl_rate / tps:.3f}")
        for c in made:
            c.close()
    finally:
        proc.terminate()
        proc.wait(20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--persons", type=int, default=400)
    ap.add_argument("--prepare", type=int, default=250, help="visits prepared per client")
    ap.add_argument("--pgbench-seconds", type=int, default=10)
    args = ap.parse_args()
    url = os.environ.get("YIBAO_DATABASE_URL", "")
    if url:
        run(url, args)
        return
    from yibao.db.embedded import EmbeddedPostgres

    with EmbeddedPostgres(Path(tempfile.mkdtemp()) / "pgdata", delete_on_stop=True) as pg:
        run(pg.ensure_database(), args)


if __name__ == "__main__":
    main()
