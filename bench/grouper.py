"""Grouper benchmark: cases grouped per second on one core (DRG and DIP), aim ≥ 20,000/s.

    .venv/bin/python bench/grouper.py [--cases 20000] [--rounds 5]

Builds a deterministic mix of cases from the shipped tables (``grouper/``): principal diagnoses
drawn from the subset's MDC tables (and some outside them), 0–4 other diagnoses (some CC/MCC,
some excluded by their 排除表), a main procedure for a share of cases, newborns with weights.
Each round groups every case once; prints cases/s and CPU µs per case for the mean and the best
round (the machine is shared: the best round is the least disturbed). Table loading is timed
apart. Single thread, one process.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date

from yibao.payment import tables
from yibao.payment.model import dip, drg
from yibao.payment.model.case import GroupCase, Status


def make_cases(t: drg.DrgTables, n: int, seed: int = 7) -> list[GroupCase]:
    rng = random.Random(seed)
    principals = sorted(t.dx_mdcs)
    outside = ["E11.900", "K80.100", "C34.900", "S72.000"]
    procs = sorted(
        {c for (_, name), codes in t.lists.items() if name == "main_proc" for c in codes}
    )
    cc_codes = sorted(t.cc)
    cases = []
    for _ in range(n):
        dx = rng.choice(outside) if rng.random() < 0.05 else rng.choice(principals)
        others = tuple(
            rng.choice(cc_codes) if rng.random() < 0.4 else rng.choice(principals)
            for _ in range(rng.randrange(5))
        )
        newborn = dx.startswith("P")
        cases.append(
            GroupCase(
                principal_dx=dx,
                other_dx=others,
                main_proc=rng.choice(procs) if rng.random() < 0.3 else "",
                sex=rng.choice("12"),
                age_years=0 if newborn else rng.randrange(1, 90),
                age_days=rng.randrange(28) if newborn else None,
                weight_g=rng.randrange(900, 4200) if newborn else None,
                stay_days=rng.randrange(1, 20),
            )
        )
    return cases


def make_dip_cases(t: dip.DipTables, n: int, seed: int = 7) -> list[GroupCase]:
    """Cases around the DIP catalogue: its diagnosis keys (and neighbours), procedures that count
    or not, so core, comprehensive and ungrouped cases all occur."""
    rng = random.Random(seed)
    keys = sorted({g.dx_key for g in t.groups.values()})
    procs = [p + "01" for p, _ in t.proc_types] + ["99.0401", "88.3801"]
    cases = []
    for _ in range(n):
        key = rng.choice(keys)
        dx = (
            key + rng.choice(("00", "01", "x02"))
            if len(key) == 5
            else key + rng.choice((".000", ".100", ".900"))
        )
        chosen = tuple(rng.sample(procs, rng.randrange(3)))
        cases.append(
            GroupCase(dx, (), chosen[0] if chosen else "", chosen[1:], rng.choice("12"), 50)
        )
    return cases


def _bench(label: str, fn: object, cases: list[GroupCase], rounds: int) -> None:
    group = fn  # a bound grouping function: case -> result
    assert callable(group)
    rates, cpu_us = [], []
    statuses: dict[Status, int] = {}
    for r in range(rounds):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for c in cases:
            res = group(c)
            if r == 0:
                statuses[res.status] = statuses.get(res.status, 0) + 1
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        rates.append(len(cases) / wall)
        cpu_us.append(cpu / len(cases) * 1e6)
    mean = sum(rates) / len(rates)
    print(
        f"{label}: {len(cases):,} cases × {rounds} rounds — mean {mean:,.0f} cases/s, "
        f"best {max(rates):,.0f} cases/s; CPU {min(cpu_us):.1f} µs/case (best round)"
    )
    print("   statuses: " + ", ".join(f"{s.label} {n}" for s, n in sorted(statuses.items())))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    t0 = time.perf_counter()
    lib = tables.load_library()
    print(f"tables loaded in {(time.perf_counter() - t0) * 1000:.0f} ms ({len(lib.sets)} sets)")
    day = date(2025, 6, 1)
    drg_t = lib.find("drg", "441481", day)
    dip_t = lib.find("dip", "440300", day)
    assert isinstance(drg_t, drg.DrgTables) and isinstance(dip_t, dip.DipTables)
    cases = make_cases(drg_t, args.cases)
    _bench("DRG (CHS-DRG 1.1 subset, 441481)", lambda c: drg.group(drg_t, c), cases, args.rounds)
    dip_cases = make_dip_cases(dip_t, args.cases)
    _bench("DIP (subset, 440300)", lambda c: dip.group(dip_t, c), dip_cases, args.rounds)
    print("one core, one thread; figures from a shared 2-core machine vary with its load")


if __name__ == "__main__":
    main()
