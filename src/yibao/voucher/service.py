"""E-voucher use cases (电子凭证服务): channels, activation, dynamic codes, institution exchange,
payment password, family accounts, activation rates.

The clock is injected (``clock``) so expiry and lockout are testable; the model takes explicit times.
Each public method is one transaction. For the gateway, :func:`resolve_ec_token` and
:func:`password_verified` work inside the caller's transaction.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa
import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.dialects.postgresql import insert

from yibao import codes
from yibao.db.tables import audit, publish
from yibao.registry import certs
from yibao.registry import service as registry
from yibao.registry import store as reg
from yibao.registry.model import MAIN_INSUTYPES, Enrolment, Person, age_on
from yibao.registry.synth import REGIONS
from yibao.voucher import model as m
from yibao.voucher.model import EcError
from yibao.voucher.store import (
    ec_activation_event,
    ec_authorization,
    ec_channel,
    ec_channel_nonce,
    ec_code,
    ec_family,
    ec_password,
    ec_signing_key,
    ec_token,
    ec_voucher,
)
from yibao.voucher.verifier import RealPersonVerifier, load_verifier

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
T = TypeVar("T")
CHANNEL_KINDS = ("nhsa_app", "wechat", "alipay", "unionpay", "bank", "provincial_app")
_INDEX_SALT = b"yibao-ec-index:"


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class VoucherSettings:
    """Lifetimes and limits, from the environment (documented in ``docs/voucher.md``)."""

    code_ttl: int = field(
        default_factory=lambda: min(int(os.environ.get("YIBAO_EC_CODE_TTL", "60")), m.MAX_CODE_TTL)
    )
    token_ttl: int = field(
        default_factory=lambda: int(os.environ.get("YIBAO_EC_TOKEN_TTL", "14400"))
    )
    lock_seconds: int = field(
        default_factory=lambda: int(os.environ.get("YIBAO_EC_PWD_LOCK_SECONDS", "1800"))
    )
    signature_window: int = field(
        default_factory=lambda: int(os.environ.get("YIBAO_EC_SIGNATURE_WINDOW", "300"))
    )
    verifier: str = field(default_factory=lambda: os.environ.get("YIBAO_EC_VERIFIER", "demo"))


def _main_enrolment(enrolments: list[Enrolment], on: date) -> Enrolment | None:
    for t in MAIN_INSUTYPES:
        for e in enrolments:
            if e.insutype == t and e.active_on(on):
                return e
    return None


def resolve_ec_token(conn: sa.Connection, token: str, org_id: str, now: datetime) -> str:
    """``psn_no`` behind an ecToken presented by ``org_id`` (for 1101 with mdtrt_cert_type 01).

    Raises ``EC_TOKEN_INVALID``, ``EC_TOKEN_EXPIRED``, ``EC_TOKEN_WRONG_ORG`` or
    ``EC_VOUCHER_INACTIVE``.
    """
    row = conn.execute(sa.select(ec_token).where(ec_token.c.ec_token == token)).mappings().first()
    if row is None:
        raise EcError("EC_TOKEN_INVALID")
    if now >= row["expires_at"]:
        raise EcError("EC_TOKEN_EXPIRED", f"有效期至{row['expires_at'].isoformat()}")
    if row["org_id"] != org_id:
        raise EcError("EC_TOKEN_WRONG_ORG")
    status = conn.execute(
        sa.select(ec_voucher.c.status).where(ec_voucher.c.psn_no == row["psn_no"])
    ).scalar()
    if status != "active":
        raise EcError("EC_VOUCHER_INACTIVE")
    return str(row["psn_no"])


def person_info_1101_by_ec_token(
    conn: sa.Connection, token: str, org_id: str, now: datetime
) -> dict[str, object]:
    """The 1101 output for an ecToken presented by ``org_id`` (audited as ``org:<org_id>``)."""
    psn_no = resolve_ec_token(conn, token, org_id, now)
    return registry.person_info_1101(conn, psn_no, now.date(), actor=f"org:{org_id}")


def password_verified(conn: sa.Connection, token: str) -> bool:
    """Whether the insured confirmed the payment password for this ecToken (药店密码验证)."""
    return (
        conn.execute(
            sa.select(ec_token.c.pwd_verified_at).where(ec_token.c.ec_token == token)
        ).scalar()
        is not None
    )


class VoucherService:
    """The e-voucher use cases over an engine; ``clock`` and ``verifier`` are injectable."""

    def __init__(
        self,
        engine: sa.Engine,
        settings: VoucherSettings | None = None,
        *,
        clock: Clock = system_clock,
        verifier: RealPersonVerifier | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings or VoucherSettings()
        self.clock = clock
        self.verifier = verifier or load_verifier(self.settings.verifier)
        self.hasher = PasswordHasher()
        self._keys: dict[str, bytes] = {}

    # --- keys and channels ------------------------------------------------------------------

    def _signing_keys(self, conn: sa.Connection) -> dict[str, bytes]:
        if not self._keys:
            conn.execute(
                insert(ec_signing_key)
                .values(kid="k1", secret=secrets.token_bytes(32))
                .on_conflict_do_nothing()
            )
            rows = conn.execute(sa.select(ec_signing_key.c.kid, ec_signing_key.c.secret))
            self._keys = {r.kid: bytes(r.secret) for r in rows}
        return self._keys

    def _current_kid(self, keys: dict[str, bytes]) -> str:
        return max(keys)

    def register_channel(
        self,
        chnl_id: str,
        name: str,
        kind: str,
        secret: str | None = None,
        *,
        actor: str = "system",
    ) -> str:
        """Register a channel app (渠道); return its secret. Idempotent on ``chnl_id``."""
        if kind not in CHANNEL_KINDS:
            raise EcError("EC_FIELD_INVALID", f"kind应为{'/'.join(CHANNEL_KINDS)}")
        if not chnl_id or len(chnl_id) > 40 or not chnl_id.replace("_", "").isalnum():
            raise EcError("EC_FIELD_INVALID", "chnl_id应为1至40位字母、数字或下划线")
        with self.engine.begin() as conn:
            conn.execute(
                insert(ec_channel)
                .values(
                    chnl_id=chnl_id, name=name, kind=kind, secret=secret or secrets.token_hex(24)
                )
                .on_conflict_do_nothing()
            )
            audit(conn, actor, "voucher.channel.register", chnl_id, name=name, kind=kind)
            return str(
                conn.execute(
                    sa.select(ec_channel.c.secret).where(ec_channel.c.chnl_id == chnl_id)
                ).scalar_one()
            )

    def channels(self) -> list[dict[str, object]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    ec_channel.c.chnl_id, ec_channel.c.name, ec_channel.c.kind, ec_channel.c.active
                ).order_by(ec_channel.c.chnl_id)
            ).mappings()
            return [dict(r) for r in rows]

    def authenticate_channel(
        self,
        chnl_id: str,
        method: str,
        path: str,
        timestamp: str,
        nonce: str,
        body: bytes,
        signature: str,
    ) -> None:
        """Check a channel call's HMAC signature, time window and nonce (replay protection)."""
        now = self.clock()
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(ec_channel.c.secret, ec_channel.c.active).where(
                    ec_channel.c.chnl_id == chnl_id
                )
            ).first()
            if row is None or not row.active:
                raise EcError("EC_AUTH_UNKNOWN_CHANNEL")
            m.check_channel_signature(
                row.secret,
                method,
                path,
                timestamp,
                nonce,
                body,
                signature,
                int(now.timestamp()),
                self.settings.signature_window,
            )
            window = timedelta(seconds=2 * self.settings.signature_window)
            conn.execute(ec_channel_nonce.delete().where(ec_channel_nonce.c.at < now - window))
            fresh = conn.execute(
                insert(ec_channel_nonce)
                .values(chnl_id=chnl_id, nonce=nonce, at=now)
                .on_conflict_do_nothing()
                .returning(ec_channel_nonce.c.nonce)
            ).first()
            if not fresh:
                raise EcError("EC_AUTH_REPLAY")

    # --- activation -------------------------------------------------------------------------

    def _real_name(self, conn: sa.Connection, psn_name: str, cert_type: str, certno: str) -> Person:
        psn_no = registry.find_psn_no_by_cert(conn, cert_type, certno)
        p = reg.get_person(conn, psn_no) if psn_no else None
        if p is None or p.psn_name != psn_name.strip():
            raise EcError("EC_REALNAME_FAILED")
        return p

    def _real_person(self, p: Person, evidence: str) -> None:
        if not self.verifier.verify(
            psn_no=p.psn_no, psn_name=p.psn_name, certno=p.certno, evidence=evidence
        ):
            raise EcError("EC_REALPERSON_FAILED")

    def _event(
        self, conn: sa.Connection, p: Person, chnl_id: str, kind: str, now: datetime, actor: str
    ) -> None:
        main = _main_enrolment(reg.enrolments(conn, p.psn_no), now.date())
        conn.execute(
            ec_activation_event.insert().values(
                psn_no=p.psn_no,
                chnl_id=chnl_id,
                kind=kind,
                at=now,
                admdvs=main.insuplc_admdvs if main else "",
                town=p.town,
                emp_no=main.emp_no if main else "",
                emp_name=main.emp_name if main else "",
                category=main.psn_type if main else "",
                insutype=main.insutype if main else "",
                actor=actor,
            )
        )
        publish(
            conn,
            f"voucher.{kind}",
            p.psn_no,
            {
                "chnl_id": chnl_id,
                "at": now.isoformat(),
                "admdvs": main.insuplc_admdvs if main else "",
            },
        )

    def _ensure_voucher(
        self, conn: sa.Connection, p: Person, chnl_id: str, now: datetime, actor: str
    ) -> bool:
        """Activate (or re-activate) the person's e-voucher; True when this call activated it."""
        row = conn.execute(
            sa.select(ec_voucher.c.status).where(ec_voucher.c.psn_no == p.psn_no).with_for_update()
        ).first()
        if row is not None and row.status == "active":
            return False
        values = {
            "status": "active",
            "activated_at": now,
            "activated_chnl": chnl_id,
            "revoked_at": None,
            "revoked_by": None,
            "revoke_reason": None,
        }
        conn.execute(
            insert(ec_voucher)
            .values(psn_no=p.psn_no, ec_index_no=m.ec_index_no(p.psn_no, _INDEX_SALT), **values)
            .on_conflict_do_update(index_elements=["psn_no"], set_=values)
        )
        self._event(conn, p, chnl_id, "activate", now, actor)
        return True

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

    def _authorized(self, conn: sa.Connection, chnl_id: str, chnl_user_id: str) -> str:
        psn_no = conn.execute(
            sa.select(ec_authorization.c.psn_no).where(
                ec_authorization.c.chnl_id == chnl_id,
                ec_authorization.c.chnl_user_id == chnl_user_id,
                ec_authorization.c.status == "active",
            )
        ).scalar()
        if psn_no is None:
            raise EcError("EC_CHANNEL_UNAUTHORIZED")
        status = conn.execute(
            sa.select(ec_voucher.c.status).where(ec_voucher.c.psn_no == psn_no)
        ).scalar()
        if status != "active":
            raise EcError("EC_VOUCHER_INACTIVE")
        return str(psn_no)

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

    # --- dynamic code and institution exchange -------------------------------------------------

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

    # --- payment password -------------------------------------------------------------------

    def _pwd_row(self, conn: sa.Connection, psn_no: str) -> sa.RowMapping | None:
        return (
            conn.execute(
                sa.select(ec_password).where(ec_password.c.psn_no == psn_no).with_for_update()
            )
            .mappings()
            .first()
        )

    def _store_pwd(self, conn: sa.Connection, psn_no: str, password: str, now: datetime) -> None:
        p = reg.get_person(conn, psn_no)
        assert p is not None
        m.check_new_password(password, p.certno, p.brdy)
        values = {
            "hash": self.hasher.hash(password),
            "failed": 0,
            "locked_until": None,
            "updated_at": now,
        }
        conn.execute(
            insert(ec_password)
            .values(psn_no=psn_no, **values)
            .on_conflict_do_update(index_elements=["psn_no"], set_=values)
        )

    def set_password(self, chnl_id: str, chnl_user_id: str, password: str) -> None:
        """First setting of the 电子凭证密码."""
        now = self.clock()
        with self.engine.begin() as conn:
            psn_no = self._authorized(conn, chnl_id, chnl_user_id)
            if self._pwd_row(conn, psn_no) is not None:
                raise EcError("EC_PWD_ALREADY_SET")
            self._store_pwd(conn, psn_no, password, now)
            audit(conn, f"chnl:{chnl_id}", "voucher.password.set", psn_no)

    def _check(self, conn: sa.Connection, psn_no: str, password: str, now: datetime) -> None:
        """Verify with lockout; commits the failure count (the caller's transaction must commit)."""
        row = self._pwd_row(conn, psn_no)
        if row is None:
            raise EcError("EC_PWD_NOT_SET")
        state = m.PasswordState(row["failed"], row["locked_until"])
        if state.locked(now):
            assert state.locked_until is not None
            raise EcError("EC_PWD_LOCKED", f"将于{state.locked_until.isoformat()}自动解锁")
        try:
            ok: bool = self.hasher.verify(row["hash"], password)
        except (VerificationError, InvalidHashError):
            ok = False
        new = (
            m.after_success()
            if ok
            else m.after_failure(state, now, timedelta(seconds=self.settings.lock_seconds))
        )
        conn.execute(
            ec_password.update()
            .where(ec_password.c.psn_no == psn_no)
            .values(failed=new.failed, locked_until=new.locked_until)
        )
        if not ok:
            if new.locked(now):
                assert new.locked_until is not None
                raise _Deferred(
                    EcError("EC_PWD_LOCKED", f"将于{new.locked_until.isoformat()}自动解锁")
                )
            raise _Deferred(EcError("EC_PWD_WRONG", f"还可尝试{m.tries_left(new)}次"))

    def _run_check(self, fn: Callable[[sa.Connection], T]) -> T:
        """Run ``fn`` in a transaction that commits a failed-try count before raising."""
        deferred: EcError | None = None
        with self.engine.begin() as conn:
            try:
                return fn(conn)
            except _Deferred as d:
                deferred = d.error
        assert deferred is not None
        raise deferred

    def change_password(self, chnl_id: str, chnl_user_id: str, old: str, new: str) -> None:
        now = self.clock()

        def run(conn: sa.Connection) -> None:
            psn_no = self._authorized(conn, chnl_id, chnl_user_id)
            self._check(conn, psn_no, old, now)
            self._store_pwd(conn, psn_no, new, now)
            audit(conn, f"chnl:{chnl_id}", "voucher.password.change", psn_no)

        self._run_check(run)

    def reset_password(
        self,
        chnl_id: str,
        chnl_user_id: str,
        *,
        psn_name: str,
        psn_cert_type: str,
        certno: str,
        evidence: str,
        new: str,
    ) -> None:
        """Reset after a fresh 实名 + 实人 check; also clears a lockout."""
        now = self.clock()
        with self.engine.begin() as conn:
            psn_no = self._authorized(conn, chnl_id, chnl_user_id)
            p = self._real_name(conn, psn_name, psn_cert_type, certno)
            if p.psn_no != psn_no:
                raise EcError("EC_REALNAME_FAILED", "与渠道绑定的参保人不一致")
            self._real_person(p, evidence)
            self._store_pwd(conn, psn_no, new, now)
            audit(conn, f"chnl:{chnl_id}", "voucher.password.reset", psn_no)

    def verify_password(
        self, chnl_id: str, chnl_user_id: str, password: str, *, ec_token_value: str = ""
    ) -> dict[str, object]:
        """The insured confirms on the phone (参保人在移动端验证支付密码); with an ecToken of
        theirs, that token is marked verified for the pharmacy's settlement."""
        now = self.clock()

        def run(conn: sa.Connection) -> dict[str, object]:
            psn_no = self._authorized(conn, chnl_id, chnl_user_id)
            if ec_token_value:
                owner = conn.execute(
                    sa.select(ec_token.c.psn_no, ec_token.c.expires_at).where(
                        ec_token.c.ec_token == ec_token_value
                    )
                ).first()
                if owner is None or owner.psn_no != psn_no:
                    raise EcError("EC_TOKEN_INVALID")
                if now >= owner.expires_at:
                    raise EcError("EC_TOKEN_EXPIRED")
            self._check(conn, psn_no, password, now)
            if ec_token_value:
                conn.execute(
                    ec_token.update()
                    .where(ec_token.c.ec_token == ec_token_value)
                    .values(pwd_verified_at=now)
                )
            return {"verified": True, "psnNo": psn_no}

        return self._run_check(run)

    def verify_password_at_institution(
        self, token: str, org_id: str, password: str
    ) -> dict[str, object]:
        """Password typed on the institution's PIN pad, for its own ecToken."""
        now = self.clock()

        def run(conn: sa.Connection) -> dict[str, object]:
            psn_no = resolve_ec_token(conn, token, org_id, now)
            self._check(conn, psn_no, password, now)
            conn.execute(
                ec_token.update().where(ec_token.c.ec_token == token).values(pwd_verified_at=now)
            )
            return {"verified": True, "psnNo": psn_no}

        return self._run_check(run)

    def unlock_password(self, psn_no: str, *, actor: str) -> None:
        """Bureau unlock (经办解锁) before the timed unlock."""
        with self.engine.begin() as conn:
            conn.execute(
                ec_password.update()
                .where(ec_password.c.psn_no == psn_no)
                .values(failed=0, locked_until=None)
            )
            audit(conn, actor, "voucher.password.unlock", psn_no)

    # --- family (亲情账户) ----------------------------------------------------------------------

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

    # --- statistics -------------------------------------------------------------------------

    def activation_rates(
        self, by: str, *, admdvs: str | None = None, until: datetime | None = None
    ) -> list[dict[str, object]]:
        """Activation rate (激活率) by region, town, unit, category or channel."""
        from yibao.voucher.store import activation_rate_sql

        if by not in ("region", "town", "unit", "category", "channel"):
            raise EcError("EC_FIELD_INVALID", "by应为region/town/unit/category/channel")
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(activation_rate_sql(by)),
                {"admdvs": admdvs, "until": until or self.clock() + timedelta(seconds=1)},
            ).mappings()
            out = []
            for r in rows:
                insured, activated = int(r["insured"]), int(r["activated"])
                key = r["key"] or ""
                label = r["label"] or ""
                if by == "region":
                    label = REGION_NAMES.get(key, label)
                elif by == "category":
                    label = _psn_type_label(key)
                out.append(
                    {
                        "key": key,
                        "label": label,
                        "insured": insured,
                        "activated": activated,
                        "rate": f"{activated * 100 / insured:.1f}%" if insured else "-",
                    }
                )
            return out


REGION_NAMES = {r.admdvs: r.name for r in REGIONS}


def _psn_type_label(code: str) -> str:
    try:
        return codes.label("psn_type", code)
    except codes.UnknownCodeTable:
        return code


class _Deferred(Exception):
    """Carries an error out of a transaction that must still commit (failed-try count)."""

    def __init__(self, error: EcError) -> None:
        super().__init__(error.message)
        self.error = error
