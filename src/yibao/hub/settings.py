"""Relay configuration from the environment (跨省中转配置).

``YIBAO_HUB_SECRET``   shared HMAC key of the hub network (every hop is signed; unset: off)
``YIBAO_HUB_NODE``     this node's name in signatures and records (default ``yibao``)
``YIBAO_PROVINCE``     this deployment's province, two digits (``44`` 广东, ``42`` 湖北)
``YIBAO_HUB_URL``      treatment side: the hub's base URL
``YIBAO_HUB_PEERS``    hub role: ``42=http://hubei:8000,44=http://guangdong:8000``
``YIBAO_HUB_TIMEOUT``  seconds per hop (default 10)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _peers(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in raw.split(","):
        if not part.strip():
            continue
        prov, _, url = part.partition("=")
        if len(prov.strip()) != 2 or not url.strip():
            raise ValueError(f"YIBAO_HUB_PEERS: {part!r} must be <2-digit province>=<url>")
        out[prov.strip()] = url.strip().rstrip("/")
    return out


@dataclass(frozen=True, slots=True)
class HubSettings:
    secret: str = field(default_factory=lambda: os.environ.get("YIBAO_HUB_SECRET", ""))
    node: str = field(default_factory=lambda: os.environ.get("YIBAO_HUB_NODE", "yibao"))
    province: str = field(default_factory=lambda: os.environ.get("YIBAO_PROVINCE", ""))
    hub_url: str = field(default_factory=lambda: os.environ.get("YIBAO_HUB_URL", "").rstrip("/"))
    peers: dict[str, str] = field(
        default_factory=lambda: _peers(os.environ.get("YIBAO_HUB_PEERS", ""))
    )
    timeout: float = field(default_factory=lambda: float(os.environ.get("YIBAO_HUB_TIMEOUT", "10")))
