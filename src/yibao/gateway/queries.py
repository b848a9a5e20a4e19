"""Read-only queries over the gateway's message log (报文日志查询) for the console."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from yibao.console.model import Scope
from yibao.console.scoping import scoped
from yibao.db.probe import tables_exist
from yibao.gateway.store import message

Row = dict[str, Any]


def available(conn: sa.Connection) -> bool:
    """Whether the message log exists (the gateway migration has run)."""
    return tables_exist(conn, "gateway_message")


def messages(
    conn: sa.Connection, scope: Scope, infnos: Sequence[str], limit: int = 100
) -> list[Row]:
    """The newest logged calls of ``infnos`` by institutions in scope: ``created_at``,
    ``fixmedins_code``, ``infno``, ``msgid``, ``request``, ``response`` (as stored)."""
    m = message
    stmt = (
        sa.select(
            m.c.created_at, m.c.fixmedins_code, m.c.infno, m.c.msgid, m.c.request, m.c.response
        )
        .where(m.c.infno.in_(tuple(infnos)))
        .order_by(m.c.created_at.desc())
        .limit(limit)
    )
    if scope.fixmedins_code is not None or not scope.all_regions:
        # the institution's own region is the first 6 digits after the H/P letter of its code
        regions = [sa.func.substr(m.c.fixmedins_code, 2, 6)]
        stmt = scoped(stmt, scope, regions=regions, institution=m.c.fixmedins_code)
    return [dict(r) for r in conn.execute(stmt).mappings()]
