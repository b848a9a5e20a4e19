"""Read-only queries over the registry (参保登记查询) for the console and reports.

Plain rows (``dict`` per row) from the registry's tables; lists of persons are filtered by the
user's scope through :mod:`yibao.console.scoping` (a person belongs to the regions of their
enrolments, 参保地 ``insuplc_admdvs``). Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from yibao.console.model import Scope
from yibao.console.scoping import region_filter, require_person_data
from yibao.db.counting import Total, capped_count
from yibao.db.probe import tables_exist
from yibao.registry.store import enrolment, person, person_identity, personal_account

Row = dict[str, Any]


def available(conn: sa.Connection) -> bool:
    """Whether persons and enrolments are stored here (the registry migration has run)."""
    return tables_exist(conn, "person", "enrolment")


def has_enrolments(conn: sa.Connection) -> bool:
    return tables_exist(conn, "enrolment")


@dataclass(slots=True)
class PersonHit:
    """A person found by :func:`search` with their enrolments ``(insutype, insuplc_admdvs)``."""

    person: Row
    enrolments: list[tuple[str, str]]


def search(conn: sa.Connection, scope: Scope, q: str, limit: int = 50) -> list[PersonHit]:
    """Persons in scope matching ``q`` (人员编号, full 证件号码 or part of the name), by psn_no.
    Aggregate-only roles are refused; an institution's account does not browse the registry."""
    in_scope = sa.exists().where(
        enrolment.c.psn_no == person.c.psn_no,
        region_filter(scope, [enrolment.c.insuplc_admdvs]),
    )
    require_person_data(scope)
    if scope.fixmedins_code is not None:
        return []
    stmt = sa.select(person).where(in_scope).order_by(person.c.psn_no).limit(limit)
    if q:
        stmt = stmt.where(
            sa.or_(
                person.c.psn_no == q,
                person.c.certno == q.upper(),
                person.c.psn_name.contains(q, autoescape=True),
            )
        )
    people = [dict(m) for m in conn.execute(stmt).mappings()]
    return _with_enrolments(conn, people)


def _with_enrolments(conn: sa.Connection, people: list[Row]) -> list[PersonHit]:
    if not people:
        return []
    enrol: dict[str, list[tuple[str, str]]] = {}
    for r in conn.execute(
        sa.select(enrolment.c.psn_no, enrolment.c.insutype, enrolment.c.insuplc_admdvs)
        .where(enrolment.c.psn_no.in_([p["psn_no"] for p in people]))
        .order_by(enrolment.c.psn_no, enrolment.c.insutype)
    ):
        enrol.setdefault(r.psn_no, []).append((r.insutype, r.insuplc_admdvs))
    return [PersonHit(p, enrol.get(p["psn_no"], [])) for p in people]


def get_person(conn: sa.Connection, psn_no: str) -> Row | None:
    m = conn.execute(sa.select(person).where(person.c.psn_no == psn_no)).mappings().first()
    return None if m is None else dict(m)


def enrolments(conn: sa.Connection, psn_no: str) -> list[Row]:
    """A person's enrolments (参保信息), by 险种."""
    stmt = sa.select(enrolment).where(enrolment.c.psn_no == psn_no).order_by(enrolment.c.insutype)
    return [dict(m) for m in conn.execute(stmt).mappings()]


def insured_regions(conn: sa.Connection, psn_no: str) -> list[str]:
    """The insured places (参保地) of a person's enrolments."""
    stmt = sa.select(enrolment.c.insuplc_admdvs).where(enrolment.c.psn_no == psn_no)
    return [str(r) for r in conn.execute(stmt).scalars()]


def account_balance(conn: sa.Connection, psn_no: str) -> int | None:
    """The personal account's balance (个人账户余额) in fen, ``None`` without an account."""
    stmt = sa.select(personal_account.c.balc).where(personal_account.c.psn_no == psn_no)
    balc = conn.execute(stmt).scalar()
    return None if balc is None else int(balc)


def identities(conn: sa.Connection, psn_no: str) -> list[Row]:
    """A person's assistance identities (人员身份), oldest first."""
    stmt = (
        sa.select(person_identity)
        .where(person_identity.c.psn_no == psn_no)
        .order_by(person_identity.c.begntime)
    )
    return [dict(m) for m in conn.execute(stmt).mappings()]


def names(conn: sa.Connection, psn_nos: Iterable[str]) -> dict[str, str]:
    """Names of persons by ``psn_no`` (none when the registry is not deployed)."""
    wanted = sorted(set(psn_nos))
    if not wanted or not tables_exist(conn, "person"):
        return {}
    stmt = sa.select(person.c.psn_no, person.c.psn_name).where(person.c.psn_no.in_(wanted))
    return {str(k): v for k, v in conn.execute(stmt)}


def name_and_certno(conn: sa.Connection, psn_no: str) -> tuple[str, str]:
    """A person's name and full ID number (for the phone simulator's demo persons only)."""
    stmt = sa.select(person.c.psn_name, person.c.certno).where(person.c.psn_no == psn_no)
    row = conn.execute(stmt).one()
    return str(row.psn_name), str(row.certno)


def insured(scope: Scope, insutypes: Sequence[str]) -> sa.Subquery:
    """Persons insured normally (正常参保) in one of ``insutypes`` in scope, each once, with the
    first of their insured places: ``psn_no``, ``admdvs`` (a building block for counts)."""
    e = enrolment
    return (
        sa.select(e.c.psn_no, sa.func.min(e.c.insuplc_admdvs).label("admdvs"))
        .where(e.c.psn_insu_stas == "1", e.c.insutype.in_(insutypes))
        .where(region_filter(scope, [e.c.insuplc_admdvs]))
        .group_by(e.c.psn_no)
        .subquery()
    )


def insured_by_region(conn: sa.Connection, scope: Scope, insutypes: Sequence[str]) -> list[Row]:
    """Insured persons per region: ``admdvs``, ``n`` (and ``a`` = 0: no e-voucher figures)."""
    ins = insured(scope, insutypes)
    stmt = (
        sa.select(ins.c.admdvs, sa.func.count().label("n"), sa.literal(0).label("a"))
        .group_by(ins.c.admdvs)
        .order_by(ins.c.admdvs)
    )
    return [dict(m) for m in conn.execute(stmt).mappings()]


def region_range(column: sa.ColumnElement[str], prefixes: Sequence[str]) -> sa.ColumnElement[bool]:
    """Region prefixes as indexable ranges (``'440100' <= c <= '440199'``), not ``LIKE``: the
    btree on ``enrolment (insuplc_admdvs, insutype)`` serves them under any collation (digits)."""
    return sa.or_(
        *(sa.and_(column >= p.ljust(6, "0"), column <= p.ljust(6, "9")) for p in prefixes)
    )


def _in_scope(scope: Scope) -> sa.ColumnElement[bool]:
    if scope.all_regions:
        return sa.true()
    return sa.exists().where(
        enrolment.c.psn_no == person.c.psn_no,
        region_range(enrolment.c.insuplc_admdvs, scope.prefixes),
    )


def person_page(
    conn: sa.Connection,
    scope: Scope,
    q: str = "",
    *,
    after: str = "",
    before: str = "",
    size: int = 50,
    desc: bool = False,
) -> tuple[list[PersonHit], bool, Total]:
    """One page of persons in scope by 人员编号 (keyset: after/before a ``psn_no``), whether more
    lie beyond it in the walking direction, and the total (exact up to a cap, else estimated)."""
    require_person_data(scope)
    if scope.fixmedins_code is not None:
        return [], False, Total(0)
    cond = [_in_scope(scope)]
    if q:
        cond.append(
            sa.or_(
                person.c.psn_no == q,
                person.c.certno == q.upper(),
                person.c.psn_name.contains(q, autoescape=True),
            )
        )
    total = capped_count(conn, sa.select(person.c.psn_no).where(*cond))
    backward = bool(before)
    walk_desc = desc != backward
    stmt = sa.select(person).where(*cond)
    if after or before:
        key = before or after
        stmt = stmt.where(person.c.psn_no < key if walk_desc else person.c.psn_no > key)
    order = person.c.psn_no.desc() if walk_desc else person.c.psn_no.asc()
    people = [dict(m) for m in conn.execute(stmt.order_by(order).limit(size + 1)).mappings()]
    more = len(people) > size
    people = people[:size]
    if backward:
        people.reverse()
    return _with_enrolments(conn, people), more, total
