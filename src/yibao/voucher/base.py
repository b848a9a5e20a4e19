"""Shared parts of the e-voucher use cases (电子凭证服务): settings, clock, the gateway's
in-transaction helpers and the service base with identity checks and activation events."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TypeVar

import sqlalchemy as sa
import structlog
from argon2 import PasswordHasher
from sqlalchemy.dialects.postgresql import insert

from yibao import codes
from yibao.db.tables import publish
from yibao.registry import service as registry
from yibao.registry import store as reg
from yibao.registry.model import MAIN_INSUTYPES, Enrolment, Person
from yibao.registry.synth import REGIONS
from yibao.voucher import model as m
from yibao.voucher.model import EcError
from yibao.voucher.secrets_at_rest import open_bytes, seal_bytes
from yibao.voucher.store import (
    ec_activation_event,
    ec_authorization,
    ec_signing_key,
    ec_token,
    ec_voucher,
)
from yibao.voucher.verifier import RealPersonVerifier, load_verifier

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
T = TypeVar("T")
CHANNEL_KINDS = ("nhsa_app", "wechat", "alipay", "unionpay", "bank", "provincial_app")
CHANNEL_KIND_LABELS = {  # 激活渠道类型 as people name them (pages, audit log)
    "nhsa_app": "国家医保服务平台",
    "wechat": "微信",
    "alipay": "支付宝",
    "unionpay": "云闪付",
    "bank": "银行",
    "provincial_app": "省级医保服务平台",
}
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


class VoucherBase:
    """State shared by the use-case mixins: engine, settings, clock, verifier, keys."""

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

    def _signing_keys(self, conn: sa.Connection) -> dict[str, bytes]:
        if not self._keys:
            conn.execute(
                insert(ec_signing_key)
                .values(kid="k1", secret=seal_bytes(secrets.token_bytes(32)))
                .on_conflict_do_nothing()
            )
            rows = conn.execute(sa.select(ec_signing_key.c.kid, ec_signing_key.c.secret))
            self._keys = {r.kid: open_bytes(bytes(r.secret)) for r in rows}
        return self._keys

    def _current_kid(self, keys: dict[str, bytes]) -> str:
        return max(keys)

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
