"""E-voucher secrets at rest (密钥加密存储): channel secrets and code-signing keys.

Both must be readable by Yibao (it recomputes channel HMACs and code signatures), so they are
encrypted, not hashed: Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from the platform
secret, through :mod:`yibao.institutions.sealing` (the gateway's credentials use the same format,
``fernet:<token>``).

The platform secret is ``YIBAO_SECRET_KEY``; without it, a random one is generated on first use
into ``<data_dir>/secret.key`` (mode 0600) and read from there afterwards. Losing that file makes
every channel secret and signing key unreadable: back it up with the database.
Values stored before encryption (no ``fernet:`` prefix) stay readable; the migration
``voucher_0002`` seals them.
"""

from __future__ import annotations

import base64

from yibao.institutions.sealing import PREFIX, seal, unseal
from yibao.platform_secret import KEY_FILE, secret_key

__all__ = ["KEY_FILE", "open_bytes", "open_text", "seal_bytes", "seal_text", "secret_key"]


def seal_text(value: str) -> str:
    """The stored form of a text secret (a channel secret)."""
    return seal(value, secret_key())


def open_text(stored: str) -> str:
    """A text secret from its stored form (plain legacy values pass through)."""
    return unseal(stored, secret_key())


def seal_bytes(value: bytes) -> bytes:
    """The stored form of a binary secret (a code-signing key)."""
    return seal(base64.b64encode(value).decode("ascii"), secret_key()).encode("ascii")


def open_bytes(stored: bytes) -> bytes:
    """A binary secret from its stored form (raw legacy bytes pass through)."""
    if not stored.startswith(PREFIX.encode("ascii")):
        return stored
    return base64.b64decode(unseal(stored.decode("ascii"), secret_key()))


def is_sealed(stored: str | bytes) -> bool:
    prefix = PREFIX if isinstance(stored, str) else PREFIX.encode("ascii")
    return stored.startswith(prefix)  # type: ignore[arg-type]
