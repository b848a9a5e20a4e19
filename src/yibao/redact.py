"""Redaction (脱敏) of log events: by field name and by pattern. Pure: no I/O.

Logs never hold a secret, a password, a full 身份证号, a full mobile number or a full name
(docs/operations.md "Security"). Two nets, both applied to every event before it is rendered:

- **by field name**: a value whose key names a secret (``secret``, ``app_secret``, ``password``,
  ``token``, ``ecToken``, ``signature``, ``cookie``…) is replaced by ``[已脱敏]``; a value whose key
  names a person's identifier or contact (``certno``, ``mdtrt_cert_no``, ``idNo``, ``tel``,
  ``phone``, ``mob``…) or name (``psn_name``, ``name``, ``userName``…) is masked, keeping a few
  characters for support staff (``44**************1X``, ``138****5678``, ``张*``);
- **by pattern**, anywhere in any string (the event text, an exception message, a traceback, a
  URL in an access log): 18-character 身份证号 (17 digits and a digit or ``X``), mainland mobile
  numbers (``1[3-9]`` + 9 digits), ecTokens (``<admdvs>ec<32 hex>``), sealed secrets
  (``fernet:…``), ``key=value`` / ``"key": "value"`` pairs whose key is sensitive (as above), and
  the values PostgreSQL quotes in a constraint violation (``Key (certno)=(…)``).

Names cannot be recognised by pattern in free text; they are kept out of messages by the code
(field names, no local variables in tracebacks, ``hide_parameters`` on the engine).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[已脱敏]"

#: keys whose value is a secret: never shown, not even in part
_SECRET_WORDS = (
    "secret",
    "password",
    "passwd",
    "pwd",
    "token",
    "signature",
    "cookie",
    "authorization",
)
_SECRET_KEYS = frozenset({"sk", "app_secret", "secret_key", "x-tif-signature", "_api_signature"})
#: keys whose value identifies a person: masked (first and last characters kept)
_ID_KEYS = frozenset(
    {
        "certno",
        "cert_no",
        "mdtrt_cert_no",
        "idno",
        "id_no",
        "card_sn",
        "card_no",
        "ssc_no",
        "ssn",
        "tel",
        "phone",
        "mob",
        "mobile",
        "coner_tel",
        "emp_tel",
    }
)
_ID_WORDS = ("certno", "cert_no", "phone", "mobile")
#: keys whose value is a person's name: first character kept
_NAME_WORDS = ("name",)
#: structural keys of a log event: never touched by the key rules
_KEEP = frozenset({"event", "level", "timestamp", "logger", "logger_name", "exception", "filename"})

_ID18 = re.compile(r"(?<!\d)(\d{6})\d{10}(\d[\dXx])(?![\dXx])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_EC_TOKEN = re.compile(r"\b\d{6}ec[0-9a-f]{32}\b")
_FERNET = re.compile(r"fernet:[A-Za-z0-9_\-=]+")
_PG_KEY = re.compile(r"(Key \([^)]*\)=\()(.*?)(\)(?: already exists| is not present|\s|$))")
_SENSITIVE_NAME = (
    r"[A-Za-z_\-]*(?:secret|password|passwd|pwd|token|signature|cookie|certno|cert_no|idno|"
    r"id_no|psn_name|username|user_name|opter_name|coner_name|card_sn|ssc_no|tel|phone|mob|"
    r"mobile)[A-Za-z_\-]*"
)
# key=value, key: value, 'key': 'value', "key":"value", key='value' (a repr) …
_PAIR = re.compile(
    r"(?P<key>['\"]?\b" + _SENSITIVE_NAME + r"\b['\"]?\s*[:=]\s*)"
    r"(?P<value>'[^']*'|\"[^\"]*\"|[^\s,;&)}\]]+)",
    re.IGNORECASE,
)


def _kind(key: str) -> str:
    """``secret``, ``id``, ``name`` or ``""`` for a field name (case and ``-`` insensitive)."""
    k = key.lower().replace("-", "_")
    if k in _KEEP:
        return ""
    if k in _SECRET_KEYS or any(w in k for w in _SECRET_WORDS):
        return "secret"
    if k in _ID_KEYS or any(w in k for w in _ID_WORDS):
        return "id"
    if any(w in k for w in _NAME_WORDS):
        return "name"
    return ""


def mask_id(value: str) -> str:
    """An identifier or phone with only its first and last characters kept."""
    n = len(value)
    if n == 11:  # a mobile number: 138****5678
        return value[:3] + "****" + value[-4:]
    if n > 11:
        return value[:2] + "*" * (n - 4) + value[-2:]
    if n > 4:
        return value[:1] + "*" * (n - 2) + value[-1:]
    return "*" * n


def mask_name(value: str) -> str:
    """A name with its first character kept: ``张三丰`` → ``张**``."""
    return value[:1] + "*" * max(len(value) - 1, 1) if value else value


def _pair(match: re.Match[str]) -> str:
    key, value = match.group("key"), match.group("value")
    quote = value[0] if value[:1] in ("'", '"') else ""
    inner = value[1:-1] if quote else value
    name = re.sub(r"[^A-Za-z_\-]", "", key)
    kind = _kind(name) or "secret"
    shown = REDACTED if kind == "secret" else mask_name(inner) if kind == "name" else mask_id(inner)
    return f"{key}{quote}{shown}{quote}"


def redact_text(text: str) -> str:
    """Every pattern applied to a free text (message, exception, traceback, URL)."""
    if not text:
        return text
    text = _PAIR.sub(_pair, text)
    text = _PG_KEY.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)
    text = _FERNET.sub("fernet:" + REDACTED, text)
    text = _EC_TOKEN.sub("[ecToken " + REDACTED + "]", text)
    text = _ID18.sub(lambda m: m.group(1)[:2] + "*" * 14 + m.group(2), text)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def redact_value(value: Any, kind: str = "") -> Any:
    """A value redacted for its key's ``kind``; containers are walked, strings pattern-checked."""
    if kind and value not in (None, ""):
        if kind == "secret":
            return REDACTED
        if isinstance(value, str):
            return mask_name(value) if kind == "name" else mask_id(value)
        if isinstance(value, int):
            return mask_id(str(value))
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v, _kind(str(k))) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return redact_text(bytes(value).decode("utf-8", "replace"))
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(str(value))


def redact_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """A log event (structlog's event dict) with every field redacted by name and pattern."""
    return {str(k): redact_value(v, _kind(str(k))) for k, v in event.items()}
