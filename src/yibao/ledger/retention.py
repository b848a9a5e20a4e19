"""Retention of ledger transfers (账务明细保留): old months move to ``archive.ledger_transfer_<yyyymm>``.

What stays in the live tables, whatever the age:

- every chain head (``ledger_chain``: settlement id, msgid, institution, total, fingerprint) —
  what 3201/3202 reconciliation and a dispute start from, and what a late reversal mirrors;
- the daily roll-ups (``ledger_balance_daily``): every balance is derived from them plus the
  live tail, so balances do not change when a month is archived.

What moves: the month's transfers (about 6 per settlement, the bulk of the ledger), once
``YIBAO_LEDGER_RETENTION_MONTHS`` (default 24) months have passed and the month is fully rolled
up. They stay readable through ``ledger_transfer_all`` (:func:`yibao.ledger.store.load_chain`
falls back to it, ``verify`` checks it) until the archive table is dumped and dropped. Accounting
records are kept for 30 years (会计档案管理办法): archive, dump, keep the dump — never just delete.
"""

from __future__ import annotations

import os
from datetime import date, datetime

import sqlalchemy as sa

from yibao.db import retention
from yibao.db.retention import Archived, RetentionError, Source

TRANSFERS = Source("ledger_transfer", "value_date", order_by=("seq",), indexes=("chain_id", "id"))


def retention_months() -> int:
    """Months of transfers kept live (``YIBAO_LEDGER_RETENTION_MONTHS``, default 24, at least 2)."""
    return max(int(os.environ.get("YIBAO_LEDGER_RETENTION_MONTHS", "24")), 2)


def due_months(conn: sa.Connection, today: date, keep: int) -> list[str]:
    """Months with live transfers older than the last ``keep`` months, oldest first."""
    newest_due = retention.months_before(retention.period_of(today), keep)
    rows = conn.execute(
        sa.text(
            "SELECT DISTINCT to_char(value_date, 'YYYYMM') FROM ledger_transfer "
            "WHERE value_date < :end ORDER BY 1"
        ),
        {"end": retention.month_bounds(newest_due)[1]},
    ).scalars()
    return [str(p) for p in rows]


def _rolled_up(conn: sa.Connection, period: str) -> bool:
    start, end = retention.month_bounds(period)
    pending = conn.execute(
        sa.text(
            "SELECT count(*) FROM ledger_transfer t, ledger_rollup_state s "
            "WHERE s.id = 1 AND t.xid >= s.xid_watermark "
            "AND t.value_date >= :start AND t.value_date < :end"
        ),
        {"start": start, "end": end},
    ).scalar_one()
    return int(pending) == 0


def archive_due(
    engine: sa.Engine, *, today: date, actor: str, now: datetime, keep: int | None = None
) -> list[Archived]:
    """Archive every due month (each in its own transaction), oldest first."""
    keep = retention_months() if keep is None else keep
    with engine.connect() as conn:
        months = due_months(conn, today, keep)
    done = []
    for period in months:
        with engine.begin() as conn:
            done.append(archive_month(conn, period, actor=actor, now=now, today=today, keep=keep))
    return done


def archive_month(
    conn: sa.Connection, period: str, *, actor: str, now: datetime, today: date, keep: int
) -> Archived:
    """Move one month's transfers to the archive; refused inside the retention period or before
    the month is fully rolled up (balances would otherwise lose it)."""
    if period > retention.months_before(retention.period_of(today), keep):
        raise RetentionError(f"{period} 仍在保留期（近{keep}个月）内，不能归档")
    if not _rolled_up(conn, period):
        raise RetentionError(f"{period} 尚有未汇总的记账，请先执行 yibao ledger rollup")
    return retention.archive_month(conn, TRANSFERS, period, actor=actor, now=now)


def drop_month(conn: sa.Connection, period: str, *, actor: str, now: datetime, note: str) -> None:
    """Drop an archived month after its dump is safely stored (``note``: where)."""
    retention.drop_archive(conn, TRANSFERS, period, actor=actor, now=now, note=note)


def dropped_periods(conn: sa.Connection) -> list[str]:
    """Archived months no longer in the database (their checks are skipped by ``verify``)."""
    return [
        str(r["period"])
        for r in retention.catalogue(conn, TRANSFERS)
        if r["dropped_at"] is not None
    ]
