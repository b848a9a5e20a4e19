"""filing: cross-region filings (异地就医备案), 慢特病备案 and 定点备案 records.

Revision ID: filing_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "filing_0001"
down_revision = None
branch_labels = ("filing",)
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE filing_seq")
    op.create_table(
        "filing",
        sa.Column("filing_id", sa.Text, primary_key=True),  # trt_dcla_detl_sn
        sa.Column("kind", sa.Text, nullable=False),  # crossregion | chronic | designation
        sa.Column("psn_no", sa.Text, nullable=False),
        sa.Column("insuplc_admdvs", sa.Text, nullable=False),
        sa.Column("mdtrtarea_admdvs", sa.Text, nullable=False, server_default=""),
        sa.Column("filing_type", sa.Text, nullable=False, server_default=""),
        sa.Column("fixmedins_code", sa.Text, nullable=False, server_default=""),
        sa.Column("begndate", sa.Date, nullable=False),
        sa.Column("enddate", sa.Date),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),  # mobile:<chnl> | nhsa:<infno> | bureau
        sa.Column("request_id", sa.Text, nullable=False),
        sa.Column("filed_by", sa.Text, nullable=False, server_default=""),
        sa.Column("detail", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("cancel_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("cancelled_by", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('crossregion', 'chronic', 'designation')", name="ck_filing_kind"
        ),
        sa.CheckConstraint("status IN ('active', 'cancelled', 'ended')", name="ck_filing_status"),
        sa.CheckConstraint("enddate IS NULL OR enddate >= begndate", name="ck_filing_dates"),
        sa.UniqueConstraint("source", "request_id", name="uq_filing_request"),
    )
    op.create_index("ix_filing_person", "filing", ["psn_no", "kind", "status"])


def downgrade() -> None:
    op.drop_table("filing")
    op.execute("DROP SEQUENCE filing_seq")
