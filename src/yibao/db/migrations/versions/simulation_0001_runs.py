"""simulation: runs started from the console (测算任务) with their progress.

Revision ID: simulation_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "simulation_0001"
down_revision = None
branch_labels = ("simulation",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "simulation_run",
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dataset", sa.Text, nullable=False),
        sa.Column("params", pg.JSONB, nullable=False),  # reforms, period, regions, projection
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("bills_total", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("bills_done", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("state IN ('running', 'done', 'failed')", name="ck_sim_state"),
    )


def downgrade() -> None:
    op.drop_table("simulation_run")
