"""Reading a transaction's ``input`` nodes with clear errors (交易输入校验).

Every reader names the full path (``input.data.medfee_sumamt``) and the rule it checks in an
:class:`InputError`. Amounts are strict: a 2-decimal string or number only, returned in fen.
"类型为数值的参数，如果为空，必须传“0”" (§1.3) — an empty optional amount reads as 0.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from yibao import codes
from yibao.money import MoneyError, yuan_to_fen
from yibao.wire.envelope import EnvelopeError


class InputError(EnvelopeError):
    """A business input that breaks a rule; nothing is written and nothing is logged."""


def node(payload: dict[str, Any], name: str, *, required: bool = True) -> dict[str, Any]:
    """A single-row node (``data``, ``signIn`` …) as an object (a 1-element list is tolerated)."""
    value = payload.get(name)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if value is None or value == "":
        if required:
            raise InputError(f"input.{name}", "节点必填")
        return {}
    if not isinstance(value, dict):
        raise InputError(f"input.{name}", "单行数据节点须为JSON对象")
    return value


def rows(payload: dict[str, Any], name: str, *, required: bool = True) -> list[dict[str, Any]]:
    """A multi-row node (``feedetail`` …) as a list of objects (a single object is tolerated)."""
    value = payload.get(name)
    if isinstance(value, dict):
        value = [value]
    if value is None or value == "" or value == []:
        if required:
            raise InputError(f"input.{name}", "多行数据节点必填，至少一行")
        return []
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise InputError(f"input.{name}", "多行数据节点须为JSON对象数组")
    return value


def text(
    data: dict[str, Any],
    name: str,
    where: str,
    *,
    required: bool = False,
    max_len: int | None = None,
    label: str = "",
) -> str:
    """A string field; ``null``/``""`` are empty; integers tolerated (``"insutype": 310``)."""
    path = f"{where}.{name}"
    value = data.get(name)
    if value is None:
        out = ""
    elif isinstance(value, bool):
        raise InputError(path, "须为字符串，收到布尔值")
    elif isinstance(value, str):
        out = value.strip()
    elif isinstance(value, int):
        out = str(value)
    else:
        raise InputError(path, f"须为字符串，收到{type(value).__name__}")
    if required and not out:
        raise InputError(path, f"{label or name}必填")
    if max_len is not None and len(out) > max_len:
        raise InputError(path, f"{label or name}最长{max_len}个字符，收到{len(out)}个")
    return out


def padded_code(table: str, value: str) -> str | None:
    """``value`` zero-padded to the width of the codes of ``table`` when that makes it a code
    of the table ("1" → "01" for 人员证件类型), else None. Only all-digit values are padded."""
    if not value.isdigit():
        return None
    widths = sorted({len(c) for c in codes.table(table)["codes"] if c.isdigit()})
    for width in widths:
        if width > len(value) and codes.is_valid(table, value.zfill(width)):
            return value.zfill(width)
    return None


def code(
    data: dict[str, Any],
    name: str,
    where: str,
    table: str,
    *,
    required: bool = False,
    pad: bool | None = None,
    unused: bool = False,
) -> str:
    """A coded field checked against code table ``table`` (字典), when that table is shipped.

    Tolerant where clients differ, strict where it matters: an *optional* field (or one read
    with ``pad=True``) that is a code once zero-padded is taken padded ("1" → "01"); a field the
    transaction does not use (``unused=True``) that is no code at all reads as "" instead of
    refusing the message. A required code is taken as sent.
    """
    value = text(data, name, where, required=required)
    if value:
        try:
            known = codes.is_valid(table, value)
        except codes.UnknownCodeTable:
            return value
        if not known:
            fixed = padded_code(table, value) if (not required if pad is None else pad) else None
            if fixed is not None:
                return fixed
            if unused and not required:
                return ""
            tbl = codes.table(table)
            raise InputError(f"{where}.{name}", f"{value!r}不是{tbl['name']}({table})字典中的值")
    return value


def amount(data: dict[str, Any], name: str, where: str, *, required: bool = False) -> int:
    """A money field (16,2) in fen: a string or number with at most 2 decimals, nothing else."""
    path = f"{where}.{name}"
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise InputError(path, "金额必填")
        return 0
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise InputError(path, f"金额须为数字或数字字符串，收到{type(value).__name__}")
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise InputError(path, f"金额须为最多2位小数的数字，收到 {str(value)[:40]}") from exc
    if not d.is_finite() or d.adjusted() >= 16:
        raise InputError(path, f"金额须为不超过16位整数的有限数字，收到 {str(value)[:40]}")
    try:
        return yuan_to_fen(d, path)
    except (MoneyError, InvalidOperation) as exc:
        raise InputError(path, f"金额须为最多2位小数的数字，收到 {str(value)[:40]}") from exc


def number(
    data: dict[str, Any],
    name: str,
    where: str,
    *,
    places: int,
    required: bool = False,
    minimum: Decimal | None = None,
) -> Decimal:
    """A decimal field with at most ``places`` decimals (cnt 16,4; pric 16,6; ratios 5,4)."""
    path = f"{where}.{name}"
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise InputError(path, "必填")
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise InputError(path, f"须为数字，收到{type(value).__name__}")
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise InputError(path, f"须为数字，收到 {value!s}") from exc
    if not d.is_finite() or d.adjusted() >= 16:
        raise InputError(path, f"须为不超过16位整数的有限数字，收到 {str(value)[:40]}")
    if d != d.quantize(Decimal(1).scaleb(-places)):
        raise InputError(path, f"最多{places}位小数，收到 {value!s}")
    if minimum is not None and d < minimum:
        raise InputError(path, f"不能小于{minimum}，收到 {value!s}")
    return d


def day(data: dict[str, Any], name: str, where: str, *, required: bool = False) -> date | None:
    """A date field ``yyyy-MM-dd`` (日期型)."""
    value = text(data, name, where, required=required)
    if not value:
        return None
    try:
        return (
            date.fromisoformat(value[:10]) if len(value) in (10, 19) else date.fromisoformat(value)
        )
    except ValueError as exc:
        raise InputError(f"{where}.{name}", f"日期格式须为 yyyy-MM-dd，收到 {value!r}") from exc


def moment(
    data: dict[str, Any], name: str, where: str, *, required: bool = False
) -> datetime | None:
    """A date-time field ``yyyy-MM-dd HH:mm:ss`` (日期时间型)."""
    value = text(data, name, where, required=required)
    if not value:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise InputError(f"{where}.{name}", f"日期时间格式须为 yyyy-MM-dd HH:mm:ss，收到 {value!r}")
