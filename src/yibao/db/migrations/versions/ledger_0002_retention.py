"""ledger: monthly archiving of transfers (账务明细归档), see docs/operations.md "Retention".

- ``ledger_refuse_change`` lets a DELETE of ``ledger_transfer`` through only inside an archiving
  transaction (``SET LOCAL yibao.retention = 'archive'``, set by :mod:`yibao.db.retention` after
  it copied and checked the month); updates, truncates and every other delete are still refused;
- ``ledger_transfer_all``: the live transfers and every archived month still in the database
  (rebuilt on each archive or drop); ``ledger_entry`` reads it, so checks see the whole history.

Revision ID: ledger_0002
"""

from alembic import op

revision = "ledger_0002"
down_revision = "ledger_0001"
branch_labels = None
depends_on = "core_0002"


def upgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'ledger_transfer'
             AND current_setting('yibao.retention', true) = 'archive' THEN
            RETURN OLD;  -- moved to archive.ledger_transfer_<yyyymm> in this same transaction
          END IF;
          RAISE EXCEPTION 'ledger is append-only: % on % refused (账务只追加，不得修改或删除)',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END $$
        """
    )
    op.execute("DROP VIEW ledger_entry")
    op.execute("CREATE VIEW ledger_transfer_all AS SELECT * FROM ledger_transfer")
    op.execute(
        """
        CREATE VIEW ledger_entry AS
          SELECT t.id AS transfer_id, t.chain_id, t.debit_account AS account_code,
                 t.amount AS amount, t.value_date, t.xid
            FROM ledger_transfer_all t
          UNION ALL
          SELECT t.id, t.chain_id, t.credit_account, -t.amount, t.value_date, t.xid
            FROM ledger_transfer_all t
        """
    )


def downgrade() -> None:
    op.execute("DROP VIEW ledger_entry")
    op.execute("DROP VIEW ledger_transfer_all")
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
    op.execute(
        """
        CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'ledger is append-only: % on % refused (账务只追加，不得修改或删除)',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END $$
        """
    )
