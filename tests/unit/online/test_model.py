"""Online rules: the split identity, refunds (never more than was paid), prescription states,
reconciliation differences."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.online.model import (
    PAID,
    OnlineError,
    OrdStas,
    RefundPlan,
    Split,
    compare,
    plan_refund,
    require_fillable,
    rx_status,
    vali_end,
)


def split(fund: int, acct: int, cash: int) -> Split:
    return Split(fund + acct + cash, fund, acct, cash)


def test_the_identity_is_checked() -> None:
    with pytest.raises(OnlineError, match="恒等式"):
        Split(100, 50, 20, 20)


def test_refund_kinds() -> None:
    s = split(700, 100, 200)
    assert plan_refund(OrdStas.DONE, s, 0, "ALL", 200) == RefundPlan(True, 200, OrdStas.REFUNDED)
    assert plan_refund(OrdStas.DONE, s, 0, "HI", 0).after == OrdStas.HI_REFUNDED
    assert plan_refund(OrdStas.DONE, s, 0, "CASH", 50).after == OrdStas.CASH_PART_REFUNDED
    assert plan_refund(OrdStas.DONE, s, 0, "CASH", 200).after == OrdStas.CASH_REFUNDED
    assert plan_refund(OrdStas.HI_REFUNDED, s, 0, "CASH", 200).after == OrdStas.REFUNDED
    with pytest.raises(OnlineError, match="cashRefdAmt"):
        plan_refund(OrdStas.DONE, s, 0, "ALL", 199)
    with pytest.raises(OnlineError, match="不可退"):
        plan_refund(OrdStas.PRICED, s, 0, "HI", 0)
    with pytest.raises(OnlineError, match="refdType"):
        plan_refund(OrdStas.DONE, s, 0, "SOME", 0)


@given(
    st.integers(0, 10**6), st.integers(0, 10**5), st.integers(0, 10**6),
    st.lists(st.integers(1, 10**6), max_size=6),
)  # fmt: skip
def test_cash_refunds_never_exceed_what_was_paid(
    fund: int, acct: int, cash: int, asks: list[int]
) -> None:
    s, stas, back = split(fund, acct, cash), OrdStas.DONE, 0
    for ask in asks:
        try:
            plan = plan_refund(stas, s, back, "CASH", ask)
        except OnlineError:
            assert ask > cash - back or stas not in PAID | {OrdStas.CASH_PART_REFUNDED}
            continue
        back += plan.cash
        stas = plan.after
        assert not plan.hi and 0 < plan.cash <= cash
    assert 0 <= back <= cash
    assert (stas == OrdStas.CASH_REFUNDED) == (back == cash and cash > 0 and bool(asks))


def test_prescription_expiry_and_single_fill() -> None:
    t = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    end = vali_end(t, 3)
    assert end == t + timedelta(days=3)
    assert rx_status("1", end, end - timedelta(seconds=1)) == "1"
    assert rx_status("1", end, end) == "2"
    assert rx_status("3", end, t) == "3"
    require_fillable("1", "1", end, t)
    for stas, used, now, msg in (
        ("1", "1", end, "已失效"),
        ("3", "1", t, "已撤销"),
        ("1", "2", t, "已使用"),
    ):
        with pytest.raises(OnlineError, match=msg):
            require_fillable(stas, used, end, now)
    with pytest.raises(OnlineError, match="valiDays"):
        vali_end(t, 0)


def test_compare_lists_every_kind_of_difference() -> None:
    diffs = compare(
        date(2026, 1, 1),
        {"A": (800, 200), "B": (0, 100), "C": (500, 0)},
        {"A": 800, "C": 400, "X": 10},
        {"A": 200, "B": 90, "Y": 5},
    )
    assert [(d.key, d.kind) for d in diffs] == [
        ("B", "order-provider"), ("C", "order-settlement"), ("X", "orphan-settlement"),
        ("Y", "orphan-provider"),
    ]  # fmt: skip
    assert compare(date(2026, 1, 1), {"A": (1, 2)}, {"A": 1}, {"A": 2}) == []
