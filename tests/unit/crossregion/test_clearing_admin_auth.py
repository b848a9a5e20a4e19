"""Who may act on a clearing statement (清算单权限): role, region scope, 省间清算 province only."""

from __future__ import annotations

import pytest

from yibao.clearing.api import _allow_pair
from yibao.console.model import Principal, Role, scope_for
from yibao.http.staff import Staff, StaffAuthError

GZ, HZ, SZ, GS = "440100", "441300", "440300", "421381"


def staff(role: Role, admdvs: str | None = None, org: str | None = None) -> Staff:
    p = Principal(1, f"u-{role.value}", "测试", role, admdvs, org)
    return Staff(p, scope_for(p), "csrf")


def refused(s: Staff, pair: tuple[str, str], *, write: bool) -> int:
    with pytest.raises(StaffAuthError) as e:
        _allow_pair(s, pair, write=write)
    return e.value.status


def test_city_admin_acts_on_pairs_of_its_region_only() -> None:
    gz = staff(Role.CITY_ADMIN, GZ)
    _allow_pair(gz, (GZ, HZ), write=True)
    _allow_pair(gz, (GZ, HZ), write=False)
    assert refused(gz, (HZ, SZ), write=False) == 403
    assert refused(gz, (HZ, SZ), write=True) == 403


def test_inter_province_statements_are_for_the_province_admin() -> None:
    _allow_pair(staff(Role.PROVINCE_ADMIN), (GS, GZ), write=True)
    gz = staff(Role.CITY_ADMIN, GZ)
    _allow_pair(gz, (GS, GZ), write=False)  # may read its own region's statement
    assert refused(gz, (GS, GZ), write=True) == 403


def test_analysts_read_and_counters_see_nothing() -> None:
    analyst = staff(Role.ANALYST)
    _allow_pair(analyst, (GZ, HZ), write=False)
    assert refused(analyst, (GZ, HZ), write=True) == 403
    counter = staff(Role.INSTITUTION_OPERATOR, GZ, "H44010000001")
    assert refused(counter, (GZ, HZ), write=False) == 403
