"""Unit and employment import rows (参保单位、用工信息): 统一社会信用代码 and per-file checks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from yibao.registry import uscc
from yibao.registry.unit_rows import check_employments, check_units
from yibao.registry.uscc import ALPHABET


def test_published_codes_validate_and_a_changed_character_does_not() -> None:
    assert uscc.validate("91350100M000100Y43") == "91350100M000100Y43"
    for bad in ("91350100M000100Y44", "91350100M000100Y4", "9135010OM000100Y43"):
        try:
            uscc.validate(bad)
        except uscc.UsccError:
            continue
        raise AssertionError(bad)


@given(st.text(alphabet=ALPHABET, min_size=9, max_size=9), st.integers(0, 16))
def test_composed_codes_validate_and_any_single_change_is_caught(org: str, pos: int) -> None:
    code = uscc.compose("91", "440300", org)
    assert uscc.validate(code) == code
    i = 8 + pos % 10 if pos % 10 < 10 else pos
    other = next(c for c in ALPHABET if c != code[i])
    try:
        uscc.validate(code[:i] + other + code[i + 1 :])
    except uscc.UsccError:
        return
    raise AssertionError("a changed character passed the check")


def unit(n: int, **kw: str) -> tuple[int, dict[str, str]]:
    row = {"emp_no": f"U{n}", "uscc": uscc.compose("91", "440300", f"{n:08d}X"),
           "emp_name": f"单位{n}", "emp_type": "10", "admdvs": "440300"}  # fmt: skip
    return n + 1, {**row, **kw}


def test_unit_file_checks_name_row_and_field() -> None:
    checked = check_units([unit(1), unit(2, emp_type="99"), unit(3, emp_no="U1"),
                           unit(4, uscc="91350100M000100Y44"), unit(5, admdvs="4403")])  # fmt: skip
    assert [r.emp_no for r in checked.good] == ["U1"]
    assert [(e.row, e.field) for e in checked.errors] == [
        (3, "emp_type"), (4, "emp_no"), (5, "uscc"), (6, "admdvs")]  # fmt: skip


def test_employment_file_checks_payer_base_dates_and_overlap() -> None:
    cert = "440303198005050060"
    base = {"psn_cert_type": "01", "certno": cert, "emp_no": "U1", "begin_date": "2020-01-01",
            "wage_base": "8000.00", "flxempe_flag": "0"}  # fmt: skip
    rows = [
        (2, base),
        (3, {**base, "begin_date": "2024-01-01"}),  # overlaps the open period of row 2
        (4, {**base, "emp_no": "", "begin_date": "2000-01-01", "end_date": "2001-01-01"}),
        (5, {**base, "flxempe_flag": "1", "begin_date": "2002-01-01", "end_date": "2003-01-01"}),
        (
            6,
            {**base, "wage_base": "8000.001", "begin_date": "2004-01-01", "end_date": "2004-12-31"},
        ),
        (7, {**base, "begin_date": "2006-01-01", "end_date": "2005-01-01"}),
    ]
    checked = check_employments(rows)
    assert [r.row for r in checked.good] == [2]
    assert checked.good[0].wage_base == 800_000
    assert [(e.row, e.field) for e in checked.errors] == [
        (3, "begin_date"), (4, "emp_no"), (5, "emp_no"), (6, "wage_base"), (7, "end_date")]  # fmt: skip
