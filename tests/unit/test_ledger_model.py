"""Fund ledger model (基金账务): the pure posting builder."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.ledger.model import (
    LedgerError,
    SettlementPosting,
    build_settlement_chain,
    entry_sum,
    mirror_chain,
    posting_from_setlinfo,
)

FPTS = ["310100", "390100", "390200", "330100", "320100", "610100", "370100"]
REGIONS = ["440100", "441300", "440300", "421181"]
DAY = date(2026, 11, 22)


def posting(**kw: object) -> SettlementPosting:
    base: dict[str, object] = {
        "setl_id": "S1",
        "msgid": "M1",
        "fixmedins_code": "H44010100001",
        "insuplc_admdvs": "440100",
        "mdtrtarea_admvs": "440100",
        "insutype": "310",
        "value_date": DAY,
        "fund_lines": [("310100", 12_000), ("330100", 3_000)],
        "acct_pay": 500,
        "psn_no": "P1",
    }
    base.update(kw)
    return SettlementPosting(**base)  # type: ignore[arg-type]


postings = st.builds(
    posting,
    insuplc_admdvs=st.sampled_from(REGIONS),
    mdtrtarea_admvs=st.sampled_from(REGIONS),
    fund_lines=st.lists(
        st.tuples(st.sampled_from(FPTS), st.integers(0, 10**9)),
        max_size=5,
        unique_by=lambda t: t[0],
    ),
    acct_pay=st.integers(0, 10**7),
    psn_cash_pay=st.integers(0, 10**7),
)


@settings(max_examples=150, deadline=None)
@given(postings)
def test_settlement_chain_sums_to_zero_and_moves_every_fen(p: SettlementPosting) -> None:
    chain = build_settlement_chain(p)
    assert entry_sum(chain.entries()) == 0
    paid = sum(a for _, a in p.fund_lines) + p.acct_pay
    to_institution = sum(t.amount for t in chain.transfers if t.credit.code.startswith("PAY:"))
    assert to_institution == paid
    assert all(t.amount > 0 for t in chain.transfers)
    assert len({t.id for t in chain.transfers}) == len(chain.transfers)


@settings(max_examples=150, deadline=None)
@given(postings)
def test_mirror_negates_exactly(p: SettlementPosting) -> None:
    chain = build_settlement_chain(p)
    m = mirror_chain(chain, chain_id="setl:R1", setl_id="R1", msgid="M2", value_date=DAY)
    combined = {}
    for code, amount in chain.entries() + m.entries():
        combined[code] = combined.get(code, 0) + amount
    assert all(v == 0 for v in combined.values())
    assert [t.reverses for t in m.transfers] == [t.id for t in chain.transfers]
    assert entry_sum(m.entries()) == 0
    assert m.total == chain.total


def test_local_settlement_pays_the_institution_from_each_fund() -> None:
    chain = build_settlement_chain(posting())
    got = [(t.debit.code, t.credit.code, t.amount) for t in chain.transfers]
    assert got == [
        ("FUND:440100:310100", "PAY:H44010100001", 12_000),
        ("FUND:440100:330100", "PAY:H44010100001", 3_000),
        ("ACCT:P1", "PAY:H44010100001", 500),
    ]


def test_cross_region_advance_goes_through_clearing_accounts() -> None:
    chain = build_settlement_chain(posting(insuplc_admdvs="441300", fund_lines=[("310100", 100)]))
    got = [(t.debit.code, t.credit.code, t.amount, t.code) for t in chain.transfers]
    assert got == [
        ("FUND:441300:310100", "CLR:441300:440100", 100, "fund_pay"),
        ("CLR:440100:441300", "PAY:H44010100001", 100, "advance"),
        ("ACCT:P1", "CLR:441300:440100", 500, "acct_pay"),
        ("CLR:440100:441300", "PAY:H44010100001", 500, "advance"),
    ]


def test_mutual_aid_part_comes_from_the_helper_or_the_pool() -> None:
    chain = build_settlement_chain(posting(acct_pay=500, acct_mulaid_pay=200))
    debits = {t.debit.code: t.amount for t in chain.transfers if t.code.startswith("acct")}
    assert debits == {"ACCT:P1": 300, "MULAID:440100": 200}
    chain2 = build_settlement_chain(posting(acct_pay=500, acct_mulaid_pay=500, mulaid_psn_no="P2"))
    assert [t.debit.code for t in chain2.transfers if t.code == "acct_mulaid_pay"] == ["ACCT:P2"]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"fund_lines": [("310100", -1)]}, "≥ 0"),
        ({"fund_lines": [("310100", 1), ("310100", 2)]}, "twice"),
        ({"fund_lines": [("3101", 1)]}, "fund_pay_type"),
        ({"insuplc_admdvs": "44"}, "insuplc_admdvs"),
        ({"acct_pay": 100, "acct_mulaid_pay": 200}, "acct_mulaid_pay"),
        ({"acct_pay": 100, "psn_no": ""}, "psn_no"),
        ({"fund_lines": [("310100", 1.5)]}, "integer fen"),
        ({"setl_id": ""}, "setl_id"),
    ],
)
def test_bad_postings_are_refused_with_the_field(kw: dict[str, object], message: str) -> None:
    with pytest.raises(LedgerError, match=message):
        build_settlement_chain(posting(**kw))


def test_account_lines_in_setldetail_are_not_double_counted() -> None:
    p = posting_from_setlinfo(
        {"setl_id": "S9", "insutype": "310", "psn_no": "P1", "acct_pay": 700, "psn_cash_pay": 5},
        [
            {"fund_pay_type": "310100", "fund_payamt": 1000},
            {"fund_pay_type": "310200", "fund_payamt": 700},
        ],
        msgid="M",
        fixmedins_code="H1",
        insuplc_admdvs="440100",
        mdtrtarea_admvs="440100",
        value_date=DAY,
    )
    chain = build_settlement_chain(p)
    assert chain.total == 1700
    assert chain.memo["psn_cash_pay"] == 5


def test_fingerprint_tells_retry_from_conflict() -> None:
    a = build_settlement_chain(posting())
    assert a.fingerprint() == build_settlement_chain(posting()).fingerprint()
    assert a.fingerprint() != build_settlement_chain(posting(acct_pay=501)).fingerprint()


def test_a_reversal_cannot_be_mirrored_again() -> None:
    m = mirror_chain(
        build_settlement_chain(posting()), chain_id="setl:R", setl_id="R", msgid="", value_date=DAY
    )
    with pytest.raises(LedgerError, match="reversal"):
        mirror_chain(m, chain_id="setl:RR", setl_id="RR", msgid="", value_date=DAY)
