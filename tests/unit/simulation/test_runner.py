"""Runs: incremental reforms and chunks change nothing; results add up; the projection formula."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

from yibao.policy.loader import default_tree
from yibao.simulation.aggregate import merge, summarise
from yibao.simulation.dataset import Manifest, partitions, read_partition
from yibao.simulation.engine import run_partition
from yibao.simulation.kernel import OUTPUTS
from yibao.simulation.projection import months_payable, project
from yibao.simulation.replay import chunks
from yibao.simulation.runner import load_scenarios, run, simulation_dir
from yibao.simulation.synthetic import generate

REFORMS = sorted((simulation_dir() / "reforms").glob("*.yaml"))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real")
    generate(root, 60_000, 2025, default_tree(), seed=3, partition_bills=12_000)
    return root


def test_a_reform_settled_incrementally_equals_settling_everything(dataset: Path) -> None:
    base, *reforms = load_scenarios(REFORMS)
    for ref in partitions(dataset):
        bills, items = read_partition(dataset, ref)
        _, outs = run_partition(bills, items, [base, *reforms])
        for i, sc in enumerate(reforms, 1):
            _, (alone,) = run_partition(bills, items, [sc])  # first scenario: every bill settled
            for name in OUTPUTS:
                assert np.array_equal(outs[i].cols[name], alone.cols[name]), (sc.id, name)


def test_chunks_of_whole_person_years_give_the_same_sums(dataset: Path) -> None:
    scenarios = load_scenarios(REFORMS[:1])
    ref = max(partitions(dataset), key=lambda p: p.bills)
    bills, items = read_partition(dataset, ref)
    whole = summarise(*run_partition(bills, items, scenarios), 0, 10**6)
    pieces = list(chunks(bills, items, size=1_000))
    assert len(pieces) > 5 and sum(b.num_rows for b, _ in pieces) == bills.num_rows
    parts = [summarise(*run_partition(b, i, scenarios), 0, 10**6) for b, i in pieces]
    merged = merge(parts)
    one = merge([whole])
    assert merged.cells.equals(one.cells) and merged.months.equals(one.months)
    assert merged.distribution.equals(one.distribution)


def test_a_run_reports_changes_against_the_baseline(dataset: Path) -> None:
    scenarios = load_scenarios(REFORMS)
    result = run(dataset, scenarios, date(2025, 1, 1), date(2025, 12, 31))
    cells = result.merged.cells
    total = {
        sc.id: {k: pc.sum(cells.filter(pc.equal(cells["scenario"], sc.id))[k]).as_py()
                for k in ("bills", "hifp_pay", "psn_part_amt", "bills_changed", "fund_pay_sumamt", "medfee_sumamt")}
        for sc in scenarios
    }  # fmt: skip
    assert total["baseline"]["bills"] == Manifest.read(dataset).bills == result.meta["bills"]
    assert total["baseline"]["bills_changed"] == 0
    dedc = total["gz-employee-dedc"]
    assert dedc["bills_changed"] > 0 and dedc["hifp_pay"] > total["baseline"]["hifp_pay"]
    assert dedc["psn_part_amt"] < total["baseline"]["psn_part_amt"]
    assert total["no-relief-2020"]["bills_changed"] == 0  # fund side only
    for t in total.values():  # the bills do not change, only who pays them
        assert t["medfee_sumamt"] == total["baseline"]["medfee_sumamt"]
        assert t["fund_pay_sumamt"] + t["psn_part_amt"] == t["medfee_sumamt"]
    # the gz reform only touches 广州 employees' cells
    changed = cells.filter(pc.greater(cells["bills_changed"], 0)).to_pylist()
    assert {
        (c["scenario"], c["admdvs"]) for c in changed if c["scenario"] == "gz-employee-dedc"
    } == {("gz-employee-dedc", "440100")}
    assert all(c["insutype"] == "310" for c in changed if c["scenario"] == "gz-employee-dedc")
    dist = result.merged.distribution.filter(
        pc.equal(result.merged.distribution["scenario"], "gz-employee-dedc")
    )
    by_label = {r["label"]: r["persons"] for r in dist.to_pylist()}
    assert sum(v for k, v in by_label.items() if k.startswith("减少")) > 0
    assert sum(v for k, v in by_label.items() if k.startswith("增加")) == 0


def test_months_payable_is_balance_over_a_month_of_spending() -> None:
    # EX11: 13000亿 / (7000亿 / 12) = 22.3 months (国家医保局, 2020-02-20)
    yi = 100_000_000 * 100
    assert months_payable(13_000 * yi, 7_000 * yi) == Decimal("22.3")
    assert months_payable(5, 0) == Decimal("0.0")


class _Income:
    def __init__(self, monthly: int) -> None:
        self.monthly = monthly

    def monthly_income(self, admdvs: str, scheme: str, month: date) -> int:
        return self.monthly

    def value(self, admdvs: str, key: str, on: date) -> int:
        return {"funds.growth.spending": 0, "funds.employee.opening_months": 1200}[key]


def test_projection_balance_moves_by_income_minus_spending() -> None:
    profile = {("440300", "employee"): {m: 100 for m in range(1, 13)}}
    rows = project(
        "s", profile, 2025, {("440300", "employee"): Fraction(3)}, _Income(330), date(2025, 1, 1), 1
    )
    assert len(rows) == 12
    assert rows[0].balance == 12 * 300 + 330 - 300  # opening 12 months of 300 a month
    assert rows[-1].balance == 12 * 300 + 12 * 30
    assert rows[-1].months_payable == Decimal("13.2")


def test_income_takes_rates_and_the_2020_relief_from_the_policy_files() -> None:
    from yibao.simulation.income import AssumedIncome, load_fund_tree

    inc = AssumedIncome(load_fund_tree(simulation_dir() / "funds"), default_tree(), 2020)
    jan = inc.monthly_income("440300", "employee", date(2020, 1, 1))
    mar = inc.monthly_income("440300", "employee", date(2020, 3, 1))
    jul = inc.monthly_income("440300", "employee", date(2020, 7, 1))
    # 粤医保函〔2020〕62号: 6 % → 3 % for the eligible 85 % of the base (policies/guangdong/440000.yaml)
    assert Fraction(mar, jan) == Fraction(600 * 15 + 300 * 85, 600 * 100)
    assert jul == jan
    res = inc.monthly_income("441300", "resident", date(2021, 6, 1))
    # 惠州 2021: (320 personal + 583 subsidy − 60 大病) × 2.5 million insured ÷ 12, grown 0.44 %
    assert res == round((320 + 583 - 60) * 100 * 2_500_000 * Fraction(10_044, 10_000) / 12)
