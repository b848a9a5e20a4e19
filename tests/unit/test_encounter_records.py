"""Fee line checks, settlement mirrors and reconciliation comparisons (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.encounter.amounts import (
    AMOUNT_FIELDS,
    add_counters,
    amounts_of,
    check_identities,
    negate_setldetail,
    negate_setlinfo,
)
from yibao.encounter.fees import FeeLine, LineSplit, check_lines
from yibao.encounter.model import EncounterError
from yibao.encounter.reconcile import (
    DetailRow,
    Totals,
    compare_details,
    compare_totals,
    totals_of,
)


def line(sn: str, amount: int = 1000) -> FeeLine:
    return FeeLine(sn, "X01", "H-X01", amount, Decimal(1), Decimal(amount) / 100, "B1")


def split(sn: str, inscp: int = 1000, own: int = 0) -> LineSplit:
    return LineSplit(sn, "01", "09", own, 0, 0, inscp)


def test_check_lines_accepts_a_consistent_split() -> None:
    assert set(check_lines([line("1"), line("2")], [split("1"), split("2", 600, 400)])) == {
        "1",
        "2",
    }


@pytest.mark.parametrize(
    ("lines", "splits", "message"),
    [
        ([], [], "不能为空"),
        ([line("1"), line("1")], [split("1")], "重复"),
        ([line("1")], [split("2")], "不一致"),
        ([line("1")], [split("1", 999)], "≠ 明细项目费用总额"),
        ([line("1", -5)], [split("1", -5)], "不能为负"),
        ([line("")], [split("")], "feedetl_sn"),
    ],
)
def test_check_lines_refuses(lines: list[FeeLine], splits: list[LineSplit], message: str) -> None:
    with pytest.raises(EncounterError, match=message):
        check_lines(lines, splits)


def test_inpatient_refund_line_may_be_negative() -> None:
    check_lines([line("1", -500)], [split("1", -500)], allow_negative=True)


def setlinfo(**kw: int) -> dict[str, object]:
    base = dict.fromkeys(AMOUNT_FIELDS, 0)
    base.update(
        medfee_sumamt=10_000,
        inscp_scp_amt=10_000,
        hifp_pay=7_000,
        fund_pay_sumamt=7_000,
        psn_part_amt=3_000,
        acct_pay=1_000,
        psn_cash_pay=2_000,
    )
    base.update(kw)
    return {**base, "balc": 50_000, "psn_no": "P1", "pool_prop_selfpay": "0.7"}


def test_identities() -> None:
    check_identities(amounts_of(setlinfo()))
    with pytest.raises(EncounterError, match="个人负担总金额"):
        check_identities(amounts_of(setlinfo(psn_cash_pay=1_999)))
    with pytest.raises(EncounterError, match="全自费"):
        check_identities(amounts_of(setlinfo(inscp_scp_amt=9_000)))
    with pytest.raises(EncounterError, match="整数分"):
        amounts_of({"medfee_sumamt": 1.5})


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(AMOUNT_FIELDS), st.integers(-(10**9), 10**9)))
def test_negation_is_exact(values: dict[str, int]) -> None:
    info = {**values, "psn_no": "P1"}
    neg = negate_setlinfo(info)
    assert all(neg[k] == -info.get(k, 0) for k in AMOUNT_FIELDS)
    assert neg["psn_no"] == "P1"
    assert negate_setlinfo(neg) == {**dict.fromkeys(AMOUNT_FIELDS, 0), **info}


def test_cancellation_refunds_the_account_balance_and_fund_lines() -> None:
    neg = negate_setlinfo(setlinfo(acct_mulaid_pay=200))
    assert neg["balc"] == 50_000 + 1_000 - 200
    assert neg["pool_prop_selfpay"] == "0.7"
    rows = negate_setldetail(
        [{"fund_pay_type": "310100", "fund_payamt": 7_000, "inscp_scp_amt": 1}]
    )
    assert rows == [{"fund_pay_type": "310100", "fund_payamt": -7_000, "inscp_scp_amt": -1}]


def test_counters_add_and_subtract() -> None:
    c = add_counters({"dedc": 100}, {"dedc": 50, "visits": 1})
    assert c == {"dedc": 150, "visits": 1}
    assert add_counters(c, {"dedc": 50, "visits": 1}, -1) == {"dedc": 100, "visits": 0}
    with pytest.raises(EncounterError, match="整数"):
        add_counters({}, {"dedc": 1.0})  # type: ignore[dict-item]


def test_compare_totals() -> None:
    t = Totals(10_000, 7_000, 1_000, 2)
    assert compare_totals("440100", t, t).stmt_rslt == "0"
    bad = compare_totals("440100", t, Totals(10_001, 7_000, 1_000, 3))
    assert bad.stmt_rslt == "1"
    assert "医疗费总额：中心 100.00，医药机构 100.01" in bad.stmt_rslt_dscr
    assert "结算笔数：中心 2，医药机构 3" in bad.stmt_rslt_dscr


def test_compare_details() -> None:
    a = DetailRow("S1", "M1", "P1", 10_000, 7_000, 1_000, "0", "msg1")
    b = DetailRow("S2", "M1", "P1", -10_000, -7_000, -1_000, "1", "msg2")
    c = DetailRow("S3", "M2", "P2", 500, 0, 0, "0", "msg3")
    theirs = [
        a,
        DetailRow("S2", "M1", "P1", -10_000, -7_000, -999, "1"),
        DetailRow("S9", "M9", "P9", 1, 0, 0, "0"),
    ]
    res = {r.setl_id: r for r in compare_details([a, b, c], theirs)}
    assert res["S1"].stmt_rslt == "0" and res["S1"].msgid == "msg1"
    assert res["S2"].stmt_rslt == "3" and "个人账户支出不一致" in res["S2"].memo
    assert res["S3"].stmt_rslt == "1" and res["S3"].msgid == "msg3"
    assert res["S9"].stmt_rslt == "2" and res["S9"].msgid == ""
    assert totals_of([a, b]) == Totals(0, 0, 0, 2)
