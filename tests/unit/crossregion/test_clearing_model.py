"""Clearing rules (异地清算), pure: amounts, netting, the two-person workflow."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.clearing import model
from yibao.clearing.model import ClearingError, Line, State

A, B = "440100", "441300"


def line(n: int, insured: str, treated: str, amt: int, kind: str = "settle") -> Line:
    return Line(
        f"S{n}", kind, None, "P", "H", insured, treated, "11", "11", date(2026, 10, 1),
        amt * 2, amt, 0, amt, amt,
    )  # fmt: skip


def test_clearing_amount_leaves_out_the_personal_account_line() -> None:
    rows = [
        {"fund_pay_type": "310100", "fund_payamt": 1000},
        {"fund_pay_type": "310200", "fund_payamt": 300},
        {"fund_pay_type": "330100", "fund_payamt": 50},
    ]
    assert model.clearing_amount(rows, 300) == 1350
    with pytest.raises(ClearingError, match="整数分"):
        model.clearing_amount([{"fund_pay_type": "310100", "fund_payamt": 1.5}], 0)


def test_period_and_pair_are_checked() -> None:
    assert model.period_bounds("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    for bad in ("2026-13", "202610", ""):
        with pytest.raises(ClearingError, match="YYYY-MM"):
            model.period_bounds(bad)
    assert model.pair_of(B, A) == (A, B)
    with pytest.raises(ClearingError, match="不能相同"):
        model.pair_of(A, A)
    assert model.statement_id("2026-10", (A, B)) == "CLR-202610-440100-441300"


@settings(max_examples=200)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(-500_000, 2_000_000)), min_size=0, max_size=40)
)
def test_netting_is_fen_exact(rows: list[tuple[bool, int]]) -> None:
    lines = [line(i, A if ab else B, B if ab else A, amt) for i, (ab, amt) in enumerate(rows)]
    t = model.totals((A, B), lines)
    owed_a = sum(amt for ab, amt in rows if ab)
    owed_b = sum(amt for ab, amt in rows if not ab)
    assert t.directions[0].clearing_amt == owed_a and t.directions[1].clearing_amt == owed_b
    assert t.net_amount == abs(owed_a - owed_b)
    if owed_a > owed_b:
        assert (t.payer, t.payee) == (A, B)
    elif owed_b > owed_a:
        assert (t.payer, t.payee) == (B, A)
    else:
        assert t.payer is None
    assert sum(t.by_clr_type.values()) == owed_a + owed_b


def test_foreign_line_is_refused() -> None:
    with pytest.raises(ClearingError, match="不属于"):
        model.totals((A, B), [line(1, A, "440300", 10)])


def test_two_person_workflow() -> None:
    s = model.confirm(State.DRAFT, "zhang")
    with pytest.raises(ClearingError, match="不能与确认人相同"):
        model.approve(s, "zhang", "zhang")
    with pytest.raises(ClearingError, match="尚未确认"):
        model.approve(State.DRAFT, "li", "")
    assert model.approve(s, "li", "zhang") is State.APPROVED
    with pytest.raises(ClearingError, match="不能重复审批"):
        model.approve(State.APPROVED, "wang", "zhang")
    with pytest.raises(ClearingError, match="只有草稿可以确认"):
        model.confirm(State.CONFIRMED, "li")
    with pytest.raises(ClearingError, match="退回须填写原因"):
        model.send_back(State.CONFIRMED, "li", "zhang", " ")
    assert model.send_back(State.CONFIRMED, "li", "zhang", "金额有误") is State.DRAFT
    with pytest.raises(ClearingError, match="已冻结"):
        model.can_rerun(State.CONFIRMED)
