"""The online centres' transport envelope (移动支付/电子处方 报文): SM4 encryption + SM3withSM2 signature.

nhsa-interface.md §4.5 and funds-and-services.md §6.7 (partly corroborated; what is assumed is
marked in docs/api/mobile-payment.md). A request::

    {"appId": "...", "encType": "SM4", "signType": "SM2", "version": "2.0.1",
     "timestamp": "20260115093000", "encData": "<HEX>", "signData": "<Base64>"}

- ``signData`` = Base64 of the SM3withSM2 signature ``r‖s`` (64 bytes) over the *signing
  string*: every key of the plain request (``data`` included, ``signData``/``encData``/``extra``
  excluded, empty values dropped) sorted ascending, ``k=v`` joined by ``&``, ``data`` rendered as
  compact JSON with sorted keys, then ``&key=<appSecret>``. SM2 user id ``1234567812345678``
  (GB/T 32918 default); a verifier also accepts the appSecret as user id ([ITAII] variant).
- ``encData`` = uppercase hex of SM4-ECB/PKCS#7 of the compact JSON ``data``; the SM4 key is the
  first 16 characters of the uppercase hex of SM4(key = appId[0:16], appSecret).
- ``version`` "2.0.1" or "1.0.0"; ``timestamp`` ``yyyyMMddHHmmss`` (China time) or epoch
  milliseconds; ``encType``/``signType`` in either case.

Cryptography comes from maintained packages: SM4 from ``cryptography`` (OpenSSL), SM2/SM3 from
``gmalg``. Nothing here does I/O or reads a clock: the caller passes ``now``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import gmalg
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from yibao.clock import CHINA

DEFAULT_UID = b"1234567812345678"
VERSIONS = ("2.0.1", "1.0.0")
SKEW = timedelta(minutes=5)  # replay window for the timestamp
_SM2_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
_NOT_SIGNED = frozenset({"signData", "encData", "extra"})


class EnvelopeError(ValueError):
    """The envelope cannot be opened: ``field`` and a Chinese ``rule`` (nothing was done)."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


# ---- primitives (maintained libraries) ---------------------------------------------------------


def sm3(data: bytes) -> bytes:
    h = gmalg.SM3()
    h.update(data)
    return bytes(h.value())


def _sm4(key: bytes, data: bytes, *, decrypt: bool) -> bytes:
    cipher = Cipher(algorithms.SM4(key), modes.ECB())
    if decrypt:
        d = cipher.decryptor()
        padded = d.update(data) + d.finalize()
        u = padding.PKCS7(128).unpadder()
        return u.update(padded) + u.finalize()
    p = padding.PKCS7(128).padder()
    e = cipher.encryptor()
    return e.update(p.update(data) + p.finalize()) + e.finalize()


def sm4_key(app_id: str, app_secret: str) -> bytes:
    """The SM4 data key: uppercase hex of SM4(appId[0:16], appSecret), first 16 characters."""
    if len(app_id) < 16:
        raise EnvelopeError("appId", "长度须不少于16个字符")
    raw = _sm4(app_id[:16].encode(), app_secret.encode(), decrypt=False)
    return raw.hex().upper()[:16].encode()


def keypair_from_seed(seed: bytes) -> tuple[bytes, bytes]:
    """A deterministic SM2 key pair (private 32 bytes, public 65 bytes ``04‖x‖y``) from a seed
    (demo institutions' public keys; the platform's key from the platform secret)."""
    d = int.from_bytes(sm3(seed), "big") % (_SM2_N - 2) + 1
    sk = d.to_bytes(32, "big")
    return sk, bytes(gmalg.SM2().generate_pk(sk))


def sm2_sign(sk: bytes, message: bytes, uid: bytes = DEFAULT_UID) -> str:
    """Base64 of the SM3withSM2 signature ``r‖s``."""
    r, s = gmalg.SM2(sk=sk, uid=uid).sign(message)
    # r and s are integers below n: gmalg drops leading zero bytes; the wire form is 32 + 32
    return base64.b64encode(bytes(r).rjust(32, b"\0") + bytes(s).rjust(32, b"\0")).decode()


def sm2_verify(pk: bytes, message: bytes, signature: str, uids: tuple[bytes, ...]) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError:
        return False
    if len(raw) != 64:
        return False
    return any(gmalg.SM2(pk=pk, uid=uid).verify(message, raw[:32], raw[32:]) for uid in uids)


# ---- the envelope -------------------------------------------------------------------------------


def compact(data: Any) -> str:
    """Compact JSON with sorted keys (what is encrypted and what is signed). A :class:`Decimal`
    is written as the number it spells (``12.30`` stays ``12.30``), so that a receiver that
    parses numbers as decimals (:func:`loads`) rebuilds the same signing string."""
    if isinstance(data, dict):
        items = sorted((str(k), v) for k, v in data.items())
        return (
            "{"
            + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{compact(v)}" for k, v in items)
            + "}"
        )
    if isinstance(data, list | tuple):
        return "[" + ",".join(compact(v) for v in data) + "]"
    if isinstance(data, Decimal):
        return str(data)
    if isinstance(data, float):
        raise TypeError("money and ratios travel as Decimal, never float")
    return json.dumps(data, ensure_ascii=False)


def loads(raw: bytes | str) -> Any:
    """JSON with numbers as :class:`Decimal` (exact; see :func:`compact`)."""
    return json.loads(raw, parse_float=Decimal)


def sign_text(envelope: Mapping[str, Any], app_secret: str) -> str:
    """The signing string of a plain envelope (see the module docstring)."""
    parts = []
    for key in sorted(envelope):
        value = envelope[key]
        if key in _NOT_SIGNED or value is None or value == "" or value == {}:
            continue
        text = compact(value) if isinstance(value, dict | list) else str(value)
        parts.append(f"{key}={text}")
    parts.append(f"key={app_secret}")
    return "&".join(parts)


@dataclass(frozen=True, slots=True)
class Keys:
    """One side's view of an app: the shared appId/appSecret, its own signing key and the
    other side's public key."""

    app_id: str
    app_secret: str
    own_sk: bytes
    peer_pk: bytes


def seal(keys: Keys, data: Mapping[str, Any], now: datetime, **head: Any) -> dict[str, Any]:
    """A signed, encrypted envelope carrying ``data`` (``head``: ``code``/``message`` of an
    answer, or other plain keys)."""
    plain: dict[str, Any] = {
        "appId": keys.app_id,
        "encType": "SM4",
        "signType": "SM2",
        "version": VERSIONS[0],
        "timestamp": now.astimezone(CHINA).strftime("%Y%m%d%H%M%S"),
        **head,
        "data": dict(data),
    }
    signature = sm2_sign(keys.own_sk, sign_text(plain, keys.app_secret).encode())
    enc = _sm4(
        sm4_key(keys.app_id, keys.app_secret), compact(plain["data"]).encode(), decrypt=False
    )
    out = {k: v for k, v in plain.items() if k != "data"}
    out["encData"] = enc.hex().upper()
    out["signData"] = signature
    return out


def parse_time(value: Any) -> datetime:
    text = str(value or "")
    if text.isdigit() and len(text) == 13:
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=CHINA)
    except ValueError:
        raise EnvelopeError("timestamp", "格式须为 yyyyMMddHHmmss 或13位毫秒时间戳") from None


def open_envelope(
    keys: Keys, envelope: Mapping[str, Any], now: datetime, *, check_time: bool = True
) -> dict[str, Any]:
    """The ``data`` of a signed, encrypted envelope; :class:`EnvelopeError` when any check fails."""
    if str(envelope.get("encType", "")).upper() != "SM4":
        raise EnvelopeError("encType", "须为 SM4")
    if str(envelope.get("signType", "")).upper() != "SM2":
        raise EnvelopeError("signType", "须为 SM2")
    if str(envelope.get("version", "")) not in VERSIONS:
        raise EnvelopeError("version", f"须为 {' 或 '.join(VERSIONS)}")
    if check_time and abs(parse_time(envelope.get("timestamp")) - now) > SKEW:
        raise EnvelopeError("timestamp", "与平台时间相差超过5分钟（防重放）")
    enc = str(envelope.get("encData") or "")
    try:
        raw = _sm4(sm4_key(keys.app_id, keys.app_secret), bytes.fromhex(enc), decrypt=True)
        data = loads(raw)
    except (ValueError, TypeError):
        raise EnvelopeError("encData", "无法用本应用的密钥解密（SM4）") from None
    if not isinstance(data, dict):
        raise EnvelopeError("encData", "解密后须为 JSON 对象")
    plain = {k: v for k, v in envelope.items() if k not in ("encData", "signData")}
    plain["data"] = data
    text = sign_text(plain, keys.app_secret).encode()
    uids = (DEFAULT_UID, keys.app_secret.encode())
    if not sm2_verify(keys.peer_pk, text, str(envelope.get("signData") or ""), uids):
        raise EnvelopeError("signData", "SM2 签名验证失败")
    return data
