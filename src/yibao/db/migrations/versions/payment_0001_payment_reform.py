"""payment: settlement lists (结算清单), case valuations, monthly advances, year-end clearing,
特例单议 applications and opinions, institution budgets, 医共体 communities and their budgets.

Revision ID: payment_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "payment_0001"
down_revision = None
branch_labels = ("payment",)
depends_on = None

NOW = sa.text("now()")


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, server_default=NOW)


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("payment_setl_list_seq")))
    op.execute(sa.schema.CreateSequence(sa.Sequence("payment_special_seq")))
    op.create_table(
        "payment_setl_list",
        sa.Column("setl_id", sa.Text, primary_key=True),
        sa.Column("setl_list_id", sa.Text, nullable=False, unique=True),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("admdvs", sa.Text, nullable=False),
        sa.Column("psn_no", sa.Text, nullable=False),
        sa.Column("mdtrt_id", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("setl_date", sa.Date, nullable=False),
        sa.Column("setl_ym", sa.Text, nullable=False),
        sa.Column("content", pg.JSONB, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("grp_status", sa.Text, nullable=False),
        sa.Column("grp_code", sa.Text, nullable=False, server_default=""),
        sa.Column("grp_result", pg.JSONB, nullable=False),
        sa.Column("grp_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("qc_result", sa.Text, nullable=False),
        sa.Column("qc_err_lv", sa.Text, nullable=False, server_default=""),
        sa.Column("qc_retn_flag", sa.Text, nullable=False, server_default="0"),
        sa.Column("qc_version", sa.Text, nullable=False),
        sa.Column("qc_findings", pg.JSONB, nullable=False),
        sa.Column("qc_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("msgid", sa.Text, nullable=False),
        sa.Column("history", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint("state IN ('0','1','2','3')", name="ck_psl_state"),
    )
    op.create_index("ix_psl_inst_ym", "payment_setl_list", ["fixmedins_code", "setl_ym"])
    op.create_index("ix_psl_region_date", "payment_setl_list", ["admdvs", "setl_date"])
    op.create_table(
        "payment_case",
        sa.Column("setl_id", sa.Text, primary_key=True),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("admdvs", sa.Text, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("run_month", sa.Text, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("fund_pay_type", sa.Text, nullable=False),
        sa.Column("grp_code", sa.Text, nullable=False),
        sa.Column("mode", sa.Text, nullable=False),
        sa.Column("units", sa.Numeric(20, 4), nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.Column("by_item", sa.BigInteger, nullable=False),
        sa.Column("deductions", sa.BigInteger, nullable=False),
        sa.Column("fund_due", sa.BigInteger, nullable=False),
        sa.Column("item_fund", sa.BigInteger, nullable=False),
        sa.Column("medfee_sumamt", sa.BigInteger, nullable=False),
        sa.Column("unit_value", sa.Numeric(20, 4), nullable=False),
        sa.Column("trace", pg.JSONB, nullable=False),
        sa.Column("special_appy_id", sa.Text),
        sa.Column("final_mode", sa.Text),
        sa.Column("final_units", sa.Numeric(20, 4)),
        sa.Column("final_value", sa.BigInteger),
        sa.Column("final_fund_due", sa.BigInteger),
        sa.Column("final_unit_value", sa.Numeric(20, 4)),
        sa.Column("final_trace", pg.JSONB),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        _ts("created_at"),
    )
    op.create_index("ix_pcase_region_year", "payment_case", ["admdvs", "year"])
    op.create_index("ix_pcase_inst_year", "payment_case", ["fixmedins_code", "year"])
    op.create_table(
        "payment_advance",
        sa.Column("fixmedins_code", sa.Text, primary_key=True),
        sa.Column("month", sa.Text, primary_key=True),
        sa.Column("admdvs", sa.Text, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("cases", sa.Integer, nullable=False),
        sa.Column("fund_due", sa.BigInteger, nullable=False),
        sa.Column("item_fund", sa.BigInteger, nullable=False),
        sa.Column("adjustments", pg.JSONB, nullable=False),
        sa.Column("advance", sa.BigInteger, nullable=False),
        sa.Column("hold", sa.BigInteger, nullable=False),
        sa.Column("unit_value", sa.Numeric(20, 4), nullable=False),
        sa.Column("chain_id", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "payment_region_year",
        sa.Column("admdvs", sa.Text, primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("cost_budget", sa.BigInteger, nullable=False),
        sa.Column("by_item", sa.BigInteger, nullable=False),
        sa.Column("total_units", sa.Numeric(24, 4), nullable=False),
        sa.Column("provisional_unit_value", sa.Numeric(20, 4), nullable=False),
        sa.Column("final_unit_value", sa.Numeric(20, 4), nullable=False),
        sa.Column("cases", sa.Integer, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "payment_year_end",
        sa.Column("fixmedins_code", sa.Text, primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("admdvs", sa.Text, nullable=False),
        sa.Column("cases", sa.Integer, nullable=False),
        sa.Column("final_fund_due", sa.BigInteger, nullable=False),
        sa.Column("posted_fund_due", sa.BigInteger, nullable=False),
        sa.Column("advanced", sa.BigInteger, nullable=False),
        sa.Column("held", sa.BigInteger, nullable=False),
        sa.Column("released", sa.BigInteger, nullable=False),
        sa.Column("forfeited", sa.BigInteger, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("final_payment", sa.BigInteger, nullable=False),
        sa.Column("receivable", sa.BigInteger, nullable=False),
        sa.Column("adjustments", pg.JSONB, nullable=False),
        sa.Column("chain_id", sa.Text, nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "payment_special",
        sa.Column("appy_id", sa.Text, primary_key=True),
        sa.Column("setl_id", sa.Text, nullable=False),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("admdvs", sa.Text, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("psn_no", sa.Text, nullable=False),
        sa.Column("mdtrt_id", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("exit_type", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_units", sa.Numeric(20, 6), nullable=False),
        sa.Column("deducted", sa.BigInteger, nullable=False),
        sa.Column("items", pg.JSONB, nullable=False),
        sa.Column("memo", sa.Text, nullable=False, server_default=""),
        sa.Column("msgid", sa.Text, nullable=False),
        sa.Column("chain_id", sa.Text, nullable=False, server_default=""),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        _ts("created_at"),
        _ts("updated_at"),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "state IN ('submitted','in_review','approved','refused','withdrawn')",
            name="ck_pspecial_state",
        ),
    )
    op.create_index("ix_pspecial_inst_year", "payment_special", ["fixmedins_code", "year"])
    op.create_index(
        "uq_pspecial_live_setl",
        "payment_special",
        ["setl_id"],
        unique=True,
        postgresql_where=sa.text("state IN ('submitted','in_review','approved')"),
    )
    op.create_table(
        "payment_special_opinion",
        sa.Column("appy_id", sa.Text, primary_key=True),
        sa.Column("reviewer", sa.Text, primary_key=True),
        sa.Column("reviewer_name", sa.Text, nullable=False),
        sa.Column("approve", sa.Boolean, nullable=False),
        sa.Column("deducted", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("opinion", sa.Text, nullable=False),
        _ts("at"),
    )
    op.create_table(
        "payment_budget",
        sa.Column("fixmedins_code", sa.Text, primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("set_by", sa.Text, nullable=False),
        _ts("set_at"),
        sa.CheckConstraint("amount > 0", name="ck_pbudget_amount"),
    )
    op.create_table(
        "payment_community",
        sa.Column("ycm_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("admdvs", sa.Text, nullable=False),
        sa.Column("lead_fixmedins_code", sa.Text, nullable=False),
        sa.Column("fund_pay_type", sa.Text, nullable=False),
        sa.Column("population", sa.Integer, nullable=False, server_default="0"),
        _ts("created_at"),
    )
    op.create_table(
        "payment_community_member",
        sa.Column("ycm_id", sa.Text, primary_key=True),
        sa.Column("fixmedins_code", sa.Text, primary_key=True),
        _ts("created_at"),
    )
    op.create_table(
        "payment_community_budget",
        sa.Column("ycm_id", sa.Text, primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("basis", sa.Text, nullable=False),
        sa.Column("set_by", sa.Text, nullable=False),
        _ts("set_at"),
        sa.CheckConstraint("amount > 0", name="ck_pcb_amount"),
    )
    op.create_table(
        "payment_community_month",
        sa.Column("ycm_id", sa.Text, primary_key=True),
        sa.Column("month", sa.Text, primary_key=True),
        sa.Column("allocation", sa.BigInteger, nullable=False),
        sa.Column("spending", sa.BigInteger, nullable=False),
        sa.Column("inside", sa.BigInteger, nullable=False),
        sa.Column("outside", sa.BigInteger, nullable=False),
        sa.Column("out_of_county", sa.BigInteger, nullable=False),
        sa.Column("chain_id", sa.Text, nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "payment_community_year",
        sa.Column("ycm_id", sa.Text, primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("budget", sa.BigInteger, nullable=False),
        sa.Column("spending", sa.BigInteger, nullable=False),
        sa.Column("retained", sa.BigInteger, nullable=False),
        sa.Column("returned", sa.BigInteger, nullable=False),
        sa.Column("fund_overrun", sa.BigInteger, nullable=False),
        sa.Column("community_overrun", sa.BigInteger, nullable=False),
        sa.Column("final", sa.BigInteger, nullable=False),
        sa.Column("lines", pg.JSONB, nullable=False),
        sa.Column("chain_id", sa.Text, nullable=False),
        _ts("created_at"),
    )


def downgrade() -> None:
    for table in (
        "payment_community_year",
        "payment_community_month",
        "payment_community_budget",
        "payment_community_member",
        "payment_community",
        "payment_budget",
        "payment_special_opinion",
        "payment_special",
        "payment_year_end",
        "payment_region_year",
        "payment_advance",
        "payment_case",
        "payment_setl_list",
    ):
        op.drop_table(table)
    op.execute(sa.schema.DropSequence(sa.Sequence("payment_special_seq")))
    op.execute(sa.schema.DropSequence(sa.Sequence("payment_setl_list_seq")))
