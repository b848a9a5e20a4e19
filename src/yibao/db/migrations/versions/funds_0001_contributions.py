"""funds: contribution assessments (核定), bills, payments (到账), tax-file exchange, relief and
deferral approvals, account-credit runs and budget transfers.

Assessments, bills and payments are never updated or deleted (a correction is a new record); the
money itself is in the fund ledger (``ledger_*``), which every payment posts to.

Revision ID: funds_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "funds_0001"
down_revision = None
branch_labels = ("funds",)
depends_on = ("registry_0003", "ledger_0001")

NOW = sa.func.now()
APPEND_ONLY = ("funds_assessment", "funds_resident_assessment", "funds_bill", "funds_payment")


def _ts() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW)


def upgrade() -> None:
    op.create_table(
        "funds_assessment_run",
        sa.Column("run_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("region", sa.CHAR(6), nullable=False),
        sa.Column("scheme", sa.Text, nullable=False),  # employee | resident
        sa.Column("period", sa.Date, nullable=False),  # month, or January 1 of the year
        sa.Column("run_no", sa.Integer, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("bills", sa.Integer, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        _ts(),
        sa.UniqueConstraint("region", "scheme", "period", "run_no", name="uq_funds_run"),
    )
    op.create_table(
        "funds_bill",
        sa.Column("bill_no", sa.Text, primary_key=True),
        sa.Column("region", sa.CHAR(6), nullable=False),
        sa.Column("scheme", sa.Text, nullable=False),  # employee | flexible | resident
        sa.Column("payer_kind", sa.Text, nullable=False),  # unit | person
        sa.Column("payer_id", sa.Text, nullable=False),  # emp_no or psn_no
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("employer", sa.BigInteger, nullable=False),
        sa.Column("employee", sa.BigInteger, nullable=False),
        sa.Column("large_amount", sa.BigInteger, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("persons", sa.Integer, nullable=False),
        sa.Column("run_id", sa.BigInteger, sa.ForeignKey("funds_assessment_run.run_id")),
        _ts(),
        sa.CheckConstraint("amount = employer + employee + large_amount", name="ck_bill_sum"),
    )
    op.create_index("ix_funds_bill_payer", "funds_bill", ["payer_id", "period"])
    op.create_index("ix_funds_bill_region", "funds_bill", ["region", "period"])
    op.create_index("ix_funds_bill_run", "funds_bill", ["run_id"])
    op.create_table(
        "funds_assessment",  # key: person first (benefit status and history read by person)
        sa.Column("psn_no", sa.Text, primary_key=True),
        sa.Column("insutype", sa.Text, primary_key=True),
        sa.Column("period", sa.Date, primary_key=True),
        sa.Column("region", sa.CHAR(6), nullable=False),
        sa.Column("bill_no", sa.Text, nullable=False),
        sa.Column("run_id", sa.BigInteger, nullable=False),
        sa.Column("flexible", sa.Boolean, nullable=False),
        sa.Column("relief", sa.Boolean, nullable=False),
        sa.Column("base", sa.BigInteger, nullable=False),
        sa.Column("employer_rate", sa.Integer, nullable=False),
        sa.Column("employer", sa.BigInteger, nullable=False),
        sa.Column("employee", sa.BigInteger, nullable=False),
        sa.Column("account", sa.BigInteger, nullable=False),
        sa.Column("pooled", sa.BigInteger, nullable=False),
        sa.Column("large_amount", sa.BigInteger, nullable=False),
        sa.Column("civil_servant", sa.BigInteger, nullable=False),
        sa.CheckConstraint("pooled = employer + employee - account", name="ck_assessment_split"),
    )
    op.create_index("ix_funds_assessment_bill", "funds_assessment", ["bill_no"])
    op.create_table(
        "funds_resident_assessment",
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("psn_no", sa.Text, primary_key=True),
        sa.Column("region", sa.CHAR(6), nullable=False),
        sa.Column("bill_no", sa.Text),  # None when the assistance fund pays everything
        sa.Column("run_id", sa.BigInteger, nullable=False),
        sa.Column("cover_from", sa.Date, nullable=False),
        sa.Column("personal", sa.BigInteger, nullable=False),
        sa.Column("assisted", sa.BigInteger, nullable=False),
        sa.Column("own", sa.BigInteger, nullable=False),
        sa.Column("subsidy", sa.BigInteger, nullable=False),
        sa.Column("serious", sa.BigInteger, nullable=False),
        sa.Column("assist_class", sa.Text, nullable=False, server_default=""),
        sa.Column("assist_chain", sa.Text),
        sa.Column("settled_on", sa.Date),  # paid in full without a bill (资助参保全额) on this day
        _ts(),
        sa.CheckConstraint("own = personal - assisted", name="ck_resident_split"),
    )
    op.create_index("ix_funds_resident_bill", "funds_resident_assessment", ["bill_no"])
    op.create_table(
        "funds_payment",
        sa.Column("bill_no", sa.Text, sa.ForeignKey("funds_bill.bill_no"), primary_key=True),
        sa.Column("paid_date", sa.Date, nullable=False),
        sa.Column("principal", sa.BigInteger, nullable=False),
        sa.Column("late_fee", sa.BigInteger, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),  # tax | gongji
        sa.Column("source", sa.Text, nullable=False),  # tax file id, or the paying account
        sa.Column("voucher_no", sa.Text, nullable=False),
        sa.Column("chain_id", sa.Text, nullable=False),
        _ts(),
    )
    op.create_table(
        "funds_approval",
        sa.Column("approval_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),  # deferral | relief
        sa.Column("emp_no", sa.Text, sa.ForeignKey("unit.emp_no"), nullable=False),
        sa.Column("period_from", sa.Date, nullable=False),
        sa.Column("period_to", sa.Date, nullable=False),
        sa.Column("approved_by", sa.Text, nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("fund_months", sa.Text, nullable=False, server_default=""),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("kind IN ('deferral', 'relief')", name="ck_approval_kind"),
        sa.CheckConstraint("period_to >= period_from", name="ck_approval_periods"),
        sa.UniqueConstraint("kind", "emp_no", "period_from", name="uq_funds_approval"),
    )
    op.create_table(
        "funds_tax_file",
        sa.Column("file_id", sa.Text, primary_key=True),
        sa.Column("direction", sa.Text, nullable=False),  # export | import
        sa.Column("region", sa.CHAR(6), nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("principal", sa.BigInteger, nullable=False),
        sa.Column("late_fee", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        _ts(),
    )
    op.create_table(
        "funds_tax_export_bill",
        sa.Column("file_id", sa.Text, sa.ForeignKey("funds_tax_file.file_id"), primary_key=True),
        sa.Column("bill_no", sa.Text, sa.ForeignKey("funds_bill.bill_no"), primary_key=True),
    )
    op.create_index("ix_funds_export_bill", "funds_tax_export_bill", ["bill_no"])
    op.create_table(
        "funds_posting",  # non-payment postings: account credits, budget transfers, interest …
        sa.Column("ref", sa.Text, primary_key=True),
        sa.Column("region", sa.CHAR(6), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("fund_pay_type", sa.Text, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("value_date", sa.Date, nullable=False),
        sa.Column("chain_id", sa.Text, nullable=False),
        sa.Column("memo", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("actor", sa.Text, nullable=False),
        _ts(),
    )
    op.create_index("ix_funds_posting_region", "funds_posting", ["region", "kind", "value_date"])
    op.execute(
        """
        CREATE FUNCTION funds_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'funds records are append-only: % on % refused (核定与到账只追加)',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION funds_refuse_change()"
        )


def downgrade() -> None:
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute("DROP FUNCTION funds_refuse_change()")
    for table in (
        "funds_posting",
        "funds_tax_export_bill",
        "funds_tax_file",
        "funds_approval",
        "funds_payment",
        "funds_resident_assessment",
        "funds_assessment",
        "funds_bill",
        "funds_assessment_run",
    ):
        op.drop_table(table)
