"""Benchmark: one month's contribution assessment (月度缴费核定) for 10⁶ synthetic employees.

    .venv/bin/python bench/contributions.py [--employees 1000000] [--per-unit 50]

A throwaway embedded PostgreSQL (or ``YIBAO_BENCH_DATABASE_URL``) is migrated, then filled with
synthetic persons, 310 enrolments, units and employment rows by set-based SQL (generate_series —
the registry import's per-row checks are measured by bench/registry_import.py, not here). Then
:func:`yibao.funds.service.assess_month` assesses one month for the region (benefit refresh off:
new bills are not overdue) and a second run shows the idempotent re-run. Printed: assessments/s,
bills, the client's CPU and peak RSS, the PostgreSQL backend's CPU (from /proc) and temp files.
Figures from a shared, busy 2-core machine are noisy; compare within one run.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

REGION = "440300"
PERIOD = date(2026, 11, 1)

SYNTH = """
INSERT INTO unit (emp_no, uscc, emp_name, emp_type, admdvs, town)
SELECT 'B' || lpad(u::text, 8, '0'), 'BENCH' || lpad(u::text, 13, '0'), '压测单位' || u,
       CASE WHEN u %% 10 = 0 THEN '30' ELSE '10' END, %(region)s, ''
  FROM generate_series(1, %(units)s) AS u;
INSERT INTO person (psn_no, psn_cert_type, certno, psn_name, gend, brdy)
SELECT 'P' || lpad(i::text, 12, '0'), '01', 'C' || lpad(i::text, 17, '0'), '压测' || i,
       (1 + i %% 2)::text, date '1970-01-01' + (i %% 12000)
  FROM generate_series(1, %(n)s) AS i;
INSERT INTO enrolment (psn_no, insutype, psn_insu_stas, psn_insu_date, psn_type, insuplc_admdvs,
       emp_no, emp_name, flxempe_flag, cvlserv_flag)
SELECT 'P' || lpad(i::text, 12, '0'), '310', '1', date '2015-01-01', '11', %(region)s,
       'B' || lpad((1 + (i - 1) / %(per_unit)s)::text, 8, '0'), '', false, i %% 50 = 0
  FROM generate_series(1, %(n)s) AS i;
INSERT INTO employment (psn_no, begin_date, emp_no, flexible, wage_base)
SELECT 'P' || lpad(i::text, 12, '0'), date '2015-01-01',
       'B' || lpad((1 + (i - 1) / %(per_unit)s)::text, 8, '0'), false,
       200000 + (i::bigint * 7919) %% 2800000
  FROM generate_series(1, %(n)s) AS i;
"""


def backend_cpu(pid: int) -> float:
    """User + system CPU seconds of a PostgreSQL backend process (same machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--employees", type=int, default=1_000_000)
    ap.add_argument("--per-unit", type=int, default=50)
    args = ap.parse_args()

    import sqlalchemy as sa

    from yibao.db import hot
    from yibao.db.embedded import EmbeddedPostgres
    from yibao.db.engine import make_engine
    from yibao.db.migrate import upgrade
    from yibao.funds import service

    server = None
    url = os.environ.get("YIBAO_BENCH_DATABASE_URL", "")
    if not url:
        folder = Path(tempfile.mkdtemp(prefix="yibao-bench-funds-"))
        server = EmbeddedPostgres(folder / "pgdata", delete_on_stop=True)
        url = server.ensure_database("bench_funds")
    try:
        upgrade(url)
        engine = make_engine(url, pool_size=1)
        units = (args.employees + args.per_unit - 1) // args.per_unit
        t0 = time.perf_counter()
        with engine.begin() as conn:
            params = {"region": REGION, "n": args.employees, "units": units,
                      "per_unit": args.per_unit}  # fmt: skip
            for statement in SYNTH.split(";"):
                if statement.strip():
                    hot.execute(conn, statement, params)
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        print(f"synthesised {args.employees:,} employees in {units:,} units "
              f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip

        with engine.connect() as conn:
            pid = int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
            temp0 = int(conn.execute(sa.text(
                "SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()"
            )).scalar_one())  # fmt: skip
        for label in ("assessment", "re-run (idempotent)"):
            cpu_db0, cpu0, t1 = backend_cpu(pid), time.process_time(), time.perf_counter()
            r = service.assess_month(engine, REGION, PERIOD, actor="bench", refresh=False)
            wall = time.perf_counter() - t1
            cpu, cpu_db = time.process_time() - cpu0, backend_cpu(pid) - cpu_db0
            rate = r.rows / wall if wall else 0.0
            print(f"{label}: {r.rows:,} assessments, {r.bills:,} bills, "
                  f"{r.amount / 100:,.2f} 元 in {wall:.2f} s → {rate:,.0f} assessments/s")  # fmt: skip
            per = f"{cpu_db / r.rows * 1e6:.1f} µs per assessment" if r.rows else "nothing new"
            print(f"  CPU: client {cpu:.2f} s, PostgreSQL backend {cpu_db:.2f} s ({per})")
        with engine.connect() as conn:
            temp = int(conn.execute(sa.text(
                "SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()"
            )).scalar_one()) - temp0  # fmt: skip
            size = conn.execute(sa.text(
                "SELECT pg_size_pretty(pg_total_relation_size('funds_assessment'))"
            )).scalar_one()  # fmt: skip
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory: client {peak:,.0f} MiB RSS; PostgreSQL temp files {temp / 2**20:,.0f} MiB;"
              f" funds_assessment {size}")  # fmt: skip
        engine.dispose()
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
