"""Whether a capability's tables exist (its migration has run), for read models that say
"not connected yet" (尚未接入) instead of failing when a capability is not deployed."""

from __future__ import annotations

import sqlalchemy as sa


def tables_exist(conn: sa.Connection, *names: str) -> bool:
    """True if every named table exists."""
    for name in names:
        if conn.execute(sa.text("SELECT to_regclass(:n)"), {"n": name}).scalar() is None:
            return False
    return True
