"""Display helpers: region names and yuan formatting."""

from __future__ import annotations

from yibao.web.regions import region_label, region_name
from yibao.web.render import yuan


def test_region_names() -> None:
    assert region_name("440100") == "广州市"
    assert region_name("440199") == "广州市本级"
    assert region_name("440106") == "广州市（440106）"
    assert region_name("999999") == "999999"
    assert region_label("440300") == "深圳市 440300"
    assert region_label(None) == "—"


def test_yuan_groups_thousands_from_fen() -> None:
    assert yuan(123456789) == "1,234,567.89"
    assert yuan(-5) == "-0.05"
    assert yuan(0) == "0.00"
    assert yuan(None) == "—"
