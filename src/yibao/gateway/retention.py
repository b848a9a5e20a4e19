"""Retention of the message log (报文日志保留): old months move to ``archive.gateway_message_<yyyymm>``.

The message log is what makes a retry answer the same bytes; it only needs to be live for as long
as a retry can come. The gateway refuses envelopes whose ``inf_time`` is older than
``YIBAO_NHSA_MESSAGE_WINDOW_DAYS`` (default 60), and a month is archived only once it lies
``YIBAO_GATEWAY_RETENTION_MONTHS`` (default 3, at least 3) months back — so no msgid that can still
arrive has left the live table. Archived months stay readable through ``gateway_message_all`` (a
dispute: what exactly did we answer) until dumped and dropped, with the same mechanism as the
ledger (:mod:`yibao.db.retention`, ADR 0009). The stored request is minimised already: only its
hash, except 3201/3202 totals (no personal data).
"""

from __future__ import annotations

import os
from datetime import date, datetime

import sqlalchemy as sa

from yibao.db import retention
from yibao.db.retention import Archived, Source

MESSAGES = Source(
    "gateway_message", "created_at", order_by=("fixmedins_code", "msgid"), indexes=("msgid",)
)


def retention_months() -> int:
    """Months of the message log kept live (``YIBAO_GATEWAY_RETENTION_MONTHS``, at least 3)."""
    return max(int(os.environ.get("YIBAO_GATEWAY_RETENTION_MONTHS", "3")), 3)


def due_months(conn: sa.Connection, today: date, keep: int) -> list[str]:
    """Months with live messages older than the last ``keep`` months, oldest first."""
    newest_due = retention.months_before(retention.period_of(today), keep)
    rows = conn.execute(
        sa.text(
            "SELECT DISTINCT to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMM')"
            " FROM gateway_message WHERE created_at < :end ORDER BY 1"
        ),
        {"end": retention.month_bounds(newest_due)[1]},
    ).scalars()
    return [str(p) for p in rows]


def archive_due(
    engine: sa.Engine, *, today: date, actor: str, now: datetime, keep: int | None = None
) -> list[Archived]:
    """Archive every due month (each in its own transaction), oldest first."""
    keep = max(retention_months() if keep is None else keep, 3)
    with engine.connect() as conn:
        months = due_months(conn, today, keep)
    done = []
    for period in months:
        with engine.begin() as conn:
            done.append(retention.archive_month(conn, MESSAGES, period, actor=actor, now=now))
    return done
