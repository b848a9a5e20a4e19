"""Gateway settings from the environment (网关配置)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _origins() -> tuple[str, ...]:
    raw = os.environ.get("YIBAO_NHSA_CORS_ORIGINS", "")
    return tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class GatewaySettings:
    """``YIBAO_NHSA_*`` settings.

    - ``YIBAO_NHSA_TIMESTAMP_WINDOW`` seconds a signed timestamp may differ from now (default 1800,
      the CSB gateway's "默认为30分钟"); nonces are kept twice as long.
    - ``YIBAO_NHSA_CORS_ORIGINS`` comma-separated browser origins allowed to call the gateway.
    - ``YIBAO_NHSA_REQUIRE_SIGN_IN`` (default on): every transaction but 9001 needs a valid sign_no.
    - ``YIBAO_NHSA_MAX_BODY`` bytes (default 8 MiB).
    - ``YIBAO_NHSA_POOL`` database connections of the lean gateway per worker (default 16).
    - ``YIBAO_NHSA_MESSAGE_WINDOW_DAYS`` (default 60): an envelope whose ``inf_time`` is older is
      refused, so a msgid can only arrive while its message-log row is live (retention).
    """

    timestamp_window_s: int = field(
        default_factory=lambda: int(os.environ.get("YIBAO_NHSA_TIMESTAMP_WINDOW", "1800"))
    )
    cors_origins: tuple[str, ...] = field(default_factory=_origins)
    require_sign_in: bool = field(default_factory=lambda: _flag("YIBAO_NHSA_REQUIRE_SIGN_IN", True))
    max_body: int = field(
        default_factory=lambda: int(os.environ.get("YIBAO_NHSA_MAX_BODY", str(8 * 1024 * 1024)))
    )
    credential_cache_s: float = 10.0
    pool_size: int = field(default_factory=lambda: int(os.environ.get("YIBAO_NHSA_POOL", "16")))
    pool_timeout_s: float = 5.0
    message_window_days: int = field(
        default_factory=lambda: int(os.environ.get("YIBAO_NHSA_MESSAGE_WINDOW_DAYS", "60"))
    )

    @property
    def nonce_ttl_s(self) -> int:
        return 2 * self.timestamp_window_s
