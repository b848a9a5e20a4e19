"""Activation (激活) with 实名 + 实人, channel authorisation, revocation by person or bureau."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from yibao.db.tables import audit
from yibao.registry import certs
from yibao.registry import store as reg
from yibao.voucher import model as m
from yibao.voucher.base import (
    _INDEX_SALT,
    VoucherBase,
    _main_enrolment,
)
from yibao.voucher.model import EcError
from yibao.voucher.store import (
    ec_authorization,
    ec_token,
    ec_voucher,
)


class ActivationOps(VoucherBase):
    """Activation and revocation (激活与注销)."""

    def activate(
        self,
        chnl_id: str,
        chnl_user_id: str,
        *,
        psn_name: str,
        psn_cert_type: str,
        certno: str,
        evidence: str,
    ) -> dict[str, object]:
        """实名 + 实人 activation on a channel; idempotent for the same channel user and person."""
        if not chnl_user_id or len(chnl_user_id) > 64:
            raise EcError("EC_FIELD_INVALID", "chnlUserId应为1至64个字符")
        now = self.clock()
        with self.engine.begin() as conn:
            p = self._real_name(conn, psn_name, psn_cert_type, certno)
            if _main_enrolment(reg.enrolments(conn, p.psn_no), now.date()) is None:
                raise EcError("EC_NOT_INSURED")
            self._real_person(p, evidence)
            conn.execute(
                sa.select(reg.person.c.psn_no)
                .where(reg.person.c.psn_no == p.psn_no)
                .with_for_update()
            )
            current = (
                conn.execute(
                    sa.select(ec_authorization).where(
                        ec_authorization.c.chnl_id == chnl_id,
                        ec_authorization.c.chnl_user_id == chnl_user_id,
                    )
                )
                .mappings()
                .first()
            )
            if (
                current is not None
                and current["status"] == "active"
                and current["psn_no"] != p.psn_no
            ):
                raise EcError("EC_ALREADY_BOUND")
            # another channel account of the same person on this channel is replaced
            conn.execute(
                ec_authorization.update()
                .where(
                    ec_authorization.c.chnl_id == chnl_id,
                    ec_authorization.c.psn_no == p.psn_no,
                    ec_authorization.c.chnl_user_id != chnl_user_id,
                    ec_authorization.c.status == "active",
                )
                .values(status="revoked", revoked_at=now)
            )
            activated = self._ensure_voucher(conn, p, chnl_id, now, f"chnl:{chnl_id}")
            already = current is not None and current["status"] == "active"
            if not already:
                values = {
                    "psn_no": p.psn_no,
                    "status": "active",
                    "authorized_at": now,
                    "revoked_at": None,
                }
                conn.execute(
                    insert(ec_authorization)
                    .values(chnl_id=chnl_id, chnl_user_id=chnl_user_id, **values)
                    .on_conflict_do_update(index_elements=["chnl_id", "chnl_user_id"], set_=values)
                )
                if not activated:
                    self._event(conn, p, chnl_id, "authorize", now, f"chnl:{chnl_id}")
            return {
                "psnNo": p.psn_no,
                "userName": p.psn_name,
                "idNo": certs.mask(p.certno),
                "ecIndexNo": m.ec_index_no(p.psn_no, _INDEX_SALT),
                "activated": activated,
                "authorized": not already,
            }

    def revoke_by_person(self, chnl_id: str, chnl_user_id: str, *, scope: str = "channel") -> None:
        """The person withdraws this channel's authorisation, or (``scope="voucher"``) the voucher."""
        now = self.clock()
        with self.engine.begin() as conn:
            psn_no = self._authorized(conn, chnl_id, chnl_user_id)
            if scope == "voucher":
                self._revoke_voucher(conn, psn_no, now, f"psn:{psn_no}", "本人注销")
            elif scope == "channel":
                conn.execute(
                    ec_authorization.update()
                    .where(
                        ec_authorization.c.chnl_id == chnl_id,
                        ec_authorization.c.chnl_user_id == chnl_user_id,
                    )
                    .values(status="revoked", revoked_at=now)
                )
                p = reg.get_person(conn, psn_no)
                assert p is not None
                self._event(conn, p, chnl_id, "revoke_channel", now, f"psn:{psn_no}")
            else:
                raise EcError("EC_FIELD_INVALID", "scope应为channel或voucher")

    def _revoke_voucher(
        self, conn: sa.Connection, psn_no: str, now: datetime, actor: str, reason: str
    ) -> None:
        done = conn.execute(
            ec_voucher.update()
            .where(ec_voucher.c.psn_no == psn_no, ec_voucher.c.status == "active")
            .values(status="revoked", revoked_at=now, revoked_by=actor, revoke_reason=reason)
        ).rowcount
        conn.execute(
            ec_authorization.update()
            .where(ec_authorization.c.psn_no == psn_no, ec_authorization.c.status == "active")
            .values(status="revoked", revoked_at=now)
        )
        conn.execute(ec_token.update().where(ec_token.c.psn_no == psn_no).values(expires_at=now))
        if done:
            p = reg.get_person(conn, psn_no)
            assert p is not None
            self._event(conn, p, "", "revoke_voucher", now, actor)
            audit(conn, actor, "voucher.revoke", psn_no, reason=reason)

    def revoke_by_bureau(self, psn_no: str, *, actor: str, reason: str) -> None:
        """The bureau (经办) revokes a person's e-voucher; every channel authorisation ends."""
        if not actor or not reason:
            raise EcError("EC_FIELD_INVALID", "须提供操作员和事由")
        with self.engine.begin() as conn:
            if reg.get_person(conn, psn_no) is None:
                raise EcError("EC_FIELD_INVALID", f"未找到人员{psn_no}")
            self._revoke_voucher(conn, psn_no, self.clock(), actor, reason)
