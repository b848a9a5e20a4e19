"""console: users (控制台用户) and server-side sessions (会话).

Revision ID: console_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "console_0001"
down_revision = None
branch_labels = ("console",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_user",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("username", sa.Text, nullable=False, unique=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("admdvs", sa.String(6)),
        sa.Column("fixmedins_code", sa.String(30)),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("password_changed_at", sa.DateTime(timezone=True)),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "role IN ('province_admin','city_admin','institution_operator','analyst')",
            name="ck_console_user_role",
        ),
        sa.CheckConstraint(
            "role <> 'city_admin' OR admdvs IS NOT NULL", name="ck_console_user_city_region"
        ),
        sa.CheckConstraint(
            "role <> 'institution_operator' OR fixmedins_code IS NOT NULL",
            name="ck_console_user_operator_institution",
        ),
    )
    op.create_table(
        "console_session",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column(
            "user_id",
            sa.BigInteger,
            sa.ForeignKey("console_user.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("csrf_token", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("ip", sa.Text, nullable=False, server_default=""),
        sa.Column("user_agent", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_console_session_user", "console_session", ["user_id"])
    op.create_index("ix_console_session_expires", "console_session", ["expires_at"])


def downgrade() -> None:
    op.drop_table("console_session")
    op.drop_table("console_user")
