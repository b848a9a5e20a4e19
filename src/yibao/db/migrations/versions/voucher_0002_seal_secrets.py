"""voucher: encrypt channel secrets and code-signing keys at rest (密钥加密存储).

Rows stored in plain text before this revision are sealed with the platform secret
(``YIBAO_SECRET_KEY`` or ``<data_dir>/secret.key``, see :mod:`yibao.voucher.secrets_at_rest`).
Downgrade opens them again.

Revision ID: voucher_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "voucher_0002"
down_revision = "voucher_0001"
branch_labels = None
depends_on = None

channel = sa.table("ec_channel", sa.column("chnl_id", sa.Text), sa.column("secret", sa.Text))
signing_key = sa.table(
    "ec_signing_key", sa.column("kid", sa.Text), sa.column("secret", sa.LargeBinary)
)


def upgrade() -> None:
    from yibao.voucher import secrets_at_rest as box

    conn = op.get_bind()
    for chnl_id, secret in conn.execute(sa.select(channel.c.chnl_id, channel.c.secret)).all():
        if not box.is_sealed(secret):
            conn.execute(
                channel.update()
                .where(channel.c.chnl_id == chnl_id)
                .values(secret=box.seal_text(secret))
            )
    for kid, secret in conn.execute(sa.select(signing_key.c.kid, signing_key.c.secret)).all():
        if not box.is_sealed(bytes(secret)):
            conn.execute(
                signing_key.update()
                .where(signing_key.c.kid == kid)
                .values(secret=box.seal_bytes(bytes(secret)))
            )


def downgrade() -> None:
    from yibao.voucher import secrets_at_rest as box

    conn = op.get_bind()
    for chnl_id, secret in conn.execute(sa.select(channel.c.chnl_id, channel.c.secret)).all():
        conn.execute(
            channel.update()
            .where(channel.c.chnl_id == chnl_id)
            .values(secret=box.open_text(secret))
        )
    for kid, secret in conn.execute(sa.select(signing_key.c.kid, signing_key.c.secret)).all():
        conn.execute(
            signing_key.update()
            .where(signing_key.c.kid == kid)
            .values(secret=box.open_bytes(bytes(secret)))
        )
