"""gateway: exactly-once message log (报文日志), nonce replay window, 9101/9102 files.

Revision ID: gateway_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "gateway_0001"
down_revision = None
branch_labels = ("gateway",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_message",
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("msgid", sa.Text, nullable=False),
        sa.Column("infno", sa.Text, nullable=False),
        sa.Column("request_hash", sa.Text, nullable=False),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("infcode", sa.Integer, nullable=False),
        sa.Column("err_msg", sa.Text, nullable=False, server_default=""),
        sa.Column("psn_no", sa.Text, nullable=False, server_default=""),
        sa.Column("opter", sa.Text, nullable=False, server_default=""),
        sa.Column("inf_refmsgid", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("fixmedins_code", "msgid", name="pk_gateway_message"),
    )
    op.create_index("ix_gateway_message_time", "gateway_message", ["fixmedins_code", "created_at"])
    op.create_table(
        "gateway_nonce",
        sa.Column("app_key", sa.Text, nullable=False),
        sa.Column("nonce", sa.Text, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("app_key", "nonce", name="pk_gateway_nonce"),
    )
    op.create_index("ix_gateway_nonce_expires", "gateway_nonce", ["expires_at"])
    op.execute(sa.schema.CreateSequence(sa.Sequence("gateway_file_seq")))
    op.create_table(
        "gateway_file",
        sa.Column("file_qury_no", sa.Text, primary_key=True),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("dld_endtime", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_gateway_file_code", "gateway_file", ["fixmedins_code", "created_at"])


def downgrade() -> None:
    op.drop_table("gateway_file")
    op.execute(sa.schema.DropSequence(sa.Sequence("gateway_file_seq")))
    op.drop_table("gateway_nonce")
    op.drop_table("gateway_message")
