"""registry: 单建统筹 flag on an enrolment (employee insurance without a personal account).

Some regions pay its members differently from 统账结合 members of the same group (珠海 pays
单建统筹 retirees like active employees, policy-rules.md §2.4); the engine's person groups use it.
Existing enrolments are 统账结合 (false), so nothing else changes.

Revision ID: registry_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "registry_0002"
down_revision = "registry_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "enrolment",
        sa.Column("pool_only", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("enrolment", "pool_only")
