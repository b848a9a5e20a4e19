"""Catalogue benchmark: load time of the shipped demo catalogue and classification throughput.

    .venv/bin/python bench/catalog.py [--seconds 3]

Uses ``YIBAO_DATABASE_URL`` if set (its catalogue tables are written!), otherwise a throwaway
embedded PostgreSQL. Prints the first load and the idempotent reload time, then classifications/s
and ms per call for a 10-line outpatient bill and a 100-line inpatient upload (2204/2301) in
Shenzhen (province + city layer), one connection, one process.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path

from yibao.catalog.model import FeeLine
from yibao.money import line_amount

ROOT = Path(__file__).resolve().parents[1]


def _lines(codes: list[tuple[str, int]], n: int) -> list[FeeLine]:
    out: list[FeeLine] = []
    for i in range(n):
        code, pric_fen = codes[(i * 37) % len(codes)]
        pric = Decimal(pric_fen) / 100
        cnt = Decimal(1 + i % 3)
        out.append(FeeLine(str(i + 1), code, pric, cnt, line_amount(pric, cnt), f"H{i}", "1"))
    return out


def _rate(fn: Callable[[], object], seconds: float) -> tuple[float, float]:
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    dt = time.perf_counter() - t0
    return n / dt, dt / n * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()

    from yibao.catalog import service
    from yibao.db.embedded import EmbeddedPostgres
    from yibao.db.engine import make_engine
    from yibao.db.migrate import upgrade

    url = os.environ.get("YIBAO_DATABASE_URL", "")
    pg = None
    if not url:
        pg = EmbeddedPostgres(
            Path(tempfile.mkdtemp(prefix="yibao-bench-cat-")) / "pgdata", delete_on_stop=True
        )
        url = pg.ensure_database()
    try:
        upgrade(url)
        engine = make_engine(url, pool_size=1)
        t0 = time.perf_counter()
        r = service.load_catalog(engine, ROOT / "catalogs", actor="bench")
        t1 = time.perf_counter()
        again = service.load_catalog(engine, ROOT / "catalogs", actor="bench")
        t2 = time.perf_counter()
        print(
            f"load: {r.inserted} rows inserted in {t1 - t0:.2f} s; reload (no change: {not again.changed}) {t2 - t1:.2f} s"
        )
        day = date(2025, 7, 1)
        with engine.connect() as conn:
            page = service.list_entries(conn, "440300", day, size=500)
            codes = [(e.med_list_codg, e.pric or 100) for e in page.entries]
            for n in (10, 100):
                lines = _lines(codes, n)
                call = partial(service.classify, conn, "440300", day, lines)
                per_s, ms = _rate(call, args.seconds)
                print(f"classify {n:>3} lines (440300): {per_s:8.0f} calls/s  {ms:6.2f} ms/call")
        engine.dispose()
    finally:
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
