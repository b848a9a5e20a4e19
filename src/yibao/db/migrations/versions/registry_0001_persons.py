"""registry: persons, enrolments, identities, households, personal accounts.

Revision ID: registry_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "registry_0001"
down_revision = None
branch_labels = ("registry",)
depends_on = None

NOW = sa.func.now()


def upgrade() -> None:
    op.execute("CREATE SEQUENCE psn_no_seq START 1")
    op.create_table(
        "person",
        sa.Column("psn_no", sa.Text, primary_key=True),
        sa.Column("psn_cert_type", sa.Text, nullable=False),
        sa.Column("certno", sa.Text, nullable=False),
        sa.Column("psn_name", sa.Text, nullable=False),
        sa.Column("gend", sa.Text, nullable=False),
        sa.Column("naty", sa.Text, nullable=False, server_default=""),
        sa.Column("brdy", sa.Date, nullable=False),
        sa.Column("tel", sa.Text, nullable=False, server_default=""),
        sa.Column("town", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.UniqueConstraint("psn_cert_type", "certno", name="uq_person_cert"),
    )
    op.create_index("ix_person_certno", "person", ["certno"])
    op.create_table(
        "enrolment",
        sa.Column("psn_no", sa.Text, sa.ForeignKey("person.psn_no"), primary_key=True),
        sa.Column("insutype", sa.Text, primary_key=True),
        sa.Column("psn_insu_stas", sa.Text, nullable=False),
        sa.Column("psn_insu_date", sa.Date, nullable=False),
        sa.Column("paus_insu_date", sa.Date),
        sa.Column("psn_type", sa.Text, nullable=False),
        sa.Column("insuplc_admdvs", sa.CHAR(6), nullable=False),
        sa.Column("emp_no", sa.Text, nullable=False, server_default=""),
        sa.Column("emp_name", sa.Text, nullable=False, server_default=""),
        sa.Column("flxempe_flag", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("cvlserv_flag", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index("ix_enrolment_region", "enrolment", ["insuplc_admdvs", "insutype"])
    op.create_table(
        "person_identity",
        sa.Column("psn_no", sa.Text, sa.ForeignKey("person.psn_no"), primary_key=True),
        sa.Column("psn_idet_type", sa.Text, primary_key=True),
        sa.Column("begntime", sa.Date, primary_key=True),
        sa.Column("endtime", sa.Date),
        sa.Column("psn_type_lv", sa.Text, nullable=False, server_default=""),
        sa.Column("memo", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint("endtime IS NULL OR endtime >= begntime", name="ck_identity_period"),
    )
    op.create_table(
        "household",
        sa.Column("hh_no", sa.Text, primary_key=True),
        sa.Column("admdvs", sa.CHAR(6), nullable=False),
        sa.Column("head_psn_no", sa.Text, sa.ForeignKey("person.psn_no"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_table(
        "household_member",
        sa.Column("psn_no", sa.Text, sa.ForeignKey("person.psn_no"), primary_key=True),
        sa.Column("hh_no", sa.Text, sa.ForeignKey("household.hh_no"), nullable=False),
        sa.Column("relation", sa.Text, nullable=False),
        sa.Column("gongji_flag", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_household_member_hh", "household_member", ["hh_no"])
    op.create_table(
        "personal_account",
        sa.Column("psn_no", sa.Text, sa.ForeignKey("person.psn_no"), primary_key=True),
        sa.Column("balc", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("balc >= 0", name="ck_account_not_negative"),
    )
    op.create_table(
        "personal_account_posting",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("psn_no", sa.Text, sa.ForeignKey("personal_account.psn_no"), nullable=False),
        sa.Column("ref", sa.Text, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("balc_after", sa.BigInteger, nullable=False),
        sa.Column("memo", sa.Text, nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.UniqueConstraint("psn_no", "ref", name="uq_account_posting_ref"),
    )


def downgrade() -> None:
    for t in (
        "personal_account_posting",
        "personal_account",
        "household_member",
        "household",
        "person_identity",
        "enrolment",
        "person",
    ):
        op.drop_table(t)
    op.execute("DROP SEQUENCE psn_no_seq")
