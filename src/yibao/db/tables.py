"""Core tables shared by every capability (SQLAlchemy Core metadata)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

metadata = sa.MetaData()

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("actor", sa.Text),
    sa.Column("action", sa.Text),
    sa.Column("subject", sa.Text),
    sa.Column("detail", pg.JSONB),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("topic", sa.Text),
    sa.Column("key", sa.Text),
    sa.Column("payload", pg.JSONB),
    sa.Column("published_at", sa.DateTime(timezone=True)),
)


def audit(
    conn: sa.Connection, actor: str, action: str, subject: str = "", **detail: object
) -> None:
    """Append one audit record (审计) in the caller's transaction."""
    conn.execute(
        audit_log.insert().values(actor=actor, action=action, subject=subject, detail=detail)
    )


def publish(conn: sa.Connection, topic: str, key: str, payload: dict[str, object]) -> None:
    """Append an event to the outbox (发件箱) in the caller's transaction."""
    conn.execute(outbox.insert().values(topic=topic, key=key, payload=payload))
