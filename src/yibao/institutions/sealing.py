"""Secrets at rest (密钥加密存储): sealed with the platform secret (:mod:`yibao.platform_secret`).

The gateway must know each institution's SK to check HMAC signatures, so SKs cannot be hashed;
they are encrypted (Fernet: AES-128-CBC + HMAC-SHA256, key = SHA-256 of the platform secret) and
stored as ``fernet:<token>``. Values written before sealing was introduced (no prefix) stay
readable; an empty key leaves a value as given (only used by unit tests of this module).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "fernet:"


class SealError(ValueError):
    """A sealed secret that cannot be opened with the configured key (密钥无法解密)."""


def _fernet(key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode("utf-8")).digest()))


def seal(secret: str, key: str) -> str:
    """The stored form of ``secret``."""
    if not key:
        return secret
    return PREFIX + _fernet(key).encrypt(secret.encode("utf-8")).decode("ascii")


def unseal(stored: str, key: str) -> str:
    """The secret from its stored form; :class:`SealError` if the key does not open it."""
    if not stored.startswith(PREFIX):
        return stored
    if not key:
        raise SealError("密钥已加密存储，但未配置 YIBAO_SECRET_KEY")
    try:
        return _fernet(key).decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise SealError("YIBAO_SECRET_KEY 无法解密已存储的密钥") from exc
