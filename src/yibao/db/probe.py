"""What the database holds, asked without touching any capability's data: whether a
capability's tables exist (read models then say "not connected yet", 尚未接入, instead of failing)
and which migration heads it is at (readiness)."""

from __future__ import annotations

import sqlalchemy as sa


def tables_exist(conn: sa.Connection, *names: str) -> bool:
    """True if every named table exists."""
    for name in names:
        if conn.execute(sa.text("SELECT to_regclass(:n)"), {"n": name}).scalar() is None:
            return False
    return True


def migration_heads(engine: sa.Engine, timeout_ms: int = 1000) -> frozenset[str]:
    """The migration revisions recorded in ``alembic_version``, read within ``timeout_ms``."""
    with engine.connect() as conn:
        conn.execute(sa.text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
        rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
        return frozenset(str(r) for r in rows)
