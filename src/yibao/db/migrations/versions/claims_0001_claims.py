"""claims: 零星报销 (manual reimbursement) with invoices, files and events; 4261 self-pay uploads.

Revision ID: claims_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "claims_0001"
down_revision = None
branch_labels = ("claims",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.execute("CREATE SEQUENCE claim_seq")
    op.create_table(
        "claim",
        sa.Column("claim_no", sa.Text, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),  # counter | chnl:<chnl_id>
        sa.Column("request_id", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),  # sha256 of the application
        sa.Column("psn_no", sa.Text, nullable=False),
        sa.Column("insutype", sa.Text, nullable=False),
        sa.Column("insuplc_admdvs", sa.Text, nullable=False),
        sa.Column("mdtrtarea_admvs", sa.Text, nullable=False),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("fixmedins_name", sa.Text, nullable=False),
        sa.Column("hosp_lv", sa.Text, nullable=False),
        sa.Column("med_type", sa.Text, nullable=False),
        sa.Column("mdtrt_id", sa.Text, nullable=False, server_default=""),  # the institution's 就诊ID
        sa.Column("begndate", sa.Date, nullable=False),
        sa.Column("enddate", sa.Date, nullable=False),
        sa.Column("dise_codg", sa.Text, nullable=False, server_default=""),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("payee_name", sa.Text, nullable=False),
        sa.Column("payee_bank", sa.Text, nullable=False),
        sa.Column("payee_account", sa.Text, nullable=False),
        sa.Column("fee_rows", pg.JSONB, nullable=False),
        sa.Column("fee_total", sa.BigInteger, nullable=False),
        sa.Column("selfpay_check", pg.JSONB),  # invoice total vs the institution's 4261 upload
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("time_limit_days", sa.Integer, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("submitted_at", TS, nullable=False),
        sa.Column("accepted_by", sa.Text, nullable=False, server_default=""),
        sa.Column("accepted_at", TS),
        sa.Column("reviewed_by", sa.Text, nullable=False, server_default=""),
        sa.Column("reviewed_at", TS),
        sa.Column("reviewed_amt", sa.BigInteger),
        sa.Column("approved_by", sa.Text, nullable=False, server_default=""),
        sa.Column("approved_at", TS),
        sa.Column("paid_by", sa.Text, nullable=False, server_default=""),
        sa.Column("paid_at", TS),
        sa.Column("refused_by", sa.Text, nullable=False, server_default=""),
        sa.Column("refused_at", TS),
        sa.Column("refuse_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("setlinfo", pg.JSONB),  # the engine's answer (fen) at review, replaced at approval
        sa.Column("setldetail", pg.JSONB),
        sa.Column("trace", pg.JSONB),
        sa.Column("deltas", pg.JSONB),  # accumulator deltas consumed at approval
        sa.Column("reimburse_amt", sa.BigInteger),  # fund_pay_sumamt at approval
        sa.CheckConstraint(
            "status IN ('submitted', 'accepted', 'reviewed', 'approved', 'paid', 'refused')",
            name="ck_claim_status",
        ),
        sa.CheckConstraint("approved_by = '' OR approved_by <> reviewed_by", name="ck_claim_two_people"),
        sa.UniqueConstraint("source", "request_id", name="uq_claim_request"),
    )
    op.create_index("ix_claim_status", "claim", ["status", "due_date"])
    op.create_index("ix_claim_person", "claim", ["psn_no"])
    op.create_table(
        "claim_invoice",
        sa.Column("claim_no", sa.Text, sa.ForeignKey("claim.claim_no"), primary_key=True),
        sa.Column("inv_code", sa.Text, primary_key=True),
        sa.Column("inv_no", sa.Text, primary_key=True),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("inv_date", sa.Date, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    # one invoice is reimbursed once: a live claim holds it (a refused claim releases it)
    op.create_index("uq_claim_invoice_live", "claim_invoice", ["inv_code", "inv_no"], unique=True,
                    postgresql_where=sa.text("active"))
    op.create_table(
        "claim_file",
        sa.Column("claim_no", sa.Text, sa.ForeignKey("claim.claim_no"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("media_type", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.create_index("ix_claim_file_hash", "claim_file", ["sha256"])
    op.create_table(
        "claim_event",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("claim_no", sa.Text, sa.ForeignKey("claim.claim_no"), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("amount", sa.BigInteger),
    )
    op.create_index("ix_claim_event_claim", "claim_event", ["claim_no", "id"])
    # [HN127] 4261 自费病人费用明细信息上传 (full = replace, update = add/replace rows)
    op.create_table(
        "selfpay_visit",
        sa.Column("fixmedins_code", sa.Text, primary_key=True),
        sa.Column("mdtrt_id", sa.Text, primary_key=True),
        sa.Column("certno", sa.Text, nullable=False),
        sa.Column("psn_cert_type", sa.Text, nullable=False),
        sa.Column("psn_name", sa.Text, nullable=False),
        sa.Column("med_type", sa.Text, nullable=False),
        sa.Column("begntime", TS, nullable=False),
        sa.Column("visit", pg.JSONB, nullable=False),
        sa.Column("diseases", pg.JSONB, nullable=False),
        sa.Column("fees", pg.JSONB, nullable=False),  # bkkpSn → row
        sa.Column("fee_total", sa.BigInteger, nullable=False),
        sa.Column("msgid", sa.Text, nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
    )


def downgrade() -> None:
    for t in ("selfpay_visit", "claim_event", "claim_file", "claim_invoice", "claim"):
        op.drop_table(t)
    op.execute("DROP SEQUENCE claim_seq")
