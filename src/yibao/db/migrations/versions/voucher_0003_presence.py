"""voucher: presence records (到场凭证记录) for the national-interface queries (5xxx).

A 5201–5206 query about a person is answered only to an institution that has a visit with that
person or that the person proved their presence to (a live ecToken bound to it, or a 1101 /
visit-opening call with a checked certificate): ``ec_presence`` keeps the latter, per institution
and person, until it expires (the ecToken lifetime). ``ix_ec_token_psn_org`` serves the same
question for ecTokens.

Revision ID: voucher_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "voucher_0003"
down_revision = "voucher_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ec_presence",
        sa.Column("fixmedins_code", sa.Text, primary_key=True),
        sa.Column("psn_no", sa.Text, primary_key=True),
        sa.Column("mdtrt_cert_type", sa.Text, nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ec_presence_expires", "ec_presence", ["expires_at"])
    op.create_index("ix_ec_token_psn_org", "ec_token", ["psn_no", "org_id"])


def downgrade() -> None:
    op.drop_index("ix_ec_token_psn_org", "ec_token")
    op.drop_table("ec_presence")
