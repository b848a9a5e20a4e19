"""encounter: the console at province scale (ADR 0018) — stored region columns, list indexes and
daily settlement roll-ups (结算日汇总).

- ``insuplc_city`` / ``mdtrtarea_city``: the 4-digit city prefix of 参保地 / 就医地, stored
  (generated) so a user's scope is an indexed equality instead of ``LIKE '4401%' OR …``;
- ``xid``: the writing transaction (``pg_current_xact_id()``), so the roll-up folds each
  finished settlement exactly once from a watermark (as the ledger's roll-up does);
- indexes for newest-first keyset paging: all settlements, per insured city, per treatment city
  (partial: rows treated outside their insured code only — the insured city's index already has
  the others), per institution;
- ``encounter_settlement_daily``: per day × (参保地, 就医地) × institution × 险种 × 清算类别, the
  record count, the net count (settlements − cancellations) and every amount summed;
  ``encounter_rollup_state`` holds its watermark.

Revision ID: encounter_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "encounter_0002"
down_revision = "encounter_0001"
branch_labels = None
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


def upgrade() -> None:
    op.execute(
        "ALTER TABLE encounter_settlement"
        " ADD COLUMN insuplc_city text GENERATED ALWAYS AS (left(insuplc_admdvs, 4)) STORED,"
        " ADD COLUMN mdtrtarea_city text GENERATED ALWAYS AS (left(mdtrtarea_admvs, 4)) STORED,"
        " ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id()"
    )
    op.execute(
        "CREATE INDEX ix_encounter_settlement_time ON encounter_settlement (setl_time, setl_id)"
    )
    op.execute(
        "CREATE INDEX ix_encounter_settlement_insuplc_time"
        " ON encounter_settlement (insuplc_city, setl_time, setl_id)"
    )
    op.execute(
        "CREATE INDEX ix_encounter_settlement_mdtrtarea_time"
        " ON encounter_settlement (mdtrtarea_city, setl_time, setl_id)"
        " WHERE insuplc_admdvs <> mdtrtarea_admvs"
    )
    op.execute(
        "CREATE INDEX ix_encounter_settlement_inst_time"
        " ON encounter_settlement (fixmedins_code, setl_time, setl_id)"
    )
    # the sort by 总费用 (largest first): one index for every scope; a city or an institution
    # walks it filtering, the planner sorts a small scope's rows instead
    op.execute(
        "CREATE INDEX ix_encounter_settlement_medfee"
        " ON encounter_settlement (medfee_sumamt, setl_id)"
    )
    op.execute("CREATE INDEX ix_encounter_settlement_xid ON encounter_settlement (xid)")
    op.create_table(
        "encounter_settlement_daily",
        sa.Column("setl_date", sa.Date, primary_key=True),
        sa.Column("insuplc_admdvs", sa.Text, primary_key=True),
        sa.Column("mdtrtarea_admvs", sa.Text, primary_key=True),
        sa.Column("fixmedins_code", sa.Text, primary_key=True),
        sa.Column("insutype", sa.Text, primary_key=True),
        sa.Column("clr_type", sa.Text, primary_key=True),
        sa.Column("records", sa.BigInteger, nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        *[sa.Column(a, sa.BigInteger, nullable=False) for a in AMOUNTS],
    )
    op.execute(
        "ALTER TABLE encounter_settlement_daily"
        " ADD COLUMN insuplc_city text GENERATED ALWAYS AS (left(insuplc_admdvs, 4)) STORED,"
        " ADD COLUMN mdtrtarea_city text GENERATED ALWAYS AS (left(mdtrtarea_admvs, 4)) STORED"
    )
    op.create_index(
        "ix_encounter_settlement_daily_inst", "encounter_settlement_daily", ["fixmedins_code"]
    )
    op.create_table(
        "encounter_rollup_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("xid_watermark", sa.Text, nullable=False),
        sa.Column("rolled_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("id = 1", name="ck_encounter_rollup_state_single"),
    )
    op.execute(
        "ALTER TABLE encounter_rollup_state ALTER COLUMN xid_watermark TYPE xid8"
        " USING xid_watermark::xid8"
    )
    op.execute("INSERT INTO encounter_rollup_state (id, xid_watermark) VALUES (1, '0'::xid8)")


def downgrade() -> None:
    op.drop_table("encounter_rollup_state")
    op.drop_table("encounter_settlement_daily")
    for ix in ("time", "insuplc_time", "mdtrtarea_time", "inst_time", "medfee", "xid"):
        op.execute(f"DROP INDEX ix_encounter_settlement_{ix}")
    op.execute(
        "ALTER TABLE encounter_settlement DROP COLUMN insuplc_city, DROP COLUMN mdtrtarea_city,"
        " DROP COLUMN xid"
    )
