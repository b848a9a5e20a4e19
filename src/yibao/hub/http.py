"""Signed HTTP between hub nodes (HMAC-SHA256 headers, see :func:`yibao.hub.model.signature`)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from yibao.hub.model import HEADER_NODE, HEADER_SIG, HEADER_TIME, canonical, signature


def signed_post(
    base: str, path: str, payload: dict[str, Any], *, secret: str, node: str, timeout: float
) -> httpx.Response:
    """POST ``payload`` to ``base + path`` with the hub signature headers."""
    body = canonical(payload)
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        HEADER_NODE: node,
        HEADER_TIME: ts,
        HEADER_SIG: signature(secret, "POST", path, ts, body),
    }
    return httpx.post(base + path, content=body, headers=headers, timeout=timeout)


def signed_get(base: str, path: str, *, secret: str, node: str, timeout: float) -> httpx.Response:
    """GET ``base + path`` with the hub signature headers (over an empty body)."""
    ts = str(int(time.time()))
    headers = {
        HEADER_NODE: node,
        HEADER_TIME: ts,
        HEADER_SIG: signature(secret, "GET", path, ts, b""),
    }
    return httpx.get(base + path, headers=headers, timeout=timeout)
