"""core: ``yibao_refuse(text)`` — stop a transaction from inside a pipelined statement.

The settlement flows send their writes with the commit in one round trip (ADR 0010), so a check
that must stop the transaction is a statement that raises: ``SELECT yibao_refuse('…') WHERE
<the problem>``. It raises ``P0001`` (raise_exception) with the message given; the caller rolls
back and answers with that message. No business rule lives here.

Revision ID: core_0003
"""

from alembic import op

revision = "core_0003"
down_revision = "core_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE FUNCTION yibao_refuse(message text) RETURNS boolean LANGUAGE plpgsql AS $$"
        " BEGIN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = message; END $$"
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION yibao_refuse(text)")
