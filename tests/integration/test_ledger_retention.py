"""Retention of ledger transfers (issue 10, finding 10): old months move to the archive schema.

Balances, chain heads and the ledger's checks are the same before and after a month is archived
and after its archive table is dropped; a settlement of an archived month can still be reversed;
a month inside the retention period or not yet rolled up is refused; deleting transfers outside
an archiving transaction is still refused.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from tests.integration.test_ledger import posting
from yibao.db.retention import RetentionError
from yibao.ledger import fund_balances, post_reversal, post_settlement, rollup, verify
from yibao.ledger import retention as ledger_retention
from yibao.ledger.service import payable_balance

NOW = datetime(2028, 3, 5, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
OLD, RECENT = date(2025, 11, 20), date(2028, 2, 10)


def count(conn: sa.Connection, sql: str) -> int:
    return int(conn.execute(sa.text(sql)).scalar_one())


def positions(engine: Engine) -> tuple[dict[str, int], int]:
    with engine.connect() as conn:
        return fund_balances(conn, "440100", TODAY), payable_balance(conn, "H44010100001", TODAY)


def test_archive_keeps_balances_heads_and_checks_and_allows_late_reversal(engine: Engine) -> None:
    with engine.begin() as conn:
        for i in range(3):
            post_settlement(conn, posting(f"OLD{i}", value_date=OLD))
        post_settlement(conn, posting("NEW1", value_date=RECENT))
    with engine.begin() as conn, pytest.raises(RetentionError, match="未汇总"):
        ledger_retention.archive_month(conn, "202511", actor="t", now=NOW, today=TODAY, keep=24)
    with engine.begin() as conn:
        rollup(conn)
    before = positions(engine)
    with engine.connect() as conn:
        moved = count(conn, "SELECT count(*) FROM ledger_transfer WHERE value_date < '2025-12-01'")
        assert ledger_retention.due_months(conn, TODAY, 24) == ["202511"]
    done = ledger_retention.archive_due(engine, today=TODAY, actor="ops1", now=NOW, keep=24)
    assert [(a.period, a.rows) for a in done] == [("202511", moved)] and moved > 0
    with engine.connect() as conn:
        assert (
            count(conn, "SELECT count(*) FROM ledger_transfer WHERE value_date < '2025-12-01'") == 0
        )
        assert count(conn, "SELECT count(*) FROM archive.ledger_transfer_202511") == moved
        assert count(conn, "SELECT count(*) FROM ledger_chain WHERE setl_id LIKE 'OLD%'") == 3
        row = conn.execute(sa.text("SELECT * FROM retention_archive")).mappings().one()
        assert (row["rows"], row["archived_by"], row["checksum"]) == (
            moved,
            "ops1",
            done[0].checksum,
        )
        assert verify(conn).ok
    assert positions(engine) == before
    with engine.begin() as conn, pytest.raises(RetentionError, match="保留期"):
        ledger_retention.archive_month(conn, "202802", actor="t", now=NOW, today=TODAY, keep=24)
    # a dispute ends in a cancellation of an archived settlement: its chain is mirrored
    with engine.begin() as conn:
        result = post_reversal(conn, "OLD0", "REV0", msgid="M-REV0", value_date=RECENT)
        assert result.created and len(result.transfer_ids) > 0 and result.total > 0
        rollup(conn)
    with engine.connect() as conn:
        assert verify(conn).ok
    # the archive table is dumped and dropped: balances and checks stay right
    with engine.begin() as conn, pytest.raises(RetentionError, match="note"):
        ledger_retention.drop_month(conn, "202511", actor="ops1", now=NOW, note=" ")
    with engine.begin() as conn:
        ledger_retention.drop_month(conn, "202511", actor="ops1", now=NOW, note="tape 7, shelf 3")
    with engine.connect() as conn:
        assert ledger_retention.dropped_periods(conn) == ["202511"]
        assert verify(conn).ok
        gone = conn.execute(sa.text("SELECT to_regclass('archive.ledger_transfer_202511')"))
        assert gone.scalar() is None


def test_transfers_stay_append_only_outside_archiving(engine: Engine) -> None:
    with engine.begin() as conn:
        post_settlement(conn, posting("A1", value_date=OLD))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM ledger_transfer"))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL yibao.retention = 'archive'"))
        conn.execute(sa.text("UPDATE ledger_transfer SET amount = amount + 1"))
