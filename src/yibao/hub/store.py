"""SQL of the cross-province relay (跨省中转): hub, inbound and outbound records. Caller's transaction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

metadata = sa.MetaData()


def _times() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    ]


relay = sa.Table(
    "hub_relay",
    metadata,
    sa.Column("relay_id", sa.Text, primary_key=True),
    sa.Column("from_node", sa.Text),
    sa.Column("to_province", sa.Text),
    sa.Column("insuplc_admdvs", sa.Text),
    sa.Column("mdtrtarea_admvs", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("request_hash", sa.Text),
    sa.Column("request", pg.JSONB),
    sa.Column("response", pg.JSONB),
    sa.Column("medfee_sumamt", sa.BigInteger),
    sa.Column("clearing_amt", sa.BigInteger),
    sa.Column("settled_on", sa.Date),
    sa.Column("reversed_on", sa.Date),
    *_times(),
)

inbound = sa.Table(
    "hub_inbound",
    metadata,
    sa.Column("relay_id", sa.Text, primary_key=True),
    sa.Column("request_hash", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("response", pg.JSONB),
    sa.Column("psn_no", sa.Text),
    sa.Column("setl_id", sa.Text),
    sa.Column("cancel_setl_id", sa.Text),
    *_times(),
)

outbound = sa.Table(
    "hub_outbound",
    metadata,
    sa.Column("relay_id", sa.Text, primary_key=True),
    sa.Column("status", sa.Text),
    sa.Column("request", pg.JSONB),
    sa.Column("response", pg.JSONB),
    sa.Column("last_error", sa.Text),
    *_times(),
)

clearing_report = sa.Table(
    "hub_clearing_report",
    metadata,
    sa.Column("period", sa.Text, primary_key=True),
    sa.Column("province_a", sa.Text, primary_key=True),
    sa.Column("province_b", sa.Text, primary_key=True),
    sa.Column("node", sa.Text, primary_key=True),
    sa.Column("figures", pg.JSONB),
    *_times(),
)


def lock(conn: sa.Connection, key: str) -> None:
    """Serialise work on one relay id (transaction-scoped advisory lock)."""
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('hub:' || :k))"), {"k": key})


def get(conn: sa.Connection, table: sa.Table, relay_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(table).where(table.c.relay_id == relay_id)).mappings().first()
    return dict(r) if r else None


def upsert(conn: sa.Connection, table: sa.Table, relay_id: str, **values: Any) -> None:
    stmt = pg.insert(table).values(relay_id=relay_id, updated_at=sa.func.now(), **values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[table.c.relay_id], set_={**values, "updated_at": sa.func.now()}
        )
    )


def update(conn: sa.Connection, table: sa.Table, relay_id: str, **values: Any) -> None:
    conn.execute(
        table.update()
        .where(table.c.relay_id == relay_id)
        .values(updated_at=sa.func.now(), **values)
    )
