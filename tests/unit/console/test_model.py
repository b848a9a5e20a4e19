"""Console model: password rules, lockout, region scope, masking (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yibao.console.model import (
    LOCKOUT,
    MAX_FAILED_LOGINS,
    SESSION_IDLE,
    SESSION_MAX,
    LoginState,
    Page,
    Principal,
    Role,
    mask_id,
    mask_phone,
    password_problems,
    region_prefix,
    scope_for,
    session_expiry,
)

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def user(role: Role, admdvs: str | None = None, code: str | None = None) -> Principal:
    return Principal(1, "u", "U", role, admdvs, code)


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short1", ["密码长度至少 10 位（当前 6 位）"]),
        ("abcdefghijk", ["密码必须同时包含英文字母和数字"]),
        ("12345678901", ["密码必须同时包含英文字母和数字"]),
        ("gz_admin2026x", ["密码不能包含用户名"]),
        ("Yibao2026demo", []),
    ],
)
def test_password_rules_name_each_broken_rule(password: str, expected: list[str]) -> None:
    assert password_problems(password, "gz_admin") == expected


def test_password_breaking_several_rules_lists_all() -> None:
    assert len(password_problems("admin", "admin")) == 3


def test_lockout_after_max_failures_and_reset() -> None:
    state = LoginState(0, None)
    for _ in range(MAX_FAILED_LOGINS - 1):
        state = state.after_failure(T0)
        assert not state.is_locked(T0)
    state = state.after_failure(T0)
    assert state.is_locked(T0)
    assert state.is_locked(T0 + LOCKOUT - timedelta(seconds=1))
    assert not state.is_locked(T0 + LOCKOUT)


def test_session_expiry_slides_but_is_capped() -> None:
    assert session_expiry(T0, T0) == T0 + SESSION_IDLE
    late = T0 + SESSION_MAX - timedelta(minutes=5)
    assert session_expiry(T0, late) == T0 + SESSION_MAX


def test_region_prefix() -> None:
    assert region_prefix("440000") == "44"
    assert region_prefix("440100") == "4401"
    assert region_prefix("440106") == "440106"
    with pytest.raises(ValueError, match="6 位数字"):
        region_prefix("4401")


def test_city_admin_sees_own_city_and_districts_only() -> None:
    s = scope_for(user(Role.CITY_ADMIN, "440100"))
    assert s.allows_region("440100")
    assert s.allows_region("440199")  # 广州市本级
    assert s.allows_region("440106")
    assert not s.allows_region("440300")
    assert not s.allows_region(None)
    assert s.allows_any_region("440300", "440100")  # cross-region: either end


def test_province_admin_sees_all_and_operator_one_institution() -> None:
    assert scope_for(user(Role.PROVINCE_ADMIN, "440000")).allows_region("420100")
    op = scope_for(user(Role.INSTITUTION_OPERATOR, "440100", "H44010600001"))
    assert op.allows_institution("H44010600001")
    assert not op.allows_institution("H44030000001")


def test_a_deployment_province_limits_province_wide_users_to_it() -> None:
    """One province per deployment (ADR 0019): 全省 of the Guangdong deployment is Guangdong."""
    gd = scope_for(user(Role.PROVINCE_ADMIN, "440000"), "44")
    assert gd.whole_province and not gd.all_regions and gd.prefixes == ("44",)
    assert gd.allows_region("441481") and not gd.allows_region("421381")
    assert gd.allows_any_region("421381", "440100")  # a Hubei insured treated here: 异地
    assert gd.label == "全省"
    analyst = scope_for(user(Role.ANALYST), "42")
    assert analyst.prefixes == ("42",) and not analyst.person_data
    city = scope_for(user(Role.CITY_ADMIN, "440100"), "44")
    assert city.prefixes == ("4401",) and not city.whole_province
    with pytest.raises(ValueError, match="2 位数字"):
        scope_for(user(Role.PROVINCE_ADMIN, "440000"), "4")


def test_analyst_has_no_person_data_and_limited_pages() -> None:
    a = user(Role.ANALYST)
    assert not scope_for(a).person_data
    assert a.may_open(Page.POLICY)
    assert not a.may_open(Page.PERSONS)
    assert not a.may_open(Page.SETTLEMENTS)


def test_scope_misconfiguration_is_refused() -> None:
    with pytest.raises(ValueError, match="市级管理员必须绑定医保区划"):
        scope_for(user(Role.CITY_ADMIN))
    with pytest.raises(ValueError, match="定点医药机构编号"):
        scope_for(user(Role.INSTITUTION_OPERATOR, "440100"))


def test_masking() -> None:
    assert mask_id("44010619900101123X") == "440106********123X"
    assert mask_id("") == ""
    assert mask_phone("13812345678") == "138****5678"


def test_address_throttle_window_and_beijing_time() -> None:
    from yibao.console.model import ADDRESS_MAX_FAILURES, ADDRESS_WINDOW, Throttle, beijing

    t = Throttle()
    for i in range(ADDRESS_MAX_FAILURES - 1):
        t = t.after_address_failure(T0 + timedelta(seconds=i))
        assert not t.is_blocked(T0 + timedelta(seconds=i))
    t = t.after_address_failure(T0 + timedelta(minutes=1))
    assert t.is_blocked(T0 + timedelta(minutes=1)) and t.blocked_until == T0 + ADDRESS_WINDOW
    fresh = t.after_address_failure(T0 + ADDRESS_WINDOW)  # a new window starts
    assert fresh.failures == 1 and not fresh.is_blocked(T0 + ADDRESS_WINDOW)
    assert beijing(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)) == "1月1日 00:30（北京时间）"
