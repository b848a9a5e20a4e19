"""gateway: one-time header sets in an UNLOGGED table, with a crash floor (防重放).

Every authenticated request's header set (TIF ``x-tif-nonce``; CSB ``_api_signature``) is
recorded once, bound to the msgid it carried (a retransmission of the same message passes, any
other message with the same headers is refused). The table is UNLOGGED: recording costs no WAL
and no commit flush. PostgreSQL empties unlogged tables after a crash, so the gateway keeps a
sentinel row there and, when it finds the sentinel gone, moves ``gateway_nonce_floor`` (a logged
table) to now: headers signed before the floor are refused as stale (see ADR 0010).

Revision ID: gateway_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "gateway_0002"
down_revision = "gateway_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("gateway_nonce")
    op.execute(
        "CREATE UNLOGGED TABLE gateway_nonce ("
        " app_key text NOT NULL, nonce text NOT NULL, msgid text NOT NULL DEFAULT '',"
        " expires_at timestamptz NOT NULL,"
        " CONSTRAINT pk_gateway_nonce PRIMARY KEY (app_key, nonce))"
    )
    op.create_index("ix_gateway_nonce_expires", "gateway_nonce", ["expires_at"])
    op.create_table(
        "gateway_nonce_floor",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("floor_at", sa.DateTime(timezone=True), nullable=True),  # NULL: no floor yet
    )
    op.execute("INSERT INTO gateway_nonce_floor (id, floor_at) VALUES (1, NULL)")
    op.execute(
        "INSERT INTO gateway_nonce (app_key, nonce, msgid, expires_at)"
        " VALUES ('', 'sentinel', '', 'infinity')"
    )


def downgrade() -> None:
    op.drop_table("gateway_nonce_floor")
    op.drop_table("gateway_nonce")
    op.create_table(
        "gateway_nonce",
        sa.Column("app_key", sa.Text, nullable=False),
        sa.Column("nonce", sa.Text, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("app_key", "nonce", name="pk_gateway_nonce"),
    )
    op.create_index("ix_gateway_nonce_expires", "gateway_nonce", ["expires_at"])
