"""Read-only queries of the console's own data: the audit log (审计日志) and the users."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from yibao.console.store import console_user
from yibao.db.tables import audit_log

Row = dict[str, Any]


def audit_records(
    conn: sa.Connection, *, actor: str = "", action: str = "", limit: int = 200
) -> list[Row]:
    """The newest audit records (``at``, ``actor``, ``action``, ``subject``, ``detail``),
    optionally of one actor and with an action prefix."""
    stmt = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if actor:
        stmt = stmt.where(audit_log.c.actor == actor)
    if action:
        stmt = stmt.where(audit_log.c.action.startswith(action, autoescape=True))
    return [dict(m) for m in conn.execute(stmt).mappings()]


def users(conn: sa.Connection) -> list[Row]:
    """Console users (``username``, ``role``, ``admdvs``, ``fixmedins_code``, ``display_name``,
    …) in the order they were created."""
    stmt = sa.select(console_user).order_by(console_user.c.id)
    return [dict(m) for m in conn.execute(stmt).mappings()]
