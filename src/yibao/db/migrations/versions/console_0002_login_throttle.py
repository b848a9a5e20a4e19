"""console: login throttling per user name and per address (登录限流).

One row per key: ``user:<lower-case name>`` (every name tried, registered or not, so a lockout
says nothing about whether the user exists) and ``addr:<client address>``.

Revision ID: console_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "console_0002"
down_revision = "console_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_login_throttle",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("window_start", sa.DateTime(timezone=True)),
        sa.Column("blocked_until", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("console_login_throttle")
