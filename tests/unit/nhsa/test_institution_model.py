"""Institution rules (pure)."""

from __future__ import annotations

from datetime import date, datetime

from yibao.institutions.model import (
    ONLINE_PAUSED,
    Institution,
    SignIn,
    make_sign_no,
    validate_institution,
)


def hospital(**over: str) -> Institution:
    base = {
        "fixmedins_code": "H44030000001",
        "fixmedins_name": "深圳市人民医院",
        "fixmedins_type": "1",
        "admdvs": "440300",
        "hosp_lv": "2",
    }
    base.update(over)
    return Institution(**base)


def test_valid_hospital() -> None:
    assert validate_institution(hospital()) == []
    assert hospital().dedc_hosp_lv == "3"
    assert hospital(hosp_lv="8").dedc_hosp_lv == "1"


def test_invalid_fields_are_named() -> None:
    errors = validate_institution(hospital(fixmedins_code="X1", admdvs="44", hosp_lv=""))
    assert [e.split(":")[0] for e in errors] == ["fixmedins_code", "admdvs", "hosp_lv"]


def test_paused_network_refuses() -> None:
    assert hospital().refusal() is None
    assert "暂停联网" in (hospital(fix_onln_open_flag=ONLINE_PAUSED).refusal() or "")


def test_sign_no_format() -> None:
    s = make_sign_no("440300", datetime(2026, 11, 22, 8, 0, 0), 5425)
    assert s == "440300202611220800000000005425" and len(s) == 30


def test_sign_in_problems() -> None:
    s = SignIn("n", "H1", "0001", date(2026, 11, 22), datetime(2026, 11, 22, 8))
    assert s.problem("H1", date(2026, 11, 22)) is None
    assert "不属于" in (s.problem("H2", date(2026, 11, 22)) or "")
    assert "已过期" in (s.problem("H1", date(2026, 11, 23)) or "")
