"""Bulk-import row checks never crash: any input gives a parsed row or named errors."""

from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.registry import rows
from yibao.registry.certs import compose_id18

_values = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(["", "01", "1", "310", "2026-02-30", "20260101", "440100", "是", "X"]),
    st.integers(-5, 10**12),
    st.floats(allow_nan=True),
    st.dates(),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(rows.COLUMNS), _values), st.integers(2, 10**6))
def test_check_row_returns_row_or_errors(raw: dict[str, object], rownum: int) -> None:
    out = rows.check_row(rownum, raw)
    if isinstance(out, list):
        assert out and all(e.row == rownum and e.field in rows.COLUMNS and e.reason for e in out)
    else:
        assert out.row == rownum


def test_numbers_from_spreadsheets_are_read_as_text() -> None:
    from datetime import date, datetime

    certno = compose_id18("440106", date(1990, 1, 2), 13)
    raw = {
        "psn_cert_type": 1.0,  # a spreadsheet turned "01" into a number
        "certno": certno,
        "psn_name": "测试",
        "gend": 1,
        "brdy": datetime(1990, 1, 2),
        "insutype": 390,
        "psn_insu_stas": 1,
        "psn_insu_date": date(2020, 1, 1),
        "psn_type": 50,
        "insuplc_admdvs": 440100,
    }
    out = rows.check_row(2, raw)
    assert isinstance(out, rows.ImportRow), out
    assert (out.psn_cert_type, out.gend, out.insutype) == ("01", "1", "390")
