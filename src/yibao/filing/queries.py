"""Read-only queries over cross-region filings (异地就医备案查询) for the console."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from yibao.db.probe import tables_exist
from yibao.filing.store import filing

Row = dict[str, Any]


def available(conn: sa.Connection) -> bool:
    """Whether filings are stored here (the filing migration has run)."""
    return tables_exist(conn, "filing")


def filings_of(conn: sa.Connection, psn_no: str) -> list[Row]:
    """A person's filings, newest start date first."""
    f = filing
    stmt = sa.select(f).where(f.c.psn_no == psn_no).order_by(f.c.begndate.desc())
    return [dict(m) for m in conn.execute(stmt).mappings()]
