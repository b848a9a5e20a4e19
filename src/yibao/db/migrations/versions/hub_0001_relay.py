"""hub: cross-province relay records (hub role), inbound relays (insured side), outbound relays
(treatment side), and provinces' clearing reports to the hub.

Revision ID: hub_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "hub_0001"
down_revision = None
branch_labels = ("hub",)
depends_on = None


def _times() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "hub_relay",
        sa.Column("relay_id", sa.Text, primary_key=True),
        sa.Column("from_node", sa.Text, nullable=False),
        sa.Column("to_province", sa.Text, nullable=False),
        sa.Column("insuplc_admdvs", sa.Text, nullable=False),
        sa.Column("mdtrtarea_admvs", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("request_hash", sa.Text, nullable=False),
        sa.Column("request", pg.JSONB, nullable=False),
        sa.Column("response", pg.JSONB),
        sa.Column("medfee_sumamt", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("clearing_amt", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("settled_on", sa.Date),
        sa.Column("reversed_on", sa.Date),
        *_times(),
    )
    op.create_table(
        "hub_inbound",
        sa.Column("relay_id", sa.Text, primary_key=True),
        sa.Column("request_hash", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("response", pg.JSONB, nullable=False),
        sa.Column("psn_no", sa.Text, nullable=False, server_default=""),
        sa.Column("setl_id", sa.Text, nullable=False, server_default=""),
        sa.Column("cancel_setl_id", sa.Text, nullable=False, server_default=""),
        *_times(),
    )
    op.create_table(
        "hub_outbound",
        sa.Column("relay_id", sa.Text, primary_key=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("request", pg.JSONB, nullable=False),
        sa.Column("response", pg.JSONB),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        *_times(),
    )
    op.create_table(
        "hub_clearing_report",
        sa.Column("period", sa.Text, primary_key=True),
        sa.Column("province_a", sa.Text, primary_key=True),
        sa.Column("province_b", sa.Text, primary_key=True),
        sa.Column("node", sa.Text, primary_key=True),
        sa.Column("figures", pg.JSONB, nullable=False),
        *_times(),
    )


def downgrade() -> None:
    for t in ("hub_clearing_report", "hub_outbound", "hub_inbound", "hub_relay"):
        op.drop_table(t)
