"""Rotation of the platform secret (平台密钥轮换): re-seal every stored secret under a new key.

The platform secret (:mod:`yibao.platform_secret`) seals the institutions' gateway SKs
(``institution_credential.app_secret``), the channel secrets (``ec_channel.secret``) and the
code-signing keys (``ec_signing_key.secret``). To rotate it: put the new secret in place
(``YIBAO_SECRET_KEY`` or the file ``YIBAO_SECRET_KEY_FILE`` names), keep the old one in a file,
and run ``yibao db reseal --old-key-file <old>``: every sealed value is opened with the old key and
sealed with the new one in one transaction (all or nothing), then the old file can be destroyed.
Plain legacy values are sealed on the way. Docs: docs/operations.md "Security".
"""

from __future__ import annotations

import base64

import sqlalchemy as sa

from yibao.institutions.sealing import PREFIX, SealError, seal, unseal

#: (table, key column, secret column, binary): every column sealed with the platform secret
SEALED = (
    ("institution_credential", "app_key", "app_secret", False),
    ("ec_channel", "chnl_id", "secret", False),
    ("ec_signing_key", "kid", "secret", True),
)


def _reseal_text(stored: str, old: str, new: str) -> str:
    return seal(unseal(stored, old), new)


def _reseal_bytes(stored: bytes, old: str, new: str) -> bytes:
    if not stored.startswith(PREFIX.encode("ascii")):  # a raw legacy key
        return seal(base64.b64encode(stored).decode("ascii"), new).encode("ascii")
    return _reseal_text(stored.decode("ascii"), old, new).encode("ascii")


def reseal_all(conn: sa.Connection, *, old_key: str, new_key: str) -> dict[str, int]:
    """Re-seal every stored secret from ``old_key`` to ``new_key``; rows per table. Raises
    :class:`~yibao.institutions.sealing.SealError` (nothing changed) if ``old_key`` does not
    open one of them."""
    if not old_key or not new_key or old_key == new_key:
        raise SealError("轮换须提供新旧两个不同的平台密钥")
    counts: dict[str, int] = {}
    for table, key_col, col, binary in SEALED:
        rows = conn.execute(sa.text(f"SELECT {key_col}, {col} FROM {table} FOR UPDATE")).all()
        for key, stored in rows:
            value = (
                _reseal_bytes(bytes(stored), old_key, new_key)
                if binary
                else _reseal_text(str(stored), old_key, new_key)
            )
            conn.execute(
                sa.text(f"UPDATE {table} SET {col} = :v WHERE {key_col} = :k"),
                {"v": value, "k": key},
            )
        counts[table] = len(rows)
    return counts
