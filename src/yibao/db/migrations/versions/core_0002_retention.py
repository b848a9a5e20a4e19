"""core: retention (数据保留) — the ``archive`` schema and its catalogue.

Append-only history that outgrows its hot table (ledger transfers, the gateway message log) is
moved month by month into ``archive.<table>_<yyyymm>`` by :mod:`yibao.db.retention`;
``retention_archive`` records each move (rows, checksum, who, when) and, once the archive table
has been dumped and dropped, when it left the database.

Revision ID: core_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0002"
down_revision = "core_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS archive")
    op.create_table(
        "retention_archive",
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("period", sa.CHAR(6), primary_key=True),
        sa.Column("table_name", sa.Text, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("checksum", sa.Text, nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_by", sa.Text, nullable=False),
        sa.Column("dropped_at", sa.DateTime(timezone=True)),
        sa.Column("dropped_by", sa.Text),
        sa.Column("dump_note", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("retention_archive")
    op.execute("DROP SCHEMA IF EXISTS archive CASCADE")
