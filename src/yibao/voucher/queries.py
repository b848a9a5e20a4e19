"""Read-only queries over the e-voucher (医保电子凭证查询) for the console, the simulators and
other capabilities' entry points.

Plain rows (``dict`` per row); lists are filtered by the user's scope through
:mod:`yibao.console.scoping`. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from yibao.console.model import Scope
from yibao.console.scoping import region_filter
from yibao.db.probe import tables_exist
from yibao.registry import queries as registry
from yibao.registry.store import enrolment, person
from yibao.voucher.base import password_verified
from yibao.voucher.model import EcError
from yibao.voucher.store import ec_authorization, ec_channel, ec_token, ec_voucher

Row = dict[str, Any]

__all__ = [
    "activation_by_region",
    "authorised_person",
    "available",
    "channel_holder",
    "not_activated",
    "password_verified",
    "pending_tokens",
    "tokens_available",
    "voucher_of",
]


def available(conn: sa.Connection) -> bool:
    """Whether e-vouchers are stored here (the voucher migration has run)."""
    return tables_exist(conn, "ec_voucher")


def tokens_available(conn: sa.Connection) -> bool:
    return tables_exist(conn, "ec_token")


def voucher_of(conn: sa.Connection, psn_no: str) -> tuple[Row | None, list[str]]:
    """A person's e-voucher row (``None`` if never activated) and the names of the channels it
    is authorised on (the channel id where a channel has no name)."""
    v = conn.execute(sa.select(ec_voucher).where(ec_voucher.c.psn_no == psn_no)).mappings().first()
    if v is None:
        return None, []
    channels = [
        r.name or r.chnl_id
        for r in conn.execute(
            sa.select(ec_authorization.c.chnl_id, ec_channel.c.name)
            .select_from(
                ec_authorization.outerjoin(
                    ec_channel, ec_channel.c.chnl_id == ec_authorization.c.chnl_id
                )
            )
            .where(ec_authorization.c.psn_no == psn_no, ec_authorization.c.status == "active")
            .order_by(ec_authorization.c.chnl_id)
        )
    ]
    return dict(v), channels


def activation_by_region(conn: sa.Connection, scope: Scope, insutypes: Sequence[str]) -> list[Row]:
    """Per region: insured persons ``n`` and those with an active e-voucher ``a`` (激活)."""
    ins = registry.insured(scope, insutypes)
    v = ec_voucher
    stmt = (
        sa.select(ins.c.admdvs, sa.func.count().label("n"), sa.func.count(v.c.psn_no).label("a"))
        .select_from(ins.outerjoin(v, sa.and_(v.c.psn_no == ins.c.psn_no, v.c.status == "active")))
        .group_by(ins.c.admdvs)
        .order_by(ins.c.admdvs)
    )
    return [dict(m) for m in conn.execute(stmt).mappings()]


def authorised_person(conn: sa.Connection, chnl_id: str, chnl_user_id: str) -> Row | None:
    """``psn_no`` and ``psn_name`` of the person a channel user is actively authorised for."""
    if not tables_exist(conn, "ec_authorization"):
        return None
    a = ec_authorization
    row = (
        conn.execute(
            sa.select(person.c.psn_no, person.c.psn_name)
            .join(a, a.c.psn_no == person.c.psn_no)
            .where(a.c.chnl_id == chnl_id, a.c.chnl_user_id == chnl_user_id, a.c.status == "active")
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def channel_holder(conn: sa.Connection, chnl_id: str, chnl_user_id: str) -> str:
    """The psn_no the channel user is authorised for (active authorisation, active voucher);
    :class:`EcError` ``EC_CHANNEL_UNAUTHORIZED`` or ``EC_VOUCHER_INACTIVE`` otherwise."""
    row = conn.execute(
        sa.select(ec_authorization.c.psn_no, ec_voucher.c.status)
        .join(ec_voucher, ec_voucher.c.psn_no == ec_authorization.c.psn_no, isouter=True)
        .where(
            ec_authorization.c.chnl_id == chnl_id,
            ec_authorization.c.chnl_user_id == chnl_user_id,
            ec_authorization.c.status == "active",
        )
    ).first()
    if row is None:
        raise EcError("EC_CHANNEL_UNAUTHORIZED")
    if row.status != "active":
        raise EcError("EC_VOUCHER_INACTIVE")
    return str(row.psn_no)


def not_activated(
    conn: sa.Connection, scope: Scope, insutypes: Sequence[str], limit: int
) -> list[Row]:
    """Persons insured normally in scope without an e-voucher yet: ``psn_no``, ``psn_name``,
    ``certno``, ``insuplc_admdvs`` (one row per such enrolment), by psn_no."""
    if not tables_exist(conn, "person", "enrolment", "ec_voucher"):
        return []
    p, e, v = person, enrolment, ec_voucher
    stmt = (
        sa.select(p.c.psn_no, p.c.psn_name, p.c.certno, e.c.insuplc_admdvs)
        .join(e, e.c.psn_no == p.c.psn_no)
        .where(
            e.c.psn_insu_stas == "1",
            e.c.insutype.in_(insutypes),
            region_filter(scope, [e.c.insuplc_admdvs]),
            ~sa.exists().where(v.c.psn_no == p.c.psn_no),
        )
        .order_by(p.c.psn_no)
        .limit(limit)
    )
    return [dict(m) for m in conn.execute(stmt).mappings()]


def pending_tokens(conn: sa.Connection, psn_no: str, now: datetime, limit: int = 5) -> list[Row]:
    """A person's open payment prompts, newest first: one per unexpired ecToken a counter
    pre-settled with and has not settled yet (:mod:`yibao.voucher.prompts`): ``ec_token``,
    ``org_id``, ``issued_at``, ``pwd_verified_at``, ``prompt`` (the amounts in fen)."""
    t = ec_token
    stmt = (
        sa.select(t.c.ec_token, t.c.org_id, t.c.issued_at, t.c.pwd_verified_at, t.c.prompt)
        .where(
            t.c.psn_no == psn_no,
            t.c.expires_at > now,
            t.c.prompt.is_not(None),
            t.c.settled_at.is_(None),
        )
        .order_by(t.c.prompted_at.desc())
        .limit(limit)
    )
    return [dict(m) for m in conn.execute(stmt).mappings()]
