"""Ledger throughput (记账吞吐): settlement chains posted from N concurrent connections.

    .venv/bin/python bench/ledger.py --connections 4 --seconds 10 [--cross-region 0.2]

Uses ``YIBAO_DATABASE_URL`` if set, otherwise a throwaway embedded PostgreSQL. Every worker is a
separate process with its own connection; each transaction posts one settlement chain (3 fund
lines + personal account, all hitting the same funds and a few institutions: the hot-spot case).
Prints chains/s and transfers/s, then runs the roll-up and the checks.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import multiprocessing.synchronize
import os
import random
import tempfile
import time
from datetime import date
from pathlib import Path

DAY = date(2026, 11, 22)


def worker(
    url: str,
    n: int,
    seconds: float,
    cross: float,
    start: mp.synchronize.Barrier,  # type: ignore[name-defined]
    out: mp.Queue,  # type: ignore[type-arg]
    sync: str = "on",
) -> None:
    from yibao.db.engine import make_engine
    from yibao.ledger import SettlementPosting, post_settlement

    engine = make_engine(url, pool_size=1)
    rng = random.Random(n)
    chains = transfers = 0
    with engine.connect() as conn:
        conn.exec_driver_sql(f"SET synchronous_commit = {sync}")
        conn.commit()
        start.wait()  # imports and connections are not measured
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            insured = "441300" if rng.random() < cross else "440100"
            p = SettlementPosting(
                setl_id=f"B{os.getpid()}-{chains}",
                msgid=f"M{os.getpid()}-{chains}",
                fixmedins_code=f"H4401010000{rng.randint(1, 5)}",
                insuplc_admdvs=insured,
                mdtrtarea_admvs="440100",
                insutype="310",
                value_date=DAY,
                fund_lines=[
                    ("310100", rng.randint(1, 50_000)),
                    ("330100", rng.randint(0, 5_000)),
                    ("320100", rng.randint(0, 3_000)),
                ],
                acct_pay=rng.randint(0, 3_000),
                psn_no=f"P{rng.randint(1, 100_000)}",
            )
            with conn.begin():
                res = post_settlement(conn, p)
            chains += 1
            transfers += len(res.transfer_ids)
    engine.dispose()
    out.put((chains, transfers))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--cross-region", type=float, default=0.2, help="share of 异地 settlements")
    ap.add_argument(
        "--synchronous-commit",
        choices=["on", "off"],
        default="on",
        help="off separates CPU cost from the commit flush (the default 'on' is production)",
    )
    args = ap.parse_args()

    from yibao.db.embedded import EmbeddedPostgres
    from yibao.db.engine import make_engine
    from yibao.db.migrate import upgrade
    from yibao.ledger import rollup, verify

    pg = None
    url = os.environ.get("YIBAO_DATABASE_URL", "")
    if not url:
        pg = EmbeddedPostgres(
            Path(tempfile.mkdtemp(prefix="yibao-bench-ledger-")) / "pgdata", delete_on_stop=True
        )
        url = pg.ensure_database("bench_ledger")
    try:
        upgrade(url)
        ctx = mp.get_context("spawn")  # workers do not inherit the embedded server handle
        q: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
        barrier = ctx.Barrier(args.connections)
        procs = [
            ctx.Process(
                target=worker,
                args=(url, i, args.seconds, args.cross_region, barrier, q, args.synchronous_commit),
            )
            for i in range(args.connections)
        ]
        for p in procs:
            p.start()
        results = [q.get() for _ in procs]
        for p in procs:
            p.join()
        elapsed = args.seconds  # every worker measures the same window after the barrier
        chains = sum(r[0] for r in results)
        transfers = sum(r[1] for r in results)
        print(
            f"connections={args.connections} seconds={elapsed:.1f} cross_region={args.cross_region} "
            f"synchronous_commit={args.synchronous_commit}"
        )
        print(f"settlement chains/s: {chains / elapsed:,.0f}  ({chains} chains)")
        print(f"transfers (postings)/s: {transfers / elapsed:,.0f}  ({transfers} transfers)")
        engine = make_engine(url, pool_size=1)
        with engine.begin() as conn:
            t1 = time.perf_counter()
            folded = rollup(conn)
            print(f"roll-up: {folded} transfers folded in {time.perf_counter() - t1:.2f} s")
        with engine.connect() as conn:
            rep = verify(conn)
            print(f"verify: ok={rep.ok} entry_sum={rep.entry_sum} transfers={rep.transfers}")
        engine.dispose()
    finally:
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
