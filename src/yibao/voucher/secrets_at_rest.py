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
import contextlib
import os
import secrets
from functools import lru_cache
from pathlib import Path

from yibao.config import get_settings
from yibao.institutions.sealing import PREFIX, seal, unseal

KEY_FILE = "secret.key"


@lru_cache(maxsize=4)
def _key_from(env_value: str, data_dir: str) -> str:
    if env_value:
        return env_value
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32) + "\n")
        with contextlib.suppress(FileExistsError):  # another process won the race: use theirs
            os.link(tmp, path)
        tmp.unlink()
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise RuntimeError(f"{path} 为空：请恢复平台密钥文件或设置 YIBAO_SECRET_KEY")
    return key


def secret_key() -> str:
    """The platform secret: ``YIBAO_SECRET_KEY``, else ``<data_dir>/secret.key`` (created once)."""
    settings = get_settings()
    return _key_from(settings.secret_key, str(settings.data_dir))


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
