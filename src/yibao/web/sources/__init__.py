"""Read models for the console pages (页面数据来源), one module per capability.

Each page's data comes from the owning capability's tables or public service functions, always
filtered through :mod:`yibao.console.scoping`. Where a capability has not delivered its data yet
the source returns :class:`Unavailable` with a plain Chinese explanation, and the page says so;
nothing is invented.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa


@dataclass(frozen=True, slots=True)
class Unavailable:
    """Why a page section has no data (暂无数据的原因)."""

    reason: str
    module: str = ""


def tables_exist(conn: sa.Connection, *names: str) -> bool:
    """True if every named table exists (the capability's migration has run)."""
    for name in names:
        if conn.execute(sa.text("SELECT to_regclass(:n)"), {"n": name}).scalar() is None:
            return False
    return True
