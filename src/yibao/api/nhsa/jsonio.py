"""JSON in and out of the gateway (报文编解码), exact for money.

Requests are parsed with ``Decimal`` for every non-integer number, so ``12.30`` stays ``12.30``
and a third decimal can be refused instead of silently rounded. Responses are serialised
compactly in UTF-8 with ``Decimal`` written as a JSON number exactly as given (``fen_to_yuan``
gives 2 decimals), so amounts leave as 2-decimal numbers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


class JsonError(ValueError):
    """The body is not a JSON document we accept (报文不是合法的JSON)."""


def _no_constants(name: str) -> Any:
    raise JsonError(f"报文含非法数值 {name}")


def loads(data: bytes | str) -> Any:
    """Parse JSON (UTF-8, an optional BOM tolerated); floats become ``Decimal``."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonError(f"报文须为UTF-8编码 (第{exc.start}字节无效)") from exc
    data = data.lstrip("\ufeff")
    try:
        return json.loads(data, parse_float=Decimal, parse_constant=_no_constants)
    except RecursionError as exc:
        raise JsonError("报文嵌套层数过多") from exc
    except json.JSONDecodeError as exc:
        raise JsonError(f"报文不是合法的JSON: {exc.msg} (第{exc.lineno}行第{exc.colno}列)") from exc
    except ValueError as exc:  # e.g. an integer with more than 4300 digits
        raise JsonError(f"报文含无法处理的数值: {str(exc)[:80]}") from exc


_str = json.encoder.encode_basestring


def _encode(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_str(value))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value}")
        out.append(format(value, "f"))
    elif isinstance(value, float):
        raise TypeError("floats are not allowed in gateway output; use Decimal")
    elif isinstance(value, Mapping):
        out.append("{")
        first = True
        for k, v in value.items():
            if not first:
                out.append(",")
            first = False
            out.append(_str(str(k)))
            out.append(":")
            _encode(v, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _encode(v, out)
        out.append("]")
    else:
        raise TypeError(f"cannot serialise {type(value).__name__} in gateway output")


def dumps(value: Any) -> str:
    """Compact JSON text; non-ASCII kept as is (UTF-8 on the wire)."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out)


def canonical(value: Any) -> str:
    """Canonical JSON for hashing: keys sorted at every level, compact, numbers as written."""
    if isinstance(value, Mapping):
        return (
            "{"
            + ",".join(_str(str(k)) + ":" + canonical(value[k]) for k in sorted(value, key=str))
            + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    return dumps(value)
