"""Family accounts (亲情账户): bind with consent, unbind, list."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from yibao.db.tables import audit
from yibao.registry import store as reg
from yibao.registry.model import age_on
from yibao.voucher import model as m
from yibao.voucher.base import (
    VoucherBase,
)
from yibao.voucher.model import EcError
from yibao.voucher.store import (
    ec_family,
)


class FamilyOps(VoucherBase):
    """Family accounts (亲情账户)."""

    def bind_family(
        self,
        chnl_id: str,
        chnl_user_id: str,
        *,
        psn_name: str,
        psn_cert_type: str,
        certno: str,
        relation: str,
        consent_by: str,
        evidence: str,
    ) -> dict[str, object]:
        """Bind a dependent (child/elder) with the dependent's own real-person consent, or a
        guardian's consent for a minor of the same household."""
        now = self.clock()
        with self.engine.begin() as conn:
            holder = self._authorized(conn, chnl_id, chnl_user_id)
            dep = self._real_name(conn, psn_name, psn_cert_type, certno)
            if dep.psn_no == holder:
                raise EcError("EC_FIELD_INVALID", "不能绑定本人")
            if consent_by == "dependent":
                self._real_person(dep, evidence)
            elif consent_by == "guardian":
                hp = reg.get_person(conn, holder)
                assert hp is not None
                hh = reg.household_of(conn, holder)
                same = hh is not None and hh == reg.household_of(conn, dep.psn_no)
                if not m.guardian_consent_allowed(age_on(dep.brdy, now.date()), same):
                    raise EcError("EC_FAMILY_CONSENT", "监护人代为同意仅限同户未成年人")
                self._real_person(hp, evidence)
            else:
                raise EcError("EC_FIELD_INVALID", "consentBy应为dependent或guardian")
            values = {
                "relation": relation,
                "consent_by": consent_by,
                "status": "active",
                "bound_at": now,
                "revoked_at": None,
            }
            conn.execute(
                insert(ec_family)
                .values(holder_psn_no=holder, dependent_psn_no=dep.psn_no, **values)
                .on_conflict_do_update(
                    index_elements=["holder_psn_no", "dependent_psn_no"], set_=values
                )
            )
            self._ensure_voucher(conn, dep, chnl_id, now, f"family:{holder}")
            audit(conn, f"psn:{holder}", "voucher.family.bind", dep.psn_no, consent_by=consent_by)
            return {"dependentPsnNo": dep.psn_no, "userName": dep.psn_name, "relation": relation}

    def unbind_family(self, chnl_id: str, chnl_user_id: str, dependent_psn_no: str) -> None:
        now = self.clock()
        with self.engine.begin() as conn:
            holder = self._authorized(conn, chnl_id, chnl_user_id)
            done = conn.execute(
                ec_family.update()
                .where(
                    ec_family.c.holder_psn_no == holder,
                    ec_family.c.dependent_psn_no == dependent_psn_no,
                    ec_family.c.status == "active",
                )
                .values(status="revoked", revoked_at=now)
            ).rowcount
            if not done:
                raise EcError("EC_FAMILY_NOT_BOUND")

    def family(self, chnl_id: str, chnl_user_id: str) -> list[dict[str, object]]:
        with self.engine.connect() as conn:
            holder = self._authorized(conn, chnl_id, chnl_user_id)
            rows = conn.execute(
                sa.select(ec_family.c.dependent_psn_no, ec_family.c.relation, reg.person.c.psn_name)
                .join(reg.person, reg.person.c.psn_no == ec_family.c.dependent_psn_no)
                .where(ec_family.c.holder_psn_no == holder, ec_family.c.status == "active")
            ).mappings()
            return [
                {
                    "psnNo": r["dependent_psn_no"],
                    "userName": r["psn_name"],
                    "relation": r["relation"],
                }
                for r in rows
            ]
