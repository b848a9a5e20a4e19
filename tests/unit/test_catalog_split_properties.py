"""Properties of the per-line split (明细分割) over random lines (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.catalog.model import split_line
from yibao.money import line_amount
from yibao.settlement.model import Item

prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999"), places=2)
counts = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("500"), places=4)
ratios = st.decimals(min_value=Decimal("0"), max_value=Decimal("1"), places=4)
limits = st.one_of(st.none(), st.integers(min_value=0, max_value=10_000_000))


def item(
    pric: Decimal, cnt: Decimal, lv: str, ratio: Decimal, limit: int | None, inside: bool
) -> Item:
    return Item(
        feedetl_sn="1",
        med_list_codg="X",
        name="",
        list_type="101",
        chrgitm_lv=lv,
        med_chrgitm_type="09",
        det_item_fee_sumamt=line_amount(pric, cnt),
        cnt=cnt,
        pric=pric,
        selfpay_prop=ratio if lv == "02" else Decimal(0),
        pric_uplmt_amt=limit,
        in_catalog=inside,
    )


@settings(max_examples=300, deadline=None)
@given(prices, counts, st.sampled_from(["01", "02", "03"]), ratios, limits, st.booleans())
def test_parts_sum_to_the_line_and_are_never_negative(
    pric: Decimal, cnt: Decimal, lv: str, ratio: Decimal, limit: int | None, inside: bool
) -> None:
    it = item(pric, cnt, lv, ratio, limit, inside)
    s = split_line(it)
    parts = (s.fulamt_ownpay_amt, s.overlmt_amt, s.preselfpay_amt, s.inscp_scp_amt)
    assert sum(parts) == it.det_item_fee_sumamt
    assert all(p >= 0 for p in parts)
    if not inside or lv == "03":
        assert s.fulamt_ownpay_amt == it.det_item_fee_sumamt
    else:
        assert s.fulamt_ownpay_amt == 0
    if lv == "01":
        assert s.preselfpay_amt == 0


@settings(max_examples=200, deadline=None)
@given(prices, counts, ratios, limits)
def test_refund_line_is_the_exact_mirror(
    pric: Decimal, cnt: Decimal, ratio: Decimal, limit: int | None
) -> None:
    pos = item(pric, cnt, "02", ratio, limit, True)
    neg = replace(pos, det_item_fee_sumamt=-pos.det_item_fee_sumamt, cnt=-cnt)
    p, n = split_line(pos), split_line(neg)
    assert (n.overlmt_amt, n.preselfpay_amt, n.inscp_scp_amt) == (
        -p.overlmt_amt,
        -p.preselfpay_amt,
        -p.inscp_scp_amt,
    )


@settings(max_examples=200, deadline=None)
@given(prices, counts, ratios, st.integers(min_value=0, max_value=1_000_000))
def test_a_lower_limit_never_lowers_the_patients_share(
    pric: Decimal, cnt: Decimal, ratio: Decimal, limit: int
) -> None:
    high = split_line(item(pric, cnt, "02", ratio, limit + 100, True))
    low = split_line(item(pric, cnt, "02", ratio, limit, True))
    assert low.overlmt_amt + low.preselfpay_amt >= high.overlmt_amt + high.preselfpay_amt
    assert low.inscp_scp_amt <= high.inscp_scp_amt
