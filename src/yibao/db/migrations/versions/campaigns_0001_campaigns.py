"""campaigns: activation campaign plans (医保电子凭证推广激活方案).

Revision ID: campaigns_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "campaigns_0001"
down_revision = None
branch_labels = ("campaigns",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign",
        sa.Column("campaign_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("admdvs", sa.Text, nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("plan", pg.JSONB, nullable=False),  # the campaign file's content, as loaded
        sa.Column("source_file", sa.Text, nullable=False, server_default=""),
        sa.Column("fingerprint", sa.Text, nullable=False),  # sha256 of the canonical plan JSON
        sa.Column("loaded_by", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("end_date >= start_date", name="ck_campaign_period"),
    )
    op.create_index("ix_campaign_region", "campaign", ["admdvs", "end_date"])


def downgrade() -> None:
    op.drop_table("campaign")
