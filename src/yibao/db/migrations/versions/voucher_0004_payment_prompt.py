"""voucher: the payment prompt (支付确认提示) on an ecToken.

A counter that pre-settled (2101/2206) with an e-voucher asks the person to confirm the amount on
the phone: ``prompt`` holds the pre-settlement's amounts in fen (总额, 基金, 个人账户, 现金),
replaced by a later pre-settlement of the same token (one prompt per pre-settlement), and
``settled_at`` closes it once the counter settled (the prompt disappears from the phone).

Revision ID: voucher_0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "voucher_0004"
down_revision = "voucher_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ec_token", sa.Column("prompt", JSONB, nullable=True))
    op.add_column("ec_token", sa.Column("prompted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("ec_token", sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("ec_token", "settled_at")
    op.drop_column("ec_token", "prompted_at")
    op.drop_column("ec_token", "prompt")
