"""Unit tests for money (金额) and its single rounding rule."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.money import (
    MoneyError,
    apply_ratio,
    fen_str,
    fen_to_yuan,
    line_amount,
    parse_ratio,
    yuan_to_fen,
)


def test_yuan_to_fen_exact() -> None:
    assert yuan_to_fen("1234.56") == 123456
    assert yuan_to_fen(12) == 1200
    assert yuan_to_fen("0.1") == 10
    assert yuan_to_fen(0.1) == 10  # a float's shortest repr, never its binary expansion


@pytest.mark.parametrize("bad", ["1.234", "abc", "NaN", "inf", True, ""])
def test_yuan_to_fen_refuses(bad: object) -> None:
    with pytest.raises(MoneyError):
        yuan_to_fen(bad)


def test_fen_output() -> None:
    assert fen_str(656000) == "6560.00"
    assert fen_str(-5) == "-0.05"
    assert fen_to_yuan(123456) == Decimal("1234.56")


def test_apply_ratio_half_up() -> None:
    assert apply_ratio(820000, Decimal("0.8")) == 656000  # EX1: 8200 × 80 %
    assert apply_ratio(1, Decimal("0.5")) == 1  # 0.5 fen rounds up
    assert apply_ratio(3, Decimal("0.5")) == 2  # 1.5 → 2
    assert apply_ratio(1, Decimal("0.4999")) == 0
    assert apply_ratio(-3, Decimal("0.5")) == -2  # symmetric: a mirror negates exactly


def test_line_amount_half_up() -> None:
    assert line_amount("12.345", "1") == 1235
    assert line_amount("0.333", "3") == 100
    assert line_amount("10", "2.5") == 2500


def test_parse_ratio() -> None:
    assert parse_ratio("0.895") == Decimal("0.895")
    with pytest.raises(MoneyError):
        parse_ratio("1.2")
    with pytest.raises(MoneyError):
        parse_ratio("0.12345")


@given(
    st.integers(min_value=-(10**12), max_value=10**12), st.integers(min_value=0, max_value=10000)
)
def test_apply_ratio_is_symmetric_and_bounded(fen: int, units: int) -> None:
    r = Decimal(units) / 10000
    out = apply_ratio(fen, r)
    assert apply_ratio(-fen, r) == -out
    assert abs(out) <= abs(fen)
    assert abs(out * 10000 - fen * units) <= 5000
