"""Read-side probes of the campaign tables for the console (激活推广)."""

from __future__ import annotations

import sqlalchemy as sa

from yibao.db.probe import tables_exist


def ready(conn: sa.Connection) -> bool:
    """Whether the campaign tables exist (a database migrated before issue 16 has none)."""
    return tables_exist(conn, "campaign")
