"""Simulation benchmark (测算基准): a synthetic province-year replayed under baseline + one reform.

    .venv/bin/python bench/simulate.py --bills 1000000 [--workers 2] [--reform FILE] [--keep DIR]

Generates ``--bills`` synthetic bills (not timed), replays them under the baseline and the reform
(default: bench/reforms/account-pays-own.yaml, which changes nearly every bill, so nothing is
reused) on ``--workers`` local processes, and prints bills/s (wall clock, both scenarios),
CPU per bill, the peak memory of the largest process, and the check count: person-years sampled
from every partition are settled again, bill by bill, by the scalar engine (``settle()``) under
both scenarios and compared to the fen. Last line::

    simulate: N bills, X bills/s, peak Y MiB, exact
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from yibao.policy.loader import default_tree
from yibao.simulation.dataset import partitions, read_partition
from yibao.simulation.engine import run_partition
from yibao.simulation.kernel import OUTPUTS
from yibao.simulation.runner import load_scenarios, run
from yibao.simulation.scalar import settle_rows
from yibao.simulation.synthetic import generate

HERE = Path(__file__).resolve().parent


def _peak_mib() -> tuple[float, float]:
    """(this process, the largest child) peak resident memory in MiB (Linux: KiB units)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def _check(root: Path, scenarios: list, per_partition: int) -> tuple[int, int]:
    """Bills re-settled by the scalar engine (per scenario) and how many differ."""
    checked = bad = 0
    for ref in partitions(root):
        bills, items = read_partition(root, ref)
        psn = bills["psn_key"].to_numpy()
        starts = np.nonzero(np.r_[True, psn[1:] != psn[:-1]])[0]
        cut = (
            int(starts[min(per_partition, len(starts) - 1)])
            if len(starts) > per_partition
            else len(psn)
        )
        b = bills.slice(0, cut)
        i = items.filter(np.isin(items["bill_id"].to_numpy(), b["bill_id"].to_numpy()))
        prep, outcomes = run_partition(b, i, scenarios)
        for sc, out in zip(scenarios, outcomes, strict=True):
            ref_rows = settle_rows(b, i, sc)
            for r, bid in enumerate(prep.cols["bill_id"].tolist()):
                checked += 1
                want = ref_rows[bid]
                if any(int(out.cols[k][r]) != want[k] for k in OUTPUTS):
                    bad += 1
    return checked, bad


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--bills", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--reform", default=str(HERE / "reforms" / "account-pays-own.yaml"))
    ap.add_argument("--partition-bills", type=int, default=250_000)
    ap.add_argument(
        "--check-persons",
        type=int,
        default=150,
        help="person-years per partition re-settled by settle()",
    )
    ap.add_argument("--keep", help="write the dataset here (else a temporary folder)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="yibao-sim-") as tmp:
        root = Path(args.keep or tmp)
        t0 = time.perf_counter()
        m = generate(root, args.bills, 2025, default_tree(), partition_bills=args.partition_bills)
        gen = time.perf_counter() - t0
        print(
            f"generated {m.bills:,} bills, {m.items:,} item lines, {len(m.partitions)} partitions in {gen:.1f} s"
        )
        scenarios = load_scenarios([args.reform])
        cpu0 = os.times()
        t0 = time.perf_counter()
        result = run(root, scenarios, date(2025, 1, 1), date(2025, 12, 31),
                     executor="processes" if args.workers > 1 else "local", workers=args.workers)  # fmt: skip
        wall = time.perf_counter() - t0
        cpu1 = os.times()
        cpu = (
            (cpu1.user - cpu0.user)
            + (cpu1.system - cpu0.system)
            + (cpu1.children_user - cpu0.children_user)
            + (cpu1.children_system - cpu0.children_system)
        )
        n = result.meta["bills"]
        rate = n / wall
        print(f"replayed {n:,} bills × {len(scenarios)} scenarios (baseline + {scenarios[1].id}) "
              f"on {args.workers} worker(s): {wall:.2f} s wall, {rate:,.0f} bills/s, "
              f"CPU {cpu / n * 1e6:.2f} µs per bill ({cpu / n / len(scenarios) * 1e6:.2f} µs per bill per scenario)")  # fmt: skip
        print(
            f"person-years settled rank by rank after a failed closed-form check: {result.meta['sequential_groups']}"
        )
        own, kids = _peak_mib()
        peak = max(own, kids)
        print(f"peak memory: main process {own:.0f} MiB, largest worker {kids:.0f} MiB")
        t0 = time.perf_counter()
        checked, bad = _check(root, scenarios, args.check_persons)
        print(f"checked {checked:,} bills (both scenarios) against the scalar engine settle(): "
              f"{bad} differences ({time.perf_counter() - t0:.1f} s)")  # fmt: skip
        try:
            load = os.getloadavg()
            print(
                f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores (shared machine)"
            )
        except OSError:
            pass
        verdict = "exact" if bad == 0 and checked > 0 else f"NOT exact ({bad} differences)"
        print(f"simulate: {n} bills, {rate:,.0f} bills/s, peak {peak:.0f} MiB, {verdict}")
        sys.exit(0 if bad == 0 else 1)


if __name__ == "__main__":
    main()
