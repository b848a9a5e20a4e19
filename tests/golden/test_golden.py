"""Golden cases (YAML, readable by a policy officer): each file's ``expect`` must hold to the fen.

Runs every ``tests/golden/*.yaml`` (EX1/EX3/EX4/EX9 link to ``cases/``) through the real path:
case file → shipped policy (+ the case's overrides) → ``settle``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from yibao.settlement.case import check_expectations, load_case

HERE = Path(__file__).parent
CASES = sorted(HERE.glob("*.yaml"))


def test_reference_examples_are_present() -> None:
    names = {p.stem for p in CASES}
    assert {"ex1", "ex3", "ex4", "ex9"} <= names


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_case(path: Path) -> None:
    case = load_case(path)
    results = case.run_all()  # one result per encounter, accumulators carried through the year
    assert len(results) == len(case.steps)
    for n, (step, result) in enumerate(zip(case.steps, results, strict=True), 1):
        assert step.expect or step.expect_funds, f"{path.name} encounter {n} has no expectations"
        assert check_expectations(step, result) == [], f"encounter {n}"
        s = result.setlinfo
        in_parts = s.fulamt_ownpay_amt + s.overlmt_selfpay + s.preselfpay_amt + s.inscp_scp_amt
        assert s.medfee_sumamt == in_parts
        assert s.medfee_sumamt == s.fund_pay_sumamt + s.psn_part_amt + s.hosp_part_amt
        assert s.psn_part_amt == s.acct_pay + s.psn_cash_pay
