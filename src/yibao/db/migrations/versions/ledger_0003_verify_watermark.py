"""ledger: incremental verification (增量核对) from a stored watermark (ADR 0018).

- ``ledger_chain.xid``: the writing transaction of a chain head (its transfers already have one),
  so a check can find the chains written since the last verified point, even one whose transfers
  are missing;
- ``ledger_rollup_state.verified_xid``: every chain and transfer written by a transaction below it
  has passed :func:`yibao.ledger.verify`; ``yibao ledger verify`` checks only what lies above it
  and moves it up when all is well (``--full`` checks everything);
- ``ledger_balance_daily.verified_debits`` / ``verified_credits`` and
  ``ledger_rollup_state.verified_rollup_xid``: the roll-up rows as last verified and the roll-up
  watermark then, so the next check compares only what was folded since (row − verified = the
  transfers folded in between), not whole days.

Revision ID: ledger_0003
"""

from alembic import op

revision = "ledger_0003"
down_revision = "ledger_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE ledger_chain ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id()")
    op.execute("CREATE INDEX ix_ledger_chain_xid ON ledger_chain (xid)")
    op.execute(
        "ALTER TABLE ledger_rollup_state"
        " ADD COLUMN verified_xid xid8 NOT NULL DEFAULT '0'::xid8,"
        " ADD COLUMN verified_rollup_xid xid8 NOT NULL DEFAULT '0'::xid8,"
        " ADD COLUMN verified_at timestamptz"
    )
    op.execute(
        "ALTER TABLE ledger_balance_daily"
        " ADD COLUMN verified_debits bigint NOT NULL DEFAULT 0,"
        " ADD COLUMN verified_credits bigint NOT NULL DEFAULT 0"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE ledger_balance_daily DROP COLUMN verified_debits,"
        " DROP COLUMN verified_credits"
    )
    op.execute(
        "ALTER TABLE ledger_rollup_state DROP COLUMN verified_xid,"
        " DROP COLUMN verified_rollup_xid, DROP COLUMN verified_at"
    )
    op.execute("DROP INDEX ix_ledger_chain_xid")
    op.execute("ALTER TABLE ledger_chain DROP COLUMN xid")
