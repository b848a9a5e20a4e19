"""Settings read from the environment (环境配置)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _default_data_dir() -> Path:
    return Path(os.environ.get("YIBAO_DATA_DIR", Path.cwd() / "var")).resolve()


@dataclass(frozen=True)
class Settings:
    """Runtime settings. ``database_url`` empty means: start the embedded PostgreSQL."""

    database_url: str = field(default_factory=lambda: os.environ.get("YIBAO_DATABASE_URL", ""))
    data_dir: Path = field(default_factory=_default_data_dir)
    host: str = field(default_factory=lambda: os.environ.get("YIBAO_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(os.environ.get("YIBAO_PORT", "8000")))
    secret_key: str = field(default_factory=lambda: os.environ.get("YIBAO_SECRET_KEY", ""))
    #: the platform secret's file when it must live outside the data folder (a copy of the data
    #: folder alone then does not decrypt the stored keys); empty: ``<data_dir>/secret.key``
    secret_key_file: str = field(
        default_factory=lambda: os.environ.get("YIBAO_SECRET_KEY_FILE", "")
    )

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"


DEMO_PROVINCE = "44"  # 广东: the demo's province, the console's when YIBAO_PROVINCE is unset


def deployment_province() -> str:
    """This deployment's province (两位省份代码), the one source for the console's 全省.

    ``YIBAO_PROVINCE`` (also read by the cross-province relay, ``yibao.hub.settings``); unset, the
    console shows the demo's province, Guangdong, and nothing is relayed (docs/adr/0019).
    """
    value = os.environ.get("YIBAO_PROVINCE", "").strip() or DEMO_PROVINCE
    if len(value) != 2 or not value.isdigit():
        raise ValueError(f"YIBAO_PROVINCE 必须是 2 位省份代码（如 44 广东、42 湖北）: {value!r}")
    return value


def get_settings() -> Settings:
    return Settings()
