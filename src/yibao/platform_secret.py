"""The platform secret (平台密钥) that seals secrets stored in the database.

``YIBAO_SECRET_KEY`` if set; otherwise the file ``YIBAO_SECRET_KEY_FILE`` names (keep it outside
the data folder, so a copy of the data folder alone does not decrypt anything), else
``<data_dir>/secret.key``; a missing file gets a random secret generated once (mode 0600) and is
read from there afterwards. Every capability that keeps
a secret it must read back (gateway credentials, channel secrets, code-signing keys) seals it with
this one key (:mod:`yibao.institutions.sealing`). Losing the file makes those secrets unreadable:
back it up with the database (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from functools import lru_cache
from pathlib import Path

from yibao.config import get_settings

KEY_FILE = "secret.key"


@lru_cache(maxsize=4)
def _key_from(env_value: str, data_dir: str, key_file: str = "") -> str:
    if env_value:
        return env_value
    path = Path(key_file) if key_file else Path(data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
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
    """The platform secret: ``YIBAO_SECRET_KEY``, else the file ``YIBAO_SECRET_KEY_FILE``, else
    ``<data_dir>/secret.key`` (created once)."""
    settings = get_settings()
    return _key_from(settings.secret_key, str(settings.data_dir), settings.secret_key_file)
