"""Input readers: strict amounts (2 decimals), clear field paths."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.api.nhsa import fields
from yibao.api.nhsa.fields import InputError


@given(st.integers(min_value=-(10**12), max_value=10**12))
@settings(max_examples=200)
def test_amount_roundtrips_two_decimals(fen: int) -> None:
    text = f"{'-' if fen < 0 else ''}{abs(fen) // 100}.{abs(fen) % 100:02d}"
    assert fields.amount({"x": text}, "x", "input.data") == fen
    assert fields.amount({"x": Decimal(text)}, "x", "input.data") == fen


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=1, max_value=9))
@settings(max_examples=100)
def test_amount_refuses_a_third_decimal(whole: int, digit: int) -> None:
    with pytest.raises(InputError) as err:
        fields.amount({"x": f"{whole}.00{digit}"}, "x", "input.data")
    assert err.value.field == "input.data.x"


@pytest.mark.parametrize("bad", [True, [1], {"a": 1}, "abc", "1e400000", "NaN"])
def test_amount_refuses_non_numbers(bad: object) -> None:
    with pytest.raises(InputError):
        fields.amount({"x": bad}, "x", "input.data")


def test_empty_amount_is_zero_unless_required() -> None:
    assert fields.amount({"x": ""}, "x", "w") == 0
    assert fields.amount({}, "x", "w") == 0
    with pytest.raises(InputError, match="金额必填"):
        fields.amount({"x": None}, "x", "w", required=True)


def test_text_and_code() -> None:
    assert fields.text({"insutype": 310}, "insutype", "w") == "310"
    with pytest.raises(InputError, match="必填"):
        fields.text({"a": ""}, "a", "w", required=True)
    assert fields.code({"t": "01"}, "t", "w", "mdtrt_cert_type") == "01"
    with pytest.raises(InputError, match="就诊凭证类型"):
        fields.code({"t": "09"}, "t", "w", "mdtrt_cert_type")


def test_number_places() -> None:
    assert fields.number({"cnt": "1.2345"}, "cnt", "w", places=4) == Decimal("1.2345")
    with pytest.raises(InputError, match="最多4位小数"):
        fields.number({"cnt": "1.23456"}, "cnt", "w", places=4)


def test_nodes() -> None:
    assert fields.node({"data": [{"a": 1}]}, "data") == {"a": 1}
    assert fields.rows({"feedetail": {"a": 1}}, "feedetail") == [{"a": 1}]
    with pytest.raises(InputError, match=r"input\.data"):
        fields.node({"data": "x"}, "data")
    with pytest.raises(InputError):
        fields.rows({"feedetail": [1]}, "feedetail")


def test_dates() -> None:
    assert str(fields.day({"d": "2026-11-22"}, "d", "w")) == "2026-11-22"
    assert fields.moment({"t": "2026-11-22 10:00:00"}, "t", "w") is not None
    with pytest.raises(InputError, match="yyyy-MM-dd HH:mm:ss"):
        fields.moment({"t": "22/11/2026"}, "t", "w")
