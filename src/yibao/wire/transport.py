"""Gateway authentication of the two transports (服务网关鉴权), reference §1.5. Pure functions.

- **CSB** (Hunan/Jiangxi/Jiangsu): headers ``_api_name``, ``_api_version``, ``_api_timestamp``,
  ``_api_access_key``, ``_api_signature``; signature = Base64(HmacSHA1(SK, "k1=v1&k2=v2…")) over the
  four headers ``_api_access_key``, ``_api_name``, ``_api_timestamp``, ``_api_version`` sorted by
  name, UTF-8. Timestamp in epoch milliseconds (13 digits; seconds tolerated, as the Jiangsu
  client sends). Window: 30 minutes by default ("时间戳超时，默认为30分钟").
- **TIF** (Guangdong): ``x-tif-paasid``, ``x-tif-timestamp`` (epoch seconds), ``x-tif-nonce``,
  ``x-tif-signature`` = lowercase hex SHA-256 of ``timestamp + secret + nonce + timestamp``.

Errors are :class:`GatewayAuthError` whose message is one of the gateway's own (表6): "缺少服务网关的
请求头!", "签名时间戳超时!", "非法用户!", "签名不一致!" (+ "重复的请求!" for a replayed nonce).

**Replay.** Neither transport's signature covers the body, so a captured header set must not
authenticate anything else: every header set is used once (:func:`one_time_value`, recorded by
the gateway for twice the timestamp window). A retry re-signs (the same msgid with fresh headers
gets the logged answer). TIF has its nonce; for CSB the signature itself is the one-time value,
and a client may add an ``_api_nonce`` header (our extension, signed with the others like every
``_api_*`` parameter) so that two messages signed in the same millisecond differ.
:mod:`yibao.client` always sends it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

CSB = "csb"
TIF = "tif"

MISSING_HEADERS = "缺少服务网关的请求头!"
STALE_TIMESTAMP = "签名时间戳超时!"
ILLEGAL_USER = "非法用户!"
BAD_SIGNATURE = "签名不一致!"
REPLAYED_NONCE = "重复的请求!"  # a nonce already used inside the window

CSB_HEADERS = ("_api_access_key", "_api_name", "_api_timestamp", "_api_version")
CSB_NONCE = "_api_nonce"
_NONCE = re.compile(r"^[0-9A-Za-z_\-]{8,64}$")


class GatewayAuthError(Exception):
    """Gateway-level refusal, answered as ``{"code":401,"message":…}`` (not an envelope)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class AuthHeaders:
    """The credential headers of one request, whichever transport carried them."""

    scheme: str  # CSB or TIF
    app_key: str  # _api_access_key or x-tif-paasid
    timestamp_ms: int
    signature: str
    nonce: str = ""  # TIF; CSB's optional _api_nonce
    api_name: str = ""  # CSB only
    api_version: str = ""  # CSB only
    raw_timestamp: str = ""


def csb_string_to_sign(
    access_key: str, name: str, timestamp: str, version: str, nonce: str = ""
) -> str:
    """``_api_access_key=…&_api_name=…&_api_timestamp=…&_api_version=…`` (keys in natural
    order; ``_api_nonce=…`` among them when the client sends one)."""
    values = dict(zip(CSB_HEADERS, (access_key, name, timestamp, version), strict=True))
    if nonce:
        values[CSB_NONCE] = nonce
    return "&".join(f"{k}={values[k]}" for k in sorted(values))


def csb_signature(
    secret: str, access_key: str, name: str, timestamp: str, version: str, nonce: str = ""
) -> str:
    """Base64(HmacSHA1(secret, string-to-sign)) over UTF-8."""
    mac = hmac.new(
        secret.encode("utf-8"),
        csb_string_to_sign(access_key, name, timestamp, version, nonce).encode("utf-8"),
        hashlib.sha1,
    )
    return base64.b64encode(mac.digest()).decode("ascii")


def tif_signature(secret: str, timestamp: str, nonce: str) -> str:
    """Lowercase hex SHA-256 of ``timestamp + secret + nonce + timestamp``."""
    return hashlib.sha256(f"{timestamp}{secret}{nonce}{timestamp}".encode()).hexdigest()


def _timestamp_ms(raw: str, *, seconds_only: bool) -> int:
    if not raw.isdigit() or len(raw) > 16:
        raise GatewayAuthError(STALE_TIMESTAMP)
    value = int(raw)
    if seconds_only or len(raw) <= 11:  # 10-digit epoch seconds (Jiangsu CSB client, TIF)
        return value * 1000
    return value


def read_headers(headers: Mapping[str, str]) -> AuthHeaders:
    """Pick the transport from the headers present; refuse when neither set is complete."""
    h = {k.lower(): v.strip() for k, v in headers.items()}
    if "x-tif-paasid" in h or "x-tif-signature" in h:
        need = ("x-tif-paasid", "x-tif-timestamp", "x-tif-nonce", "x-tif-signature")
        if not all(h.get(k) for k in need):
            raise GatewayAuthError(MISSING_HEADERS)
        return AuthHeaders(
            scheme=TIF,
            app_key=h["x-tif-paasid"],
            timestamp_ms=_timestamp_ms(h["x-tif-timestamp"], seconds_only=True),
            signature=h["x-tif-signature"],
            nonce=h["x-tif-nonce"],
            raw_timestamp=h["x-tif-timestamp"],
        )
    csb_need = (*CSB_HEADERS, "_api_signature")
    if not all(h.get(k) for k in csb_need):
        raise GatewayAuthError(MISSING_HEADERS)
    return AuthHeaders(
        scheme=CSB,
        app_key=h["_api_access_key"],
        timestamp_ms=_timestamp_ms(h["_api_timestamp"], seconds_only=False),
        signature=h["_api_signature"],
        nonce=h.get(CSB_NONCE, ""),
        api_name=h["_api_name"],
        api_version=h["_api_version"],
        raw_timestamp=h["_api_timestamp"],
    )


def verify(auth: AuthHeaders, secret: str, now_ms: int, window_ms: int) -> None:
    """Check the timestamp window and the signature; raise :class:`GatewayAuthError`."""
    if abs(now_ms - auth.timestamp_ms) > window_ms:
        raise GatewayAuthError(STALE_TIMESTAMP)
    if auth.scheme == TIF:
        if not _NONCE.match(auth.nonce):
            raise GatewayAuthError(BAD_SIGNATURE)
        expected = tif_signature(secret, auth.raw_timestamp, auth.nonce)
        ok = hmac.compare_digest(expected, auth.signature.lower())
    else:
        if auth.nonce and not _NONCE.match(auth.nonce):
            raise GatewayAuthError(BAD_SIGNATURE)
        expected = csb_signature(
            secret, auth.app_key, auth.api_name, auth.raw_timestamp, auth.api_version, auth.nonce
        )
        ok = hmac.compare_digest(expected.encode(), auth.signature.encode())
    if not ok:
        raise GatewayAuthError(BAD_SIGNATURE)


def one_time_value(auth: AuthHeaders) -> str:
    """What makes a header set unique, recorded once per message (see the module docstring)."""
    if auth.scheme == TIF:
        return "tif:" + auth.nonce
    return "csb:" + auth.signature


def sign_csb(
    access_key: str,
    secret: str,
    name: str,
    timestamp_ms: int,
    version: str = "1.0.0",
    nonce: str = "",
) -> dict[str, str]:
    """The CSB headers a client sends (used by :mod:`yibao.client`); with ``nonce`` also the
    ``_api_nonce`` extension."""
    ts = str(timestamp_ms)
    headers = {
        "_api_name": name,
        "_api_version": version,
        "_api_timestamp": ts,
        "_api_access_key": access_key,
        "_api_signature": csb_signature(secret, access_key, name, ts, version, nonce),
    }
    if nonce:
        headers[CSB_NONCE] = nonce
    return headers


def sign_tif(paasid: str, secret: str, timestamp_s: int, nonce: str) -> dict[str, str]:
    """The ``x-tif-*`` headers a client sends."""
    ts = str(timestamp_s)
    return {
        "x-tif-paasid": paasid,
        "x-tif-timestamp": ts,
        "x-tif-nonce": nonce,
        "x-tif-signature": tif_signature(secret, ts, nonce),
    }
