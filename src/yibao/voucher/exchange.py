"""Dynamic codes (动态码) and the institution exchange (like ec.query / 6101) → ecToken, identity."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from yibao import codes
from yibao.db.tables import audit
from yibao.registry import certs
from yibao.registry import store as reg
from yibao.voucher import model as m
from yibao.voucher.base import (
    _INDEX_SALT,
    VoucherBase,
    _main_enrolment,
    person_info_1101_by_ec_token,
    resolve_ec_token,
)
from yibao.voucher.model import EcError
from yibao.voucher.store import (
    ec_authorization,
    ec_code,
    ec_family,
    ec_token,
    ec_voucher,
)


class CodeOps(VoucherBase):
    """Dynamic codes and the institution exchange (动态码与扫码核验)."""

    def issue_code(
        self, chnl_id: str, chnl_user_id: str, *, for_psn_no: str | None = None
    ) -> dict[str, object]:
        """A fresh dynamic code (≤ 60 s, single use) for the person or a bound dependent."""
        now = self.clock()
        with self.engine.begin() as conn:
            holder = self._authorized(conn, chnl_id, chnl_user_id)
            psn_no = holder
            if for_psn_no and for_psn_no != holder:
                bound = conn.execute(
                    sa.select(ec_family.c.status).where(
                        ec_family.c.holder_psn_no == holder,
                        ec_family.c.dependent_psn_no == for_psn_no,
                        ec_family.c.status == "active",
                    )
                ).first()
                if bound is None:
                    raise EcError("EC_FAMILY_NOT_BOUND")
                psn_no = for_psn_no
            main = _main_enrolment(reg.enrolments(conn, psn_no), now.date())
            if main is None:
                raise EcError("EC_NOT_INSURED")
            # housekeeping: codes are single-use and short-lived; keep an hour for diagnostics
            conn.execute(ec_code.delete().where(ec_code.c.expires_at < now - timedelta(hours=1)))
            keys = self._signing_keys(conn)
            kid = self._current_kid(keys)
            iat = int(now.timestamp())
            exp = iat + self.settings.code_ttl
            claims = m.CodeClaims(
                kid, secrets.token_urlsafe(12), psn_no, main.insuplc_admdvs, chnl_id, iat, exp
            )
            code = m.sign_code(keys[kid], claims)
            conn.execute(
                ec_code.insert().values(
                    jti=claims.jti,
                    psn_no=psn_no,
                    holder_psn_no=holder,
                    chnl_id=chnl_id,
                    admdvs=main.insuplc_admdvs,
                    issued_at=now,
                    expires_at=datetime.fromtimestamp(exp, UTC),
                )
            )
            return {
                "code": code,
                "psnNo": psn_no,
                "insuOrg": main.insuplc_admdvs,
                "expiresAt": datetime.fromtimestamp(exp, UTC).isoformat(),
                "ttl": self.settings.code_ttl,
            }

    def exchange(
        self,
        qr_code: str,
        *,
        org_id: str,
        business_type: str,
        operator_id: str = "",
        operator_name: str = "",
        office_id: str = "",
        office_name: str = "",
        out_biz_no: str = "",
    ) -> dict[str, object]:
        """Institution exchange (like ec.query / 6101): code → identity + an ecToken for ``org_id``.

        A retry with the same ``out_biz_no`` by the same institution returns the same answer;
        any other second use is ``EC_CODE_USED``.
        """
        if not codes.is_valid("code_biz_type", business_type):
            raise EcError("EC_BIZ_TYPE_INVALID", f"businessType={business_type}")
        if not org_id or len(org_id) > 40:
            raise EcError("EC_ORG_INVALID", "orgId应为1至40个字符")
        now = self.clock()
        with self.engine.begin() as conn:
            keys = self._signing_keys(conn)
            try:
                claims = m.verify_code(qr_code, keys, int(now.timestamp()))
            except EcError as e:
                if e.key != "EC_CODE_FOREIGN":
                    raise
                self._keys = {}  # a key added by another process: reload once
                claims = m.verify_code(qr_code, self._signing_keys(conn), int(now.timestamp()))
            row = (
                conn.execute(
                    sa.select(ec_code).where(ec_code.c.jti == claims.jti).with_for_update()
                )
                .mappings()
                .first()
            )
            if row is None or (row["psn_no"], row["admdvs"], row["chnl_id"]) != (
                claims.psn_no,
                claims.admdvs,
                claims.chnl_id,
            ):
                raise EcError("EC_CODE_FOREIGN")
            if row["used_at"] is not None:
                if out_biz_no and row["used_by_org"] == org_id and row["out_biz_no"] == out_biz_no:
                    return self._identity(conn, row["ec_token"], now)
                raise EcError("EC_CODE_USED", f"已于{row['used_at'].isoformat()}使用")
            for who in {row["holder_psn_no"], row["psn_no"]}:
                status = conn.execute(
                    sa.select(ec_voucher.c.status).where(ec_voucher.c.psn_no == who)
                ).scalar()
                if status != "active":
                    raise EcError("EC_VOUCHER_INACTIVE")
            if (
                row["holder_psn_no"] != row["psn_no"]
                and not conn.execute(
                    sa.select(ec_family.c.status).where(
                        ec_family.c.holder_psn_no == row["holder_psn_no"],
                        ec_family.c.dependent_psn_no == row["psn_no"],
                        ec_family.c.status == "active",
                    )
                ).first()
            ):
                raise EcError("EC_FAMILY_NOT_BOUND")
            chnl_ok = conn.execute(
                sa.select(ec_authorization.c.status).where(
                    ec_authorization.c.chnl_id == claims.chnl_id,
                    ec_authorization.c.psn_no == row["holder_psn_no"],
                    ec_authorization.c.status == "active",
                )
            ).first()
            if chnl_ok is None:
                raise EcError("EC_CHANNEL_UNAUTHORIZED")
            token = f"{claims.admdvs}ec{secrets.token_hex(16)}"
            auth_no = f"{claims.admdvs}{now:%Y%m%d%H%M%S}{secrets.token_hex(10)}"
            conn.execute(
                ec_token.insert().values(
                    ec_token=token,
                    psn_no=claims.psn_no,
                    org_id=org_id,
                    business_type=business_type,
                    jti=claims.jti,
                    auth_no=auth_no,
                    operator_id=operator_id,
                    issued_at=now,
                    expires_at=now + timedelta(seconds=self.settings.token_ttl),
                )
            )
            conn.execute(
                ec_code.update()
                .where(ec_code.c.jti == claims.jti)
                .values(
                    used_at=now, used_by_org=org_id, out_biz_no=out_biz_no or None, ec_token=token
                )
            )
            audit(
                conn,
                f"org:{org_id}",
                "voucher.exchange",
                claims.psn_no,
                business_type=business_type,
                operator_id=operator_id,
                operator_name=operator_name,
                office_id=office_id,
                office_name=office_name,
            )
            return self._identity(conn, token, now)

    def _identity(self, conn: sa.Connection, token: str, now: datetime) -> dict[str, object]:
        t = conn.execute(sa.select(ec_token).where(ec_token.c.ec_token == token)).mappings().one()
        p = reg.get_person(conn, t["psn_no"])
        assert p is not None
        main = _main_enrolment(reg.enrolments(conn, p.psn_no), now.date())
        return {
            "userName": p.psn_name,
            "idNo": p.certno,
            "idType": p.psn_cert_type,
            "ecToken": token,
            "insuOrg": main.insuplc_admdvs if main else "",
            "authNo": t["auth_no"],
            "ecIndexNo": m.ec_index_no(p.psn_no, _INDEX_SALT),
            "gender": p.gend,
            "birthday": p.brdy.isoformat(),
            "nationality": "CHN" if p.psn_cert_type in (certs.ID_CARD,) else "",
            "psnNo": p.psn_no,
            "tokenExpiresAt": t["expires_at"].isoformat(),
        }

    def identity_1101(self, token: str, org_id: str) -> dict[str, object]:
        """The 1101 output for an ecToken presented by ``org_id`` (mdtrt_cert_type 01)."""
        now = self.clock()
        with self.engine.begin() as conn:
            return person_info_1101_by_ec_token(conn, token, org_id, now)

    def check_token(self, token: str, org_id: str) -> bool:
        """``localEcTokenCheck``: is the ecToken still valid for this institution?"""
        with self.engine.connect() as conn:
            try:
                resolve_ec_token(conn, token, org_id, self.clock())
            except EcError:
                return False
            return True
