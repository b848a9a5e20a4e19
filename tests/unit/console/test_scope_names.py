"""The 管辖范围 line names regions (never ``4401``) and the deployment province is validated."""

from __future__ import annotations

import pytest

from yibao.config import deployment_province
from yibao.web.regions import prefix_name, scope_name


def test_scope_lines_are_names() -> None:
    assert scope_name(None, ("44",), True) == "广东省（全省）"
    assert scope_name(None, (), True) == "全省"
    assert scope_name(None, ("4401",), False) == "广州市"
    assert scope_name(None, ("441481",), False) == "兴宁市"
    assert scope_name("H44010000001", ("4401",), False) == "定点机构 H44010000001"
    assert prefix_name("42") == "湖北省"


def test_deployment_province_defaults_to_the_demo_and_refuses_bad_codes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("YIBAO_PROVINCE", raising=False)
    assert deployment_province() == "44"
    monkeypatch.setenv("YIBAO_PROVINCE", "42")
    assert deployment_province() == "42"
    monkeypatch.setenv("YIBAO_PROVINCE", "hubei")
    with pytest.raises(ValueError, match="YIBAO_PROVINCE"):
        deployment_province()
