"""voucher: channels, e-vouchers, authorisations, activation events, codes, ecTokens, passwords,
family bindings.

Revision ID: voucher_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "voucher_0001"
down_revision = None
branch_labels = ("voucher",)
depends_on = "registry_0001"

NOW = sa.func.now()
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ec_channel",
        sa.Column("chnl_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", TS, nullable=False, server_default=NOW),
    )
    op.create_table(
        "ec_signing_key",
        sa.Column("kid", sa.Text, primary_key=True),
        sa.Column("secret", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=NOW),
    )
    op.create_table(
        "ec_voucher",
        sa.Column("psn_no", sa.Text, sa.ForeignKey("person.psn_no"), primary_key=True),
        sa.Column("ec_index_no", sa.Text, nullable=False, unique=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("activated_at", TS, nullable=False),
        sa.Column("activated_chnl", sa.Text, sa.ForeignKey("ec_channel.chnl_id"), nullable=False),
        sa.Column("revoked_at", TS),
        sa.Column("revoked_by", sa.Text),
        sa.Column("revoke_reason", sa.Text),
        sa.CheckConstraint("status IN ('active', 'revoked')", name="ck_ec_voucher_status"),
    )
    op.create_table(
        "ec_authorization",
        sa.Column("chnl_id", sa.Text, sa.ForeignKey("ec_channel.chnl_id"), primary_key=True),
        sa.Column("chnl_user_id", sa.Text, primary_key=True),
        sa.Column("psn_no", sa.Text, sa.ForeignKey("person.psn_no"), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("authorized_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
        sa.CheckConstraint("status IN ('active', 'revoked')", name="ck_ec_auth_status"),
    )
    op.create_index(
        "uq_ec_authorization_psn",
        "ec_authorization",
        ["chnl_id", "psn_no"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "ec_activation_event",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("psn_no", sa.Text, sa.ForeignKey("person.psn_no"), nullable=False),
        sa.Column("chnl_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("admdvs", sa.Text, nullable=False, server_default=""),
        sa.Column("town", sa.Text, nullable=False, server_default=""),
        sa.Column("emp_no", sa.Text, nullable=False, server_default=""),
        sa.Column("emp_name", sa.Text, nullable=False, server_default=""),
        sa.Column("category", sa.Text, nullable=False, server_default=""),
        sa.Column("insutype", sa.Text, nullable=False, server_default=""),
        sa.Column("actor", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_ec_activation_event_at", "ec_activation_event", ["kind", "at"])
    op.create_table(
        "ec_code",
        sa.Column("jti", sa.Text, primary_key=True),
        sa.Column("psn_no", sa.Text, nullable=False),
        sa.Column("holder_psn_no", sa.Text, nullable=False),
        sa.Column("chnl_id", sa.Text, nullable=False),
        sa.Column("admdvs", sa.Text, nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS),
        sa.Column("used_by_org", sa.Text),
        sa.Column("out_biz_no", sa.Text),
        sa.Column("ec_token", sa.Text),
    )
    op.create_index("ix_ec_code_expires", "ec_code", ["expires_at"])
    op.create_table(
        "ec_token",
        sa.Column("ec_token", sa.Text, primary_key=True),
        sa.Column("psn_no", sa.Text, nullable=False),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("business_type", sa.Text, nullable=False),
        sa.Column("jti", sa.Text, nullable=False),
        sa.Column("auth_no", sa.Text, nullable=False),
        sa.Column("operator_id", sa.Text, nullable=False, server_default=""),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("pwd_verified_at", TS),
    )
    op.create_table(
        "ec_password",
        sa.Column("psn_no", sa.Text, sa.ForeignKey("person.psn_no"), primary_key=True),
        sa.Column("hash", sa.Text, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", TS),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "ec_family",
        sa.Column("holder_psn_no", sa.Text, sa.ForeignKey("person.psn_no"), primary_key=True),
        sa.Column("dependent_psn_no", sa.Text, sa.ForeignKey("person.psn_no"), primary_key=True),
        sa.Column("relation", sa.Text, nullable=False),
        sa.Column("consent_by", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("bound_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
        sa.CheckConstraint("consent_by IN ('dependent', 'guardian')", name="ck_ec_family_consent"),
    )
    op.create_table(
        "ec_channel_nonce",
        sa.Column("chnl_id", sa.Text, primary_key=True),
        sa.Column("nonce", sa.Text, primary_key=True),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_ec_channel_nonce_at", "ec_channel_nonce", ["at"])


def downgrade() -> None:
    for t in (
        "ec_channel_nonce",
        "ec_family",
        "ec_password",
        "ec_token",
        "ec_code",
        "ec_activation_event",
        "ec_authorization",
        "ec_voucher",
        "ec_signing_key",
        "ec_channel",
    ):
        op.drop_table(t)
