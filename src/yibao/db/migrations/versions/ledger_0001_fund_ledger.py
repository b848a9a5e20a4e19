"""ledger: fund ledger (基金账务) — accounts, chains, append-only transfers, daily roll-ups.

Revision ID: ledger_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "ledger_0001"
down_revision = None
branch_labels = ("ledger",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_account",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False, server_default=""),
        sa.Column("normal_side", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("fund_pay_type", sa.Text, nullable=False, server_default=""),
        sa.Column("counterpart_region", sa.Text, nullable=False, server_default=""),
        sa.Column("owner", sa.Text, nullable=False, server_default=""),
        sa.Column("flags", sa.Integer, nullable=False, server_default="0"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("normal_side IN ('debit','credit')", name="ck_ledger_account_side"),
    )
    op.create_index("ix_ledger_account_region", "ledger_account", ["region", "kind"])

    op.create_table(
        "ledger_chain",
        sa.Column("chain_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("value_date", sa.Date, nullable=False),
        sa.Column("setl_id", sa.Text, nullable=False, server_default=""),
        sa.Column("msgid", sa.Text, nullable=False, server_default=""),
        sa.Column("fixmedins_code", sa.Text, nullable=False, server_default=""),
        sa.Column("reverses", sa.Text, sa.ForeignKey("ledger_chain.chain_id"), unique=True),
        sa.Column("transfer_count", sa.Integer, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("memo", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_ledger_chain_setl_id", "ledger_chain", ["setl_id"])

    op.create_table(
        "ledger_transfer",
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("chain_id", sa.Text, sa.ForeignKey("ledger_chain.chain_id"), nullable=False),
        sa.Column("debit_account", sa.Text, nullable=False),
        sa.Column("credit_account", sa.Text, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("fund_pay_type", sa.Text, nullable=False, server_default=""),
        sa.Column("reverses", sa.Text, unique=True),
        sa.Column("value_date", sa.Date, nullable=False),
        # the writing transaction's id: the roll-up only folds transfers of finished transactions
        sa.Column("xid", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("amount > 0", name="ck_ledger_transfer_amount_positive"),
        sa.CheckConstraint("debit_account <> credit_account", name="ck_ledger_transfer_accounts"),
    )
    # xid8 has no SQLAlchemy type: set the real type and default in SQL
    op.execute(
        "ALTER TABLE ledger_transfer ALTER COLUMN xid TYPE xid8 USING xid::xid8, "
        "ALTER COLUMN xid SET DEFAULT pg_current_xact_id()"
    )
    op.create_index("ix_ledger_transfer_debit", "ledger_transfer", ["debit_account", "value_date"])
    op.create_index(
        "ix_ledger_transfer_credit", "ledger_transfer", ["credit_account", "value_date"]
    )
    op.create_index("ix_ledger_transfer_chain", "ledger_transfer", ["chain_id"])
    op.create_index("ix_ledger_transfer_xid", "ledger_transfer", ["xid"])

    op.create_table(
        "ledger_balance_daily",
        sa.Column("account_code", sa.Text, primary_key=True),
        sa.Column("value_date", sa.Date, primary_key=True),
        sa.Column("debits", sa.BigInteger, nullable=False),
        sa.Column("credits", sa.BigInteger, nullable=False),
        sa.Column("transfers", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ledger_rollup_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("xid_watermark", sa.Text, nullable=False),
        sa.Column("rolled_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("id = 1", name="ck_ledger_rollup_state_single"),
    )
    op.execute(
        "ALTER TABLE ledger_rollup_state ALTER COLUMN xid_watermark TYPE xid8 "
        "USING xid_watermark::xid8"
    )
    op.execute("INSERT INTO ledger_rollup_state (id, xid_watermark) VALUES (1, '0'::xid8)")

    # append-only: transfers and chains are never updated or deleted (冲销而不修改)
    op.execute(
        """
        CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'ledger is append-only: % on % refused (账务只追加，不得修改或删除)',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END $$
        """
    )
    for table in ("ledger_transfer", "ledger_chain"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
        )
    op.execute(
        "CREATE TRIGGER ledger_account_no_delete BEFORE DELETE ON ledger_account "
        "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
    )

    # signed entries (分录): +amount on the debit account, -amount on the credit account
    op.execute(
        """
        CREATE VIEW ledger_entry AS
          SELECT t.id AS transfer_id, t.chain_id, t.debit_account AS account_code,
                 t.amount AS amount, t.value_date, t.xid
            FROM ledger_transfer t
          UNION ALL
          SELECT t.id, t.chain_id, t.credit_account, -t.amount, t.value_date, t.xid
            FROM ledger_transfer t
        """
    )


def downgrade() -> None:
    op.execute("DROP VIEW ledger_entry")
    for table in ("ledger_transfer", "ledger_chain"):
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
    op.execute("DROP TRIGGER ledger_account_no_delete ON ledger_account")
    op.drop_table("ledger_rollup_state")
    op.drop_table("ledger_balance_daily")
    op.drop_table("ledger_transfer")
    op.drop_table("ledger_chain")
    op.drop_table("ledger_account")
    op.execute("DROP FUNCTION ledger_refuse_change()")
