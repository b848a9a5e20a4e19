"""institutions: designated institutions (定点医药机构), credentials, operators, sign-ins (签到).

Revision ID: institutions_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "institutions_0001"
down_revision = None
branch_labels = ("institutions",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "institution",
        sa.Column("fixmedins_code", sa.Text, primary_key=True),
        sa.Column("fixmedins_name", sa.Text, nullable=False),
        sa.Column("fixmedins_type", sa.Text, nullable=False),
        sa.Column("admdvs", sa.Text, nullable=False),
        sa.Column("hosp_lv", sa.Text, nullable=False, server_default=""),
        sa.Column("uscc", sa.Text, nullable=False, server_default=""),
        sa.Column("fix_onln_open_flag", sa.Text, nullable=False, server_default="1"),
        sa.Column("addr", sa.Text, nullable=False, server_default=""),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("fixmedins_type IN ('1','2','3','4','5')", name="ck_institution_type"),
        sa.CheckConstraint("fix_onln_open_flag IN ('0','1','2')", name="ck_institution_onln"),
    )
    op.create_index("ix_institution_admdvs", "institution", ["admdvs", "fixmedins_type"])
    op.create_table(
        "institution_credential",
        sa.Column("app_key", sa.Text, primary_key=True),
        sa.Column(
            "fixmedins_code",
            sa.Text,
            sa.ForeignKey("institution.fixmedins_code"),
            nullable=False,
        ),
        sa.Column("app_secret", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_institution_credential_code", "institution_credential", ["fixmedins_code"])
    op.create_table(
        "institution_operator",
        sa.Column(
            "fixmedins_code",
            sa.Text,
            sa.ForeignKey("institution.fixmedins_code"),
            primary_key=True,
        ),
        sa.Column("opter_no", sa.Text, primary_key=True),
        sa.Column("opter_name", sa.Text, nullable=False),
        sa.Column("opter_type", sa.Text, nullable=False, server_default="1"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.execute(sa.schema.CreateSequence(sa.Sequence("institution_signin_seq")))
    op.create_table(
        "institution_signin",
        sa.Column("sign_no", sa.Text, primary_key=True),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("opter_no", sa.Text, nullable=False),
        sa.Column("sign_date", sa.Date, nullable=False),
        sa.Column("sign_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mac", sa.Text, nullable=False, server_default=""),
        sa.Column("ip", sa.Text, nullable=False, server_default=""),
        sa.Column("signed_out_at", sa.DateTime(timezone=True)),
        sa.ForeignKeyConstraint(
            ["fixmedins_code", "opter_no"],
            ["institution_operator.fixmedins_code", "institution_operator.opter_no"],
        ),
    )
    # 同一操作员在不同终端登录，返回同一个签到流水号: at most one open sign-in per operator and day.
    op.create_index(
        "ux_institution_signin_open",
        "institution_signin",
        ["fixmedins_code", "opter_no", "sign_date"],
        unique=True,
        postgresql_where=sa.text("signed_out_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("institution_signin")
    op.execute(sa.schema.DropSequence(sa.Sequence("institution_signin_seq")))
    op.drop_table("institution_operator")
    op.drop_table("institution_credential")
    op.drop_table("institution")
