"""Which columnar engine for the vectorised settlement (ADR 0012)? The measurement.

    uv sync --extra simbench && .venv/bin/python bench/simulate_backends.py [--rows 1000000]

The same path-dependent kernel — the heart of a person-year replay — in NumPy, Polars and DuckDB,
on the same rows, checked equal to the fen, timed (best of 3, one thread each, then default
threads): per person, in time order, an annual deductible consumed from the policy-range amount,
a two-band pooled ratio on the cumulative axis with each band segment rounded half up, and an
annual cap on the fund payment consumed in order (all integer fen).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

B = 3_000_000  # band edge on the cumulative axis (3万元)
U1, U2 = 8_500, 9_000  # 85 %, 90 %


def data(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    visits = rng.poisson(5.8, n // 5) + 1
    psn = np.repeat(np.arange(len(visits)), visits)[:n]
    inscp = np.maximum(0, np.round(np.exp(rng.normal(9.5, 1.6, len(psn))))).astype(np.int64)
    return {"psn": psn.astype(np.int64), "inscp": inscp,
            "ded": np.full(len(psn), 100_000, np.int64), "cap": np.full(len(psn), 20_000_000, np.int64)}  # fmt: skip


def rnd(x: np.ndarray, u: int) -> np.ndarray:
    return (x * u + 5000) // 10000


def numpy_kernel(d: dict[str, np.ndarray]) -> np.ndarray:
    psn, inscp, ded, cap = d["psn"], d["inscp"], d["ded"], d["cap"]
    first = np.r_[True, psn[1:] != psn[:-1]]
    gid = np.cumsum(first) - 1
    start_rows = np.nonzero(first)[0]

    def excl(x: np.ndarray) -> np.ndarray:
        c = np.cumsum(x) - x
        return c - c[start_rows][gid]

    pos = excl(inscp)
    prior = np.minimum(ded, pos)
    act = np.minimum(inscp, np.maximum(0, ded - prior))
    s, e = pos + act, pos + inscp
    seg1 = np.maximum(0, np.minimum(e, B) - s)
    seg2 = np.maximum(0, e - np.maximum(s, B))
    unc = rnd(seg1, U1) + rnd(seg2, U2)
    before = np.minimum(cap, excl(unc))
    return np.minimum(unc, np.maximum(0, cap - before))


def polars_kernel(d: dict[str, np.ndarray]) -> np.ndarray:
    import polars as pl

    df = pl.DataFrame(d)
    g = "psn"
    out = (
        df.lazy()
        .with_columns(pos=(pl.col("inscp").cum_sum() - pl.col("inscp")).over(g))
        .with_columns(
            act=pl.min_horizontal(
                "inscp", pl.max_horizontal(0, pl.col("ded") - pl.min_horizontal("ded", "pos"))
            )
        )
        .with_columns(s=pl.col("pos") + pl.col("act"), e=pl.col("pos") + pl.col("inscp"))
        .with_columns(
            seg1=pl.max_horizontal(0, pl.min_horizontal("e", pl.lit(B)) - pl.col("s")),
            seg2=pl.max_horizontal(0, pl.col("e") - pl.max_horizontal("s", pl.lit(B))),
        )
        .with_columns(
            unc=(pl.col("seg1") * U1 + 5000) // 10000 + (pl.col("seg2") * U2 + 5000) // 10000
        )
        .with_columns(
            before=pl.min_horizontal("cap", (pl.col("unc").cum_sum() - pl.col("unc")).over(g))
        )
        .select(
            paid=pl.min_horizontal("unc", pl.max_horizontal(0, pl.col("cap") - pl.col("before")))
        )
        .collect()
    )
    return out["paid"].to_numpy()


def duckdb_kernel(d: dict[str, np.ndarray], con: object) -> np.ndarray:
    import pyarrow as pa

    t = pa.table({**d, "rn": np.arange(len(d["psn"]))})
    con.register("t", t)  # type: ignore[attr-defined]
    w = "OVER (PARTITION BY psn ORDER BY rn ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
    sql = f"""
    WITH a AS (SELECT rn, psn, inscp, ded, cap, COALESCE(SUM(inscp) {w}, 0)::BIGINT AS pos FROM t),
    b AS (SELECT *, LEAST(inscp, GREATEST(0, ded - LEAST(ded, pos))) AS act FROM a),
    c AS (SELECT *, pos + act AS s, pos + inscp AS e FROM b),
    d AS (SELECT *, (GREATEST(0, LEAST(e, {B}) - s) * {U1} + 5000) // 10000
                  + (GREATEST(0, e - GREATEST(s, {B})) * {U2} + 5000) // 10000 AS unc FROM c),
    f AS (SELECT *, LEAST(cap, COALESCE(SUM(unc) {w}, 0))::BIGINT AS before FROM d)
    SELECT LEAST(unc, GREATEST(0, cap - before)) AS paid FROM f ORDER BY rn
    """
    out = con.execute(sql).fetchnumpy()["paid"]  # type: ignore[attr-defined]
    con.unregister("t")  # type: ignore[attr-defined]
    return np.asarray(out, np.int64)


def best(fn: object, *args: object) -> tuple[float, np.ndarray]:
    times, out = [], None
    for _ in range(3):
        t = time.perf_counter()
        out = fn(*args)  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times), out  # type: ignore[return-value]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    import duckdb
    import polars as pl

    d = data(args.rows)
    n = len(d["psn"])
    ref = numpy_kernel(d)
    print(f"{n:,} rows, {int(d['psn'][-1]) + 1:,} person-years")
    threads = pl.thread_pool_size()  # POLARS_MAX_THREADS=1 in the environment for one thread
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    rows = [("NumPy", *best(numpy_kernel, d)), ("Polars", *best(polars_kernel, d)),
            ("DuckDB", *best(duckdb_kernel, d, con))]  # fmt: skip
    for name, secs, out in rows:
        same = np.array_equal(out, ref)
        print(f"threads {threads if name != 'NumPy' else 1}  {name:<7} {secs * 1e3:8.1f} ms  "
              f"{n / secs:12,.0f} rows/s  {'equal to the fen' if same else 'DIFFERS'}")  # fmt: skip
    print("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()), "(shared machine)")


if __name__ == "__main__":
    main()
