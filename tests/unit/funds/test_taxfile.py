"""The tax-bureau exchange files (our format): rendering, parsing, refusal of malformed files."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.funds.taxfile import (
    ExportLine,
    PaymentLine,
    TaxFileError,
    parse_payments,
    render_export,
    render_payments,
)

DAY = date(2026, 12, 3)
LINES = [
    PaymentLine(0, "440300202611EU440300A-1", date(2026, 11, 26), 336_200, 0, "SP00001"),
    PaymentLine(0, "440300202611F4403000000000001-1", date(2026, 12, 1), 41_000, 1_025, "SP00002"),
]


def test_round_trip() -> None:
    text = render_payments("TAX0001", "440300", DAY, LINES)
    parsed = parse_payments(text)
    assert (parsed.file_id, parsed.region, parsed.created) == ("TAX0001", "440300", DAY)
    assert [(x.bill_no, x.principal, x.late_fee) for x in parsed.lines] == [
        (x.bill_no, x.principal, x.late_fee) for x in LINES
    ]
    assert parsed.principal == 377_200 and parsed.late_fee == 1_025
    assert parse_payments("\ufeff" + text).file_id == "TAX0001"  # Excel's BOM is accepted


def errors(text: str) -> list[tuple[int, str]]:
    with pytest.raises(TaxFileError) as e:
        parse_payments(text)
    return [(x.line, x.field) for x in e.value.errors]


def test_every_kind_of_malformed_file_is_refused_naming_line_and_field() -> None:
    good = render_payments("TAX0001", "440300", DAY, LINES)
    assert errors(good.replace("#YIBAO-TAX,1,PAYMENT", "#YIBAO-TAX,2,PAYMENT")) == [(1, "version")]
    assert errors(good.replace("PAYMENT", "ASSESSMENT", 1)) == [(1, "kind")]
    assert errors(good.replace("336200", "x").replace("3362.00", "3362.0")) == [
        (3, "principal"), (5, "#END")]  # fmt: skip
    assert (4, "paid_date") in errors(good.replace("2026-12-01", "2026-13-01"))
    assert errors(good.replace("SP00002", "SP00001")) == [(4, "voucher_no")]
    assert errors(good.replace("#END,2,", "#END,3,")) == [(5, "#END")]
    assert errors(good.replace("3772.00,10.25", "3772.01,10.25")) == [(5, "#END")]
    assert errors(good.rsplit("#END", 1)[0])[0][1] == "#END"
    assert errors(good + "trailing,garbage\n") == [(6, "#END")]
    assert errors("") == [(1, "header")]


def test_duplicate_bills_are_refused() -> None:
    twice = [LINES[0], PaymentLine(0, LINES[0].bill_no, DAY, 1, 0, "SP9")]
    assert errors(render_payments("TAX0001", "440300", DAY, twice)) == [(4, "bill_no")]


@given(st.text(max_size=400))
def test_arbitrary_text_is_parsed_or_refused_never_crashes(text: str) -> None:
    try:
        parse_payments(text)
    except TaxFileError as e:
        assert e.errors


def test_export_has_header_columns_and_trailer() -> None:
    line = ExportLine("B1-1", "employee", "unit", "U1", "91440300MA5XXXXXX1", "示范有限公司",
                      "2026-11", date(2026, 11, 26), 3, 48_000, 16_000, 1_600, 65_600)  # fmt: skip
    text = render_export("YB44030020261203001", "440300", DAY, [line])
    rows = text.splitlines()
    assert rows[0] == "#YIBAO-TAX,1,ASSESSMENT,YB44030020261203001,440300,2026-12-03"
    assert rows[2].endswith("480.00,160.00,16.00,656.00") and rows[-1] == "#END,1,656.00"
