"""JSON in and out of the gateway (报文编解码), exact for money, in C (msgspec).

Requests are parsed with ``Decimal`` for every non-integer number (msgspec's ``float_hook``
receives the number's text), so ``12.30`` stays ``12.30`` and a third decimal can be refused
instead of silently rounded. Responses are serialised compactly in UTF-8 in the order the keys
were built, with ``Decimal`` written as a JSON number exactly as given (``fen_to_yuan`` gives 2
decimals), so amounts leave as 2-decimal numbers. :func:`canonical` (keys sorted at every level)
is what a request's hash is computed over.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

_DECODER = msgspec.json.Decoder(float_hook=Decimal)
_ENCODER = msgspec.json.Encoder(decimal_format="number")
_CANONICAL = msgspec.json.Encoder(decimal_format="number", order="sorted")


class JsonError(ValueError):
    """The body is not a JSON document we accept (报文不是合法的JSON)."""


def _reason(exc: msgspec.DecodeError) -> str:
    text = str(exc)
    if "UTF-8" in text:
        return "报文须为UTF-8编码"
    if "truncated" in text:
        return "报文不是合法的JSON: 报文不完整"
    if "(byte " in text:
        return f"报文不是合法的JSON: 第{text.rsplit('(byte ', 1)[1].rstrip(')')}字节处有非法字符"
    return "报文不是合法的JSON"


def loads(data: bytes | str) -> Any:
    """Parse JSON (UTF-8, an optional BOM tolerated); non-integer numbers become ``Decimal``."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        value = _DECODER.decode(data)
    except RecursionError as exc:
        raise JsonError("报文嵌套层数过多") from exc
    except msgspec.DecodeError as exc:
        raise JsonError(_reason(exc)) from exc
    return value


def dumps_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON bytes; non-ASCII kept as is, ``Decimal`` as a number."""
    return _ENCODER.encode(value)


def dumps(value: Any) -> str:
    """Compact JSON text (see :func:`dumps_bytes`)."""
    return _ENCODER.encode(value).decode("utf-8")


def canonical_bytes(value: Any) -> bytes:
    """Canonical JSON for hashing: keys sorted at every level, compact, numbers as written."""
    return _CANONICAL.encode(value)


def canonical(value: Any) -> str:
    """:func:`canonical_bytes` as text."""
    return _CANONICAL.encode(value).decode("utf-8")
