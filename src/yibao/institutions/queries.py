"""Read-only queries over designated institutions (定点医药机构查询) for the console.

Plain rows (``dict`` per row); lists are filtered by the user's scope through
:mod:`yibao.console.scoping`. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from yibao.console.model import Scope
from yibao.console.scoping import scoped
from yibao.db.counting import Total, capped_count
from yibao.db.probe import tables_exist
from yibao.institutions.store import institution, operator

Row = dict[str, Any]


def available(conn: sa.Connection) -> bool:
    """Whether institutions are stored here (the institutions migration has run)."""
    return tables_exist(conn, "institution")


#: sort key → ORDER BY columns of the institutions list
SORTS = {
    "region": ("admdvs", "fixmedins_type", "fixmedins_code"),
    "code": ("fixmedins_code",),
    "name": ("fixmedins_name", "fixmedins_code"),
}


def _filtered(scope: Scope, q: str) -> sa.Select[Any]:
    t = institution
    stmt = scoped(sa.select(t), scope, regions=[t.c.admdvs], institution=t.c.fixmedins_code)
    if q:
        stmt = stmt.where(
            sa.or_(
                t.c.fixmedins_code.contains(q.upper(), autoescape=True),
                t.c.fixmedins_name.contains(q, autoescape=True),
            )
        )
    return stmt


def search(conn: sa.Connection, scope: Scope, q: str, limit: int = 200) -> list[Row]:
    """Institutions in scope whose code or name contains ``q``, by region, type and code."""
    rows, _ = page(conn, scope, q, size=limit)
    return rows


def page(
    conn: sa.Connection, scope: Scope, q: str = "", *, sort: str = "region", offset: int = 0,
    size: int = 50,
) -> tuple[list[Row], Total]:  # fmt: skip
    """One page of institutions in scope (a province has thousands, not millions: offset
    paging) and the total, exact up to a cap."""
    t = institution
    stmt = _filtered(scope, q)
    total = capped_count(conn, stmt)
    order = [t.c[c] for c in SORTS.get(sort, SORTS["region"])]
    rows = conn.execute(stmt.order_by(*order).offset(max(offset, 0)).limit(size)).mappings()
    return [dict(m) for m in rows], total


def get(conn: sa.Connection, fixmedins_code: str) -> Row | None:
    """One institution's row; the caller checks it is in scope."""
    t = institution
    m = conn.execute(sa.select(t).where(t.c.fixmedins_code == fixmedins_code)).mappings().first()
    return None if m is None else dict(m)


def operators(conn: sa.Connection, fixmedins_code: str) -> list[Row]:
    """An institution's operators and terminals (经办人), by number."""
    op = operator
    stmt = sa.select(op).where(op.c.fixmedins_code == fixmedins_code).order_by(op.c.opter_no)
    return [dict(m) for m in conn.execute(stmt).mappings()]


def names(conn: sa.Connection, codes: Iterable[str] | None = None) -> dict[str, str]:
    """Institution names by code: all of them, or those of ``codes`` (none when the
    institutions capability is not deployed)."""
    if not tables_exist(conn, "institution"):
        return {}
    t = institution
    stmt = sa.select(t.c.fixmedins_code, t.c.fixmedins_name)
    if codes is not None:
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        stmt = stmt.where(t.c.fixmedins_code.in_(wanted))
    return {str(k): v for k, v in conn.execute(stmt)}
