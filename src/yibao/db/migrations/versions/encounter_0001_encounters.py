"""encounter: visits (就诊), fee lines (费用明细), settlements (结算记录), accumulators (年度累计).

Revision ID: encounter_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "encounter_0001"
down_revision = None
branch_labels = ("encounter",)
depends_on = None

AMOUNTS = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "hifdm_pay",
    "oth_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "hosp_part_amt",
    "acct_mulaid_pay",
)


def _now() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    op.execute("CREATE SEQUENCE encounter_mdtrt_seq")
    op.execute("CREATE SEQUENCE encounter_setl_seq")
    op.create_table(
        "encounter",
        sa.Column("mdtrt_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("psn_no", sa.Text, nullable=False),
        sa.Column("insutype", sa.Text, nullable=False),
        sa.Column("med_type", sa.Text, nullable=False, server_default=""),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("insuplc_admdvs", sa.Text, nullable=False),
        sa.Column("mdtrtarea_admvs", sa.Text, nullable=False),
        sa.Column("ipt_otp_no", sa.Text, nullable=False, server_default=""),
        sa.Column("begntime", sa.DateTime(timezone=True)),
        sa.Column("endtime", sa.DateTime(timezone=True)),
        sa.Column("dise_codg", sa.Text, nullable=False, server_default=""),
        sa.Column("dise_name", sa.Text, nullable=False, server_default=""),
        sa.Column("discharged", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("final_setl_id", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("msgid", sa.Text, nullable=False, server_default=""),
        sa.Column("info", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        _now(),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_encounter_psn", "encounter", ["psn_no", "begntime"])
    op.create_index("ix_encounter_fixmedins", "encounter", ["fixmedins_code", "ipt_otp_no"])

    op.create_table(
        "encounter_fee_line",
        sa.Column("mdtrt_id", sa.Text, sa.ForeignKey("encounter.mdtrt_id"), primary_key=True),
        sa.Column("feedetl_sn", sa.Text, primary_key=True),
        sa.Column("chrg_bchno", sa.Text, nullable=False, server_default=""),
        sa.Column("med_list_codg", sa.Text, nullable=False),
        sa.Column("medins_list_codg", sa.Text, nullable=False),
        sa.Column("det_item_fee_sumamt", sa.BigInteger, nullable=False),
        sa.Column("cnt", sa.Numeric(16, 4), nullable=False),
        sa.Column("pric", sa.Numeric(16, 6), nullable=False),
        sa.Column("fee_ocur_time", sa.DateTime(timezone=True)),
        sa.Column("init_feedetl_sn", sa.Text, nullable=False, server_default=""),
        sa.Column("pric_uplmt_amt", sa.BigInteger),
        sa.Column("selfpay_prop", sa.Numeric(5, 4), nullable=False),
        sa.Column("fulamt_ownpay_amt", sa.BigInteger, nullable=False),
        sa.Column("overlmt_amt", sa.BigInteger, nullable=False),
        sa.Column("preselfpay_amt", sa.BigInteger, nullable=False),
        sa.Column("inscp_scp_amt", sa.BigInteger, nullable=False),
        sa.Column("chrgitm_lv", sa.Text, nullable=False),
        sa.Column("med_chrgitm_type", sa.Text, nullable=False),
        sa.Column("split_flags", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("extra", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("upload_msgid", sa.Text, nullable=False, server_default=""),
        sa.Column("settled_setl_id", sa.Text),
        _now(),
        sa.CheckConstraint(
            "det_item_fee_sumamt = fulamt_ownpay_amt + overlmt_amt + preselfpay_amt"
            " + inscp_scp_amt",
            name="ck_encounter_fee_line_split",
        ),
    )
    op.create_index("ix_encounter_fee_line_batch", "encounter_fee_line", ["mdtrt_id", "chrg_bchno"])
    op.create_index("ix_encounter_fee_line_setl", "encounter_fee_line", ["settled_setl_id"])

    op.create_table(
        "encounter_settlement",
        sa.Column("setl_id", sa.Text, primary_key=True),
        sa.Column("mdtrt_id", sa.Text, sa.ForeignKey("encounter.mdtrt_id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("msgid", sa.Text, nullable=False, server_default=""),
        sa.Column("psn_no", sa.Text, nullable=False),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("insutype", sa.Text, nullable=False),
        sa.Column("med_type", sa.Text, nullable=False, server_default=""),
        sa.Column("insuplc_admdvs", sa.Text, nullable=False),
        sa.Column("mdtrtarea_admvs", sa.Text, nullable=False),
        *[sa.Column(a, sa.BigInteger, nullable=False, server_default="0") for a in AMOUNTS],
        sa.Column("pool_prop_selfpay", sa.Numeric(5, 4)),
        sa.Column("balc", sa.BigInteger),
        sa.Column("setlinfo", pg.JSONB, nullable=False),
        sa.Column("setldetail", pg.JSONB, nullable=False),
        sa.Column("trace", pg.JSONB, nullable=False, server_default=sa.text("'null'::jsonb")),
        sa.Column(
            "accumulator_deltas", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")
        ),
        sa.Column("acc_year", sa.Integer, nullable=False),
        sa.Column(
            "reverses",
            sa.Text,
            sa.ForeignKey("encounter_settlement.setl_id"),
            unique=True,
        ),
        sa.Column("clr_type", sa.Text, nullable=False, server_default=""),
        sa.Column("clr_way", sa.Text, nullable=False, server_default=""),
        sa.Column("clr_optins", sa.Text, nullable=False, server_default=""),
        sa.Column("mid_setl_flag", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("chrg_bchno", sa.Text, nullable=False, server_default=""),
        sa.Column("feedetl_sns", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("setl_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("setl_date", sa.Date, nullable=False),
        _now(),
        sa.CheckConstraint("kind IN ('settle','cancel')", name="ck_encounter_settlement_kind"),
        sa.CheckConstraint(
            "(kind = 'cancel') = (reverses IS NOT NULL)", name="ck_encounter_settlement_reverses"
        ),
        sa.CheckConstraint(
            "medfee_sumamt = fund_pay_sumamt + psn_part_amt + hosp_part_amt"
            " AND psn_part_amt = acct_pay + psn_cash_pay"
            " AND medfee_sumamt = fulamt_ownpay_amt + overlmt_selfpay + preselfpay_amt"
            " + inscp_scp_amt",
            name="ck_encounter_settlement_identities",
        ),
    )
    op.create_index("ix_encounter_settlement_mdtrt", "encounter_settlement", ["mdtrt_id"])
    op.create_index(
        "ix_encounter_settlement_day",
        "encounter_settlement",
        ["fixmedins_code", "setl_date", "insutype", "clr_type"],
    )
    op.create_index(
        "ix_encounter_settlement_acc",
        "encounter_settlement",
        ["psn_no", "insuplc_admdvs", "acc_year"],
    )
    op.create_index("ix_encounter_settlement_msgid", "encounter_settlement", ["msgid"])

    op.create_table(
        "encounter_accumulator",
        sa.Column("psn_no", sa.Text, primary_key=True),
        sa.Column("insuplc_admdvs", sa.Text, primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("counters", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("encounter_accumulator")
    op.drop_table("encounter_settlement")
    op.drop_table("encounter_fee_line")
    op.drop_table("encounter")
    op.execute("DROP SEQUENCE encounter_setl_seq")
    op.execute("DROP SEQUENCE encounter_mdtrt_seq")
