"""registry: insured units (参保单位), employment (用工/缴费基数) and benefit blocks (待遇限制).

- ``unit``: an employer insured with the bureau, keyed by ``emp_no`` (the enrolment's 单位编号),
  with its 统一社会信用代码, unit type (emp_type), region and town.
- ``employment``: a person's employment with a unit (or as 灵活就业, own payer) for a date range,
  with the declared monthly contribution base (申报缴费工资, fen).
- ``benefit_block``: periods without benefits (待遇等待期, 欠费暂停) per person and insurance type,
  derived by the funds capability from payments; the settlement snapshot reads them.

Revision ID: registry_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "registry_0003"
down_revision = "registry_0002"
branch_labels = None
depends_on = None

NOW = sa.func.now()


def upgrade() -> None:
    op.create_table(
        "unit",
        sa.Column("emp_no", sa.Text, primary_key=True),
        sa.Column("uscc", sa.CHAR(18), nullable=False, unique=True),
        sa.Column("emp_name", sa.Text, nullable=False),
        sa.Column("emp_type", sa.Text, nullable=False),
        sa.Column("admdvs", sa.CHAR(6), nullable=False),
        sa.Column("town", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index("ix_unit_admdvs", "unit", ["admdvs"])
    op.create_table(
        "employment",
        sa.Column("psn_no", sa.Text, sa.ForeignKey("person.psn_no"), primary_key=True),
        sa.Column("begin_date", sa.Date, primary_key=True),
        sa.Column("end_date", sa.Date),
        sa.Column("emp_no", sa.Text, sa.ForeignKey("unit.emp_no")),
        sa.Column("flexible", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("wage_base", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("wage_base >= 0", name="ck_employment_base"),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= begin_date", name="ck_employment_dates"
        ),
        sa.CheckConstraint(
            "(flexible AND emp_no IS NULL) OR (NOT flexible AND emp_no IS NOT NULL)",
            name="ck_employment_payer",
        ),
    )
    op.create_index("ix_employment_emp_no", "employment", ["emp_no"])
    op.create_table(
        "benefit_block",
        sa.Column("psn_no", sa.Text, sa.ForeignKey("person.psn_no"), primary_key=True),
        sa.Column("insutype", sa.Text, primary_key=True),
        sa.Column("begin_date", sa.Date, primary_key=True),
        sa.Column("reason", sa.Text, primary_key=True),
        sa.Column("end_date", sa.Date),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("end_date IS NULL OR end_date > begin_date", name="ck_block_dates"),
        sa.CheckConstraint("reason IN ('waiting', 'arrears', 'unpaid')", name="ck_block_reason"),
    )


def downgrade() -> None:
    op.drop_table("benefit_block")
    op.drop_table("employment")
    op.drop_table("unit")
