"""Staff API permissions (接口权限): which role may do what, and which regions it reaches."""

from __future__ import annotations

import pytest

from yibao.console.model import Principal, Role, scope_for
from yibao.http.institution import AuthenticatedInstitution, InstitutionAuthError
from yibao.http.staff import Capability, Staff, StaffAuthError


def staff(role: Role, admdvs: str | None = None, org: str | None = None) -> Staff:
    p = Principal(1, f"u-{role.value}", "测试", role, admdvs, org)
    return Staff(p, scope_for(p), "csrf")


def test_full_numbers_are_for_administrators_only() -> None:
    assert staff(Role.PROVINCE_ADMIN).can(Capability.CERTNO_REVEAL)
    assert staff(Role.CITY_ADMIN, "440100").can(Capability.CERTNO_REVEAL)
    for s in (staff(Role.ANALYST), staff(Role.INSTITUTION_OPERATOR, "440100", "H44010000001")):
        assert not s.can(Capability.CERTNO_REVEAL)
        with pytest.raises(StaffAuthError) as e:
            s.require(Capability.CERTNO_REVEAL)
        assert e.value.status == 403 and s.principal.role.label in e.value.message


def test_analysts_only_read_and_operators_only_look_up() -> None:
    writes = {
        Capability.PERSON_WRITE,
        Capability.ACCOUNT_POST,
        Capability.BULK_IMPORT,
        Capability.VOUCHER_ADMIN,
        Capability.CHANNEL_ADMIN,
    }
    assert not any(staff(Role.ANALYST).can(c) for c in writes)
    op = staff(Role.INSTITUTION_OPERATOR, "440100", "H44010000001")
    assert [c for c in Capability if op.can(c)] == [Capability.PERSON_LOOKUP]
    assert not staff(Role.CITY_ADMIN, "440100").can(Capability.CHANNEL_ADMIN)


def test_city_scope_and_default_region() -> None:
    gz = staff(Role.CITY_ADMIN, "440100")
    assert gz.allows_region("440106") and not gz.allows_region("440300")
    assert gz.default_admdvs(None) == "440100" and gz.default_admdvs("440106") == "440106"
    with pytest.raises(StaffAuthError) as e:
        gz.default_admdvs("440300")
    assert e.value.key == "OUT_OF_SCOPE" and "440300" in e.value.message
    assert staff(Role.PROVINCE_ADMIN).default_admdvs(None) is None
    gz.require_any_region(["440300", "440100"], "参保人")  # any enrolment in scope suffices


def test_org_id_must_be_the_signer() -> None:
    inst = AuthenticatedInstitution("H44010000001", "demo-H44010000001")
    assert inst.require_org("") == inst.require_org("H44010000001") == "H44010000001"
    with pytest.raises(InstitutionAuthError) as e:
        inst.require_org("H44030000001")
    assert (e.value.status, e.value.key) == (403, "EC_ORG_MISMATCH")
