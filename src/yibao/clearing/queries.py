"""Read-only queries over clearing statements (异地清算单查询) for the console."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from yibao.clearing.store import statement
from yibao.console.model import Scope
from yibao.console.scoping import scoped
from yibao.db.probe import tables_exist

Row = dict[str, Any]


def available(conn: sa.Connection) -> bool:
    """Whether clearing statements are stored here (the clearing migration has run)."""
    return tables_exist(conn, "clearing_statement")


def statements(conn: sa.Connection, scope: Scope, limit: int = 100) -> list[Row]:
    """Statements concerning a region in scope, newest period first, then by pair."""
    st = statement
    stmt = sa.select(st).order_by(st.c.period.desc(), st.c.region_a, st.c.region_b).limit(limit)
    stmt = scoped(stmt, scope, regions=[st.c.region_a, st.c.region_b])
    return [dict(m) for m in conn.execute(stmt).mappings()]
