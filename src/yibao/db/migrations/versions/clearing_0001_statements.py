"""clearing: monthly clearing statements between pooling regions (异地清算单) and their lines.

Revision ID: clearing_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "clearing_0001"
down_revision = None
branch_labels = ("clearing",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clearing_statement",
        sa.Column("stmt_id", sa.Text, primary_key=True),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("region_a", sa.Text, nullable=False),
        sa.Column("region_b", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("line_count", sa.Integer, nullable=False),
        sa.Column("totals", pg.JSONB, nullable=False),
        sa.Column("payer", sa.Text),
        sa.Column("payee", sa.Text),
        sa.Column("net_amount", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.Text, nullable=False, server_default=""),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("approved_by", sa.Text, nullable=False, server_default=""),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.Column("ledger_chain_id", sa.Text, nullable=False, server_default=""),
        sa.Column("history", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.CheckConstraint("state IN ('draft', 'confirmed', 'approved')", name="ck_clr_state"),
        sa.CheckConstraint("region_a < region_b", name="ck_clr_pair_order"),
        sa.CheckConstraint("net_amount >= 0", name="ck_clr_net"),
        sa.UniqueConstraint("period", "region_a", "region_b", name="uq_clr_period_pair"),
    )
    op.create_table(
        "clearing_line",
        sa.Column(
            "stmt_id",
            sa.Text,
            sa.ForeignKey("clearing_statement.stmt_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("setl_id", sa.Text, primary_key=True),  # one statement per settlement
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("reverses", sa.Text),
        sa.Column("psn_no", sa.Text, nullable=False),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("insuplc_admdvs", sa.Text, nullable=False),
        sa.Column("mdtrtarea_admvs", sa.Text, nullable=False),
        sa.Column("med_type", sa.Text, nullable=False),
        sa.Column("clr_type", sa.Text, nullable=False),
        sa.Column("setl_date", sa.Date, nullable=False),
        sa.Column("medfee_sumamt", sa.BigInteger, nullable=False),
        sa.Column("fund_pay_sumamt", sa.BigInteger, nullable=False),
        sa.Column("acct_pay", sa.BigInteger, nullable=False),
        sa.Column("psn_cash_pay", sa.BigInteger, nullable=False),
        sa.Column("clearing_amt", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_clearing_line_stmt", "clearing_line", ["stmt_id"])


def downgrade() -> None:
    op.drop_table("clearing_line")
    op.drop_table("clearing_statement")
