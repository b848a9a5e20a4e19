"""Benchmark: bulk import of 100,000 registry rows (参保登记批量导入).

Generates N deterministic valid rows (``yibao.registry.synth``) into a CSV, imports them into a
fresh migrated database (a throwaway embedded PostgreSQL, or ``YIBAO_BENCH_DATABASE_URL``), then
imports the same file again (must change nothing) and prints rows/s for each phase.

    .venv/bin/python bench/registry_import.py [--rows 100000] [--format csv|xlsx]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import tempfile
import time
from pathlib import Path

from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine
from yibao.db.migrate import upgrade
from yibao.registry import bulk, rows, synth


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="yibao-bench-reg-"))
    csv_path = work / f"registry.{args.format}"
    cols = [c for c in rows.COLUMNS if c != "psn_no"]
    t0 = time.perf_counter()
    if args.format == "csv":
        with csv_path.open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=cols)
            w.writeheader()
            for r in synth.person_rows(args.rows):
                w.writerow(r)
    else:
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("参保人员")
        ws.append(cols)
        for r in synth.person_rows(args.rows):
            ws.append([r[c] for c in cols])
        wb.save(csv_path)
    print(f"generated {args.rows} rows in {time.perf_counter() - t0:.1f}s -> {csv_path}")

    server = None
    url = os.environ.get("YIBAO_BENCH_DATABASE_URL", "")
    if not url:
        server = EmbeddedPostgres(work / "pgdata", delete_on_stop=True)
        url = server.ensure_database("yibao_bench")
    try:
        upgrade(url)
        engine = make_engine(url, pool_size=1)
        for attempt in ("first import", "re-import (same file)"):
            t1 = time.perf_counter()
            checked = rows.check_rows(bulk.read_rows(csv_path))
            t2 = time.perf_counter()
            with engine.begin() as conn:
                res = bulk.import_checked(
                    conn, checked, skip_bad=False, actor="bench", source=csv_path.name
                )
            t3 = time.perf_counter()
            total = t3 - t1
            print(
                f"{attempt}: {res.total_rows} rows in {total:.2f}s = {res.total_rows / total:,.0f} rows/s "
                f"(check {t2 - t1:.2f}s, COPY+merge {t3 - t2:.2f}s); persons +{res.persons_inserted} "
                f"~{res.persons_updated}, enrolments +{res.enrolments_inserted} ~{res.enrolments_updated}"
            )
        engine.dispose()
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)  # the generated file (12 MB per 100k rows)


if __name__ == "__main__":
    main()
