"""registry: social security cards (社会保障卡) — the register behind mdtrt_cert_type 03.

A settling call with ``mdtrt_cert_type`` 03 proves the patient's presence with the card's number
(卡号, ``mdtrt_cert_no``) and its chip id (卡识别码, ``card_sn``); both are checked against this
register (docs/registry.md "Social security cards"). A person may hold several cards over the
years (replacement); only valid ones count.

Revision ID: registry_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "registry_0004"
down_revision = "registry_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "social_security_card",
        sa.Column("card_no", sa.Text, primary_key=True),
        sa.Column("psn_no", sa.Text, sa.ForeignKey("person.psn_no"), nullable=False),
        sa.Column("card_sn", sa.Text, nullable=False, server_default=""),
        sa.Column("valid", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_social_security_card_psn", "social_security_card", ["psn_no"])


def downgrade() -> None:
    op.drop_table("social_security_card")
