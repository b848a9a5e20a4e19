"""Contribution arithmetic (缴费计算) over fen: bases, rates, relief, account credits, late fees."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from yibao.funds.model import (
    EmployeeRules,
    ResidentRules,
    add_months,
    due_date,
    employee_contribution,
    late_fee,
    parse_period,
    resident_contribution,
)

# 深圳 一档 2014 (kaizencpa.com [C]): 6 % / 2 %, base 2,951–14,754; after 2022-12 the account gets 2 %
SZ = EmployeeRules(
    employer_rate=600, employee_rate=200, base_floor=295_100, base_ceiling=1_475_400, due_day=26,
    large_amount_rate=20, account_employer_share=0, account_cap_rate=200,
    relief_rate=300, relief_unit_types=("10", "40", "50", "60"),
)  # fmt: skip


def test_guangzhou_2020_band_clamps_the_base() -> None:
    gz = EmployeeRules(employer_rate=550, employee_rate=200, base_floor=617_500,
                       base_ceiling=3_087_600, due_day=26, large_amount_monthly=2_676)  # fmt: skip
    low = employee_contribution(gz, 300_000)
    assert low.base == 617_500 and low.employer == 33_963  # 6175 × 5.5 % = 339.625 → 339.63
    high = employee_contribution(gz, 9_000_000)
    assert high.base == 3_087_600 and high.employee == 61_752
    assert low.large_amount == 2_676  # 重大疾病医疗补助 26.76 元/人·月


def test_relief_halves_the_employer_part_only() -> None:
    full = employee_contribution(SZ, 800_000)
    half = employee_contribution(SZ, 800_000, relief_rate=SZ.relief_for("10"))
    assert (full.employer, half.employer) == (48_000, 24_000)
    assert full.employee == half.employee == 16_000 and half.relief
    assert SZ.relief_for("20") is None  # 机关事业单位 are not relieved (62号)


def test_account_after_the_reform_is_the_employee_part() -> None:
    c = employee_contribution(SZ, 800_000)
    assert c.account == 16_000 and c.pooled == 48_000  # 单位缴费全部进入统筹
    before = EmployeeRules(employer_rate=600, employee_rate=200, base_floor=0,
                           base_ceiling=10**9, due_day=26, account_employer_share=3_000)  # fmt: skip
    assert employee_contribution(before, 800_000).account == 16_000 + 14_400  # + 30 % of 480


def test_flexible_worker_pays_both_parts_and_no_relief() -> None:
    c = employee_contribution(SZ, 600_000, flexible=True, relief_rate=300)
    assert (c.employer, c.employee, c.relief) == (36_000, 12_000, False)


@given(
    base=st.integers(min_value=0, max_value=10**8),
    er=st.integers(min_value=0, max_value=1_200),
    ee=st.integers(min_value=0, max_value=400),
    er_share=st.integers(min_value=0, max_value=10_000),
    cap=st.one_of(st.none(), st.integers(min_value=0, max_value=1_000)),
)
def test_pooled_plus_account_is_what_was_paid(
    base: int, er: int, ee: int, er_share: int, cap: int | None
) -> None:
    rules = EmployeeRules(employer_rate=er, employee_rate=ee, base_floor=0, base_ceiling=10**8,
                          due_day=26, account_employer_share=er_share, account_cap_rate=cap)  # fmt: skip
    c = employee_contribution(rules, base)
    assert c.pooled + c.account == c.employer + c.employee
    assert 0 <= c.account <= c.employer + c.employee and c.pooled >= 0


def test_late_fee_is_0_05_percent_a_day_after_the_due_date() -> None:
    due = date(2026, 8, 26)
    assert late_fee(1_000_000, due, due, 5) == 0
    assert late_fee(1_000_000, due, date(2026, 9, 5), 5) == 5_000  # 10 days × 0.05 % of 10,000
    assert late_fee(333, due, date(2026, 8, 27), 5) == 0  # 0.1665 fen → 0
    assert late_fee(1_000, due, date(2026, 8, 27), 5) == 1  # 0.5 fen → 1 (half up)


def test_periods_and_due_dates() -> None:
    assert parse_period("2026-02") == date(2026, 2, 1)
    assert due_date(date(2026, 2, 1), 30) == date(2026, 2, 28)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


RES = ResidentRules(personal=40_000, subsidy=70_000, serious=6_000, collection_start_month=9,
                    collection_end_month=12,
                    assistance_share={"tekun": 10_000, "dibao": 10_000, "dibao_edge": 5_000,
                                      "default": 0},
                    assistance_fixed={"monitored": 15_000, "default": None})  # fmt: skip


def test_assistance_by_class_full_share_or_fixed_and_the_best_wins() -> None:
    assert resident_contribution(RES).own == 40_000
    dibao = resident_contribution(RES, ("dibao",))
    assert (dibao.assisted, dibao.own, dibao.assist_class) == (40_000, 0, "dibao")
    edge = resident_contribution(RES, ("near_dibao",))  # registry key → policy class dibao_edge
    assert (edge.assisted, edge.own) == (20_000, 20_000)
    both = resident_contribution(RES, ("monitored", "near_dibao"))
    assert (both.assisted, both.assist_class) == (20_000, "dibao_edge")  # 200 > fixed 150
    assert RES.collection_end(2026) == date(2025, 12, 31)
