"""Read-only queries over the fund ledger (基金账务查询) for the console."""

from __future__ import annotations

import sqlalchemy as sa

from yibao.db.probe import tables_exist
from yibao.ledger.service import account_balances

__all__ = ["account_balances", "available"]


def available(conn: sa.Connection) -> bool:
    """Whether the ledger's accounts and transfers exist (the ledger migration has run)."""
    return tables_exist(conn, "ledger_account", "ledger_transfer")
