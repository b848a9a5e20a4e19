"""Arithmetic of payment reform, property-tested: case payments, the institution's year-end split,
the 医共体 rule, ledger chains and the 特例单议 cap and decision."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.ledger.model import entry_sum
from yibao.payment.model import community, pay, postings, settle, special

FEN = st.integers(min_value=0, max_value=10**10)
UNITS = st.integers(min_value=1, max_value=50_000)
DEDUCT = ("psn_part_amt", "hifmi_pay")


@settings(max_examples=300, deadline=None)
@given(
    medfee=st.integers(1, 10**8),
    hifp=FEN,
    psn=FEN,
    weight=st.decimals("0.0100", "20.0000", places=4),
    rate=st.decimals("1.0000", "30000.0000", places=4),
    stay=st.integers(0, 90),
    method=st.sampled_from(("drg", "dip")),
    avg=st.integers(0, 10**7),
)
def test_case_payment_properties(
    medfee: int,
    hifp: int,
    psn: int,
    weight: Decimal,
    rate: Decimal,
    stay: int,
    method: str,
    avg: int,
) -> None:
    p = pay.PayParams(method, 10_000, 20_000, 4_000, deductions=DEDUCT)
    f = pay.CaseFacts("s", medfee, hifp, stay, {"psn_part_amt": psn, "hifp_pay": hifp})
    v = pay.value_case(
        p, f, pay.Grouping(True, "X", "", weight, avg), unit_value=rate, classify_value=rate
    )
    assert v.fund_due >= 0 and v.adjustment == v.fund_due - hifp
    assert v.trace and all(isinstance(t.amount, int) for t in v.trace)
    if v.mode == "excluded":
        assert v.fund_due == hifp and v.units == 0
    elif v.by_item:
        assert v.value == v.by_item == medfee and v.units == 0
    else:
        assert v.value == pay.fen_of(v.units, rate)
        assert v.fund_due == max(0, v.value - psn)
    if 2 < stay < 60 and method == "drg" and v.mode == "group":
        standard = pay.fen_of(weight, rate)
        assert standard * 4_000 <= medfee * 10_000 <= standard * 20_000


@settings(max_examples=300, deadline=None)
@given(
    final=st.integers(-(10**8), 10**9),
    advanced=FEN,
    held=st.integers(0, 10**8),
    ratio=st.integers(0, 10_000),
)
def test_year_end_split_identity(final: int, advanced: int, held: int, ratio: int) -> None:
    r = settle.settle(final, advanced, held, ratio)
    assert r.advanced + r.released + r.forfeited + r.final_payment - r.receivable == final
    assert r.released + r.forfeited + r.offset == held  # the deposit is fully disposed of
    assert min(r.released, r.forfeited, r.offset, r.final_payment, r.receivable) >= 0
    assert r.released <= (held * ratio + 5_000) // 10_000


BANDS = [community.Band(500, 7_000), community.Band(1_000, 5_000), community.Band(None, 0)]


@settings(max_examples=300, deadline=None)
@given(
    budget=st.integers(1, 10**11),
    spending=st.integers(0, 3 * 10**11),
    share=UNITS.map(lambda u: u % 10_001),
    cap=UNITS.map(lambda u: u % 10_001),
)
def test_community_rule_properties(budget: int, spending: int, share: int, cap: int) -> None:
    r = community.year_end(budget, spending, retain_share=share, retain_cap=cap, bands=BANDS)
    if spending <= budget:
        assert r.final == spending + r.retained and r.retained <= budget - spending
        assert r.retained <= (budget * cap + 5_000) // 10_000
    else:
        assert r.fund_overrun + r.community_overrun == spending - budget
        assert sum(p.part for p in r.parts) <= spending - budget
        assert r.final == budget + r.fund_overrun <= spending
    assert sum(community.monthly_allocation(budget, m) for m in range(1, 13)) == budget


def test_community_guards_and_budget_rules() -> None:
    with pytest.raises(community.CommunityError, match="只有最后一档"):
        community.check_bands([community.Band(None, 0), community.Band(500, 1)])
    with pytest.raises(community.CommunityError, match="须大于上一档"):
        community.check_bands([community.Band(500, 1), community.Band(500, 1)])
    # 首年：(100 + 110 + 121) ÷ 3 = 110.33 → ×1.05 = 115.85；次年：115.85 × 1.05 = 121.64
    assert community.first_year_budget([10_000, 11_000, 12_100], 500) == 11_585
    assert community.next_year_budget(11_585, 500) == 12_164


@settings(max_examples=200, deadline=None)
@given(
    adj=st.dictionaries(st.sampled_from(("310100", "390100")), st.integers(-(10**8), 10**8)),
    advance=FEN,
    hold=FEN,
)
def test_chains_balance_and_skip_zero(adj: dict[str, int], advance: int, hold: int) -> None:
    c = postings.monthly_advance(
        region="441481",
        inst="H44148100001",
        month="202507",
        day=date(2025, 7, 31),
        adjustments=adj,
        advance=advance,
        hold=hold,
        memo={},
    )
    assert entry_sum(c.entries()) == 0
    assert all(t.amount > 0 for t in c.transfers)
    assert len(c.transfers) == sum(1 for v in (*adj.values(), advance, hold) if v)
    y = postings.community_year_end(
        region="441481",
        community="YCM1",
        lead="H44148100001",
        fpt="390100",
        year=2025,
        day=date(2025, 12, 31),
        retained=hold,
        returned=advance,
        fund_overrun=0,
        community_overrun=0,
        memo={},
    )
    assert entry_sum(y.entries()) == 0


def test_special_cap_and_two_expert_decision() -> None:
    assert special.cap_of(20, 500) == 1 and special.cap_of(199, 50) == 0
    special.check_cap(0, 20, 500)
    with pytest.raises(special.SpecialError, match="已达上限"):
        special.check_cap(1, 20, 500)  # the (n+1)-th above the cap
    a, b = special.Opinion("a", True, "同意"), special.Opinion("b", True, "同意")
    assert special.add_opinion("submitted", [], a) == "in_review"
    assert special.add_opinion("in_review", [a], b) == "approved"
    assert special.add_opinion("in_review", [a], special.Opinion("b", False, "不同意")) == "refused"
    with pytest.raises(special.SpecialError, match="两位不同专家"):
        special.add_opinion("in_review", [a], special.Opinion("a", True, "再次"))
    with pytest.raises(special.SpecialError, match="不能为空"):
        special.add_opinion("submitted", [], special.Opinion("a", True, " "))
    with pytest.raises(special.SpecialError, match="不能再评审"):
        special.add_opinion("approved", [a, b], special.Opinion("c", True, "x"))


def test_budget_and_unit_value() -> None:
    assert pay.cost_budget(8_400_000, 7_000) == 12_000_000
    assert pay.unit_value(5_000_000, Decimal("5.438")) == Decimal("9194.5568")
    with pytest.raises(pay.PayError, match="总权重"):
        pay.unit_value(100, Decimal(0))
    with pytest.raises(pay.PayError, match="不足"):
        pay.unit_value(-1, Decimal(1))
