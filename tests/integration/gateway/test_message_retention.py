"""The message log's retention: old months move to the archive schema, recent ones stay live,
and an archived answer stays readable through ``gateway_message_all``."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy import Engine

from yibao.gateway import retention


def _message(conn: sa.Connection, msgid: str, at: datetime) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO gateway_message (fixmedins_code, msgid, infno, request_hash, request,"
            " infcode, err_msg, psn_no, opter, inf_refmsgid, content_type, response, created_at)"
            " VALUES ('H1', :m, '2207', 'h', '', 0, '', 'P1', 'o', 'r',"
            " 'application/json', 'x', :at)"
        ),
        {"m": msgid, "at": at},
    )


def test_months_beyond_the_retention_move_and_stay_readable(engine: Engine) -> None:
    with engine.begin() as conn:
        _message(conn, "OLD", datetime(2026, 6, 15, 4, tzinfo=UTC))
        _message(conn, "KEPT", datetime(2026, 10, 2, 4, tzinfo=UTC))
        _message(conn, "NOW", datetime(2026, 12, 1, 4, tzinfo=UTC))
    done = retention.archive_due(
        engine, today=date(2026, 12, 3), actor="test", now=datetime(2026, 12, 3, tzinfo=UTC)
    )
    assert [a.period for a in done] == ["202606"] and done[0].rows == 1
    with engine.connect() as conn:
        live = conn.execute(sa.text("SELECT msgid FROM gateway_message ORDER BY 1")).scalars()
        assert list(live) == ["KEPT", "NOW"]
        every = conn.execute(sa.text("SELECT msgid FROM gateway_message_all ORDER BY 1")).scalars()
        assert list(every) == ["KEPT", "NOW", "OLD"]
    assert retention.archive_due(
        engine, today=date(2026, 12, 3), actor="test", now=datetime(2026, 12, 3, tzinfo=UTC)
    ) == []
