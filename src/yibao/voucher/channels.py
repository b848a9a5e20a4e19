"""Channels (渠道): registration and per-call authentication (HMAC, time window, nonce)."""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from yibao.db.tables import audit
from yibao.voucher import model as m
from yibao.voucher.base import (
    CHANNEL_KINDS,
    VoucherBase,
)
from yibao.voucher.model import EcError
from yibao.voucher.secrets_at_rest import open_text, seal_text
from yibao.voucher.store import (
    ec_channel,
    ec_channel_nonce,
)


class ChannelOps(VoucherBase):
    """Channel registration and authentication (渠道管理)."""

    def register_channel(
        self,
        chnl_id: str,
        name: str,
        kind: str,
        secret: str | None = None,
        *,
        actor: str = "system",
    ) -> str:
        """Register a channel app (渠道); return its secret. Idempotent on ``chnl_id``."""
        if kind not in CHANNEL_KINDS:
            raise EcError("EC_FIELD_INVALID", f"kind应为{'/'.join(CHANNEL_KINDS)}")
        if not chnl_id or len(chnl_id) > 40 or not chnl_id.replace("_", "").isalnum():
            raise EcError("EC_FIELD_INVALID", "chnl_id应为1至40位字母、数字或下划线")
        with self.engine.begin() as conn:
            conn.execute(
                insert(ec_channel)
                .values(
                    chnl_id=chnl_id,
                    name=name,
                    kind=kind,
                    secret=seal_text(secret or secrets.token_hex(24)),
                )
                .on_conflict_do_nothing()
            )
            audit(conn, actor, "voucher.channel.register", chnl_id, name=name, kind=kind)
            return open_text(
                conn.execute(
                    sa.select(ec_channel.c.secret).where(ec_channel.c.chnl_id == chnl_id)
                ).scalar_one()
            )

    def channels(self) -> list[dict[str, object]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    ec_channel.c.chnl_id, ec_channel.c.name, ec_channel.c.kind, ec_channel.c.active
                ).order_by(ec_channel.c.chnl_id)
            ).mappings()
            return [dict(r) for r in rows]

    def authenticate_channel(
        self,
        chnl_id: str,
        method: str,
        path: str,
        timestamp: str,
        nonce: str,
        body: bytes,
        signature: str,
    ) -> None:
        """Check a channel call's HMAC signature, time window and nonce (replay protection)."""
        now = self.clock()
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(ec_channel.c.secret, ec_channel.c.active).where(
                    ec_channel.c.chnl_id == chnl_id
                )
            ).first()
            if row is None or not row.active:
                raise EcError("EC_AUTH_UNKNOWN_CHANNEL")
            m.check_channel_signature(
                open_text(row.secret),
                method,
                path,
                timestamp,
                nonce,
                body,
                signature,
                int(now.timestamp()),
                self.settings.signature_window,
            )
            window = timedelta(seconds=2 * self.settings.signature_window)
            conn.execute(ec_channel_nonce.delete().where(ec_channel_nonce.c.at < now - window))
            fresh = conn.execute(
                insert(ec_channel_nonce)
                .values(chnl_id=chnl_id, nonce=nonce, at=now)
                .on_conflict_do_nothing()
                .returning(ec_channel_nonce.c.nonce)
            ).first()
            if not fresh:
                raise EcError("EC_AUTH_REPLAY")
