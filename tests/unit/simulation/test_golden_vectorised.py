"""Every golden case (tests/golden/*.yaml) through the vectorised engine, both drivers: the
case's ``expect`` amounts and the scalar engine's whole setlinfo, to the fen."""

from __future__ import annotations

from pathlib import Path

import pytest

from yibao.settlement.case import load_case
from yibao.simulation.cases import case_tables
from yibao.simulation.engine import run_partition
from yibao.simulation.kernel import OUTPUTS

GOLDEN = sorted((Path(__file__).parents[2] / "golden").glob("*.yaml"))


def test_the_golden_cases_are_found() -> None:
    assert len(GOLDEN) >= 15


@pytest.mark.parametrize("mode", ["auto", "sequential"])
@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_case_through_the_vectorised_engine(path: Path, mode: str) -> None:
    case = load_case(path)
    bills, items, opening, scenario = case_tables(case)
    _, (out,) = run_partition(bills, items, [scenario], opening=opening, mode=mode)
    scalar = case.run_all()
    assert len(scalar) == bills.num_rows
    for n, (step, result) in enumerate(zip(case.steps, scalar, strict=True)):
        s = result.setlinfo
        for name in OUTPUTS:
            want = (
                int(s.pool_prop_selfpay * 10_000)
                if name == "pool_prop_selfpay"
                else getattr(s, name)
            )
            assert int(out.cols[name][n]) == want, f"encounter {n + 1} {name}"
        for name, want in step.expect.items():
            assert int(out.cols[name][n]) == want, f"encounter {n + 1} expect.{name}"
