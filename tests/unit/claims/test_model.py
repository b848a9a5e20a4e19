"""零星报销 model (pure): the fee list and invoices to the fen, the two-person rule, time limits,
and the ledger chains balancing."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.claims import model as m

CHINA = timezone(timedelta(hours=8))


def test_fee_list_and_invoices_must_agree_to_the_fen() -> None:
    fees = m.parse_fee_rows([{"feedetl_sn": "1", "med_list_codg": "X", "pric": "12.5", "cnt": "2",
                              "det_item_fee_sumamt": "25.00"}])  # fmt: skip
    inv = m.parse_invoices(
        [{"inv_code": "1", "inv_no": "2", "amount": "25.00", "inv_date": "2026-01-02"}]
    )
    assert m.check_totals(fees, inv) == 2500
    bad = m.parse_invoices(
        [{"inv_code": "1", "inv_no": "2", "amount": "25.01", "inv_date": "2026-01-02"}]
    )
    with pytest.raises(m.ClaimError, match="不符"):
        m.check_totals(fees, bad)
    with pytest.raises(m.ClaimError) as e:
        m.parse_fee_rows([{"feedetl_sn": "1", "med_list_codg": "X", "pric": "1", "cnt": "2",
                           "det_item_fee_sumamt": "3.00"}])  # fmt: skip
    assert e.value.field == "feeList[0].det_item_fee_sumamt"
    with pytest.raises(m.ClaimError):
        m.yuan_to_fen(1.1, "amount")  # floats are refused


def test_review_and_approval_need_two_different_people() -> None:
    wf = m.Workflow(m.SUBMITTED)
    wf = m.step(wf, "accept", "a")
    wf = m.step(wf, "review", "a")
    with pytest.raises(m.ClaimRefused, match="另一名"):
        m.step(wf, "approve", "a")
    wf = m.step(wf, "approve", "b")
    with pytest.raises(m.ClaimRefused):
        m.step(wf, "refuse", "c")  # an approved claim is paid, not refused
    assert m.step(wf, "pay", "a").status == m.PAID


def test_time_limit_counts_days_to_payment() -> None:
    sub = datetime(2026, 1, 1, 10, tzinfo=CHINA)
    assert m.time_limit(sub, 20, date(2026, 1, 15), None).overdue is False
    assert m.time_limit(sub, 20, date(2026, 1, 22), None).overdue is True
    done = m.time_limit(sub, 20, date(2026, 3, 1), datetime(2026, 1, 19, tzinfo=CHINA))
    assert (done.days, done.closed, done.overdue) == (18, True, False)


@given(
    st.dictionaries(
        st.sampled_from(["390100", "390200", "610100", "310100"]), st.integers(0, 10**9)
    )
)
def test_approval_and_payment_chains_balance(funds: dict[str, int]) -> None:
    chain = m.approval_chain("LB1", "P1", "440300", funds, date(2026, 1, 1))
    total = sum(v for v in funds.values() if v > 0)
    assert sum(a for _, a in chain.entries()) == 0 and chain.total == total
    pay = m.payment_chain("LB1", "P1", "440300", total, date(2026, 1, 2))
    owed = sum(a for code, a in chain.entries() + pay.entries() if code == "RMB:P1")
    assert owed == 0
