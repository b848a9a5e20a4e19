"""Money (金额) as integer fen (分), and the one rounding rule.

Every amount inside Yibao is an ``int`` number of fen. Amounts enter and leave the system as
2-decimal yuan strings/numbers in the national interface's field names; ratios are exact decimals
with at most 4 places (the interface's ``(5,4)`` type, e.g. ``pool_prop_selfpay``).

Rounding rule (the only one): **round half up (四舍五入) to the fen, on the absolute value**, applied
exactly once at each place a product is formed:

- ``ratio × amount``  (fund shares, first-pay shares, assistance): :func:`apply_ratio`;
- ``pric × cnt``      (an item line's amount): :func:`line_amount`.

Sums and differences of fen are exact and never rounded. Negative amounts (mirror records of a
cancellation) round symmetrically, so a mirror is always the exact negation of the original.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NewType

Fen = NewType("Fen", int)

_RATIO_SCALE = 10_000  # ratios carry 4 decimal places
_CENT = Decimal("0.01")


class MoneyError(ValueError):
    """An amount or ratio that cannot be taken as money (金额格式错误)."""


def _as_decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool):
        raise MoneyError(f"{what}: a boolean is not an amount")
    if isinstance(value, float):
        value = repr(value)
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"{what}: {value!r} is not a number") from exc
    if not d.is_finite():
        raise MoneyError(f"{what}: {value!r} is not a finite number")
    return d


def yuan_to_fen(value: object, what: str = "amount") -> int:
    """Parse a yuan amount (元) with at most 2 decimals into fen; more decimals are refused."""
    d = _as_decimal(value, what)
    if d != d.quantize(_CENT):
        raise MoneyError(f"{what}: {value!r} has more than 2 decimal places")
    return int(d * 100)


def fen_to_yuan(fen: int) -> Decimal:
    """Fen as a 2-decimal yuan ``Decimal`` (for output in national field names)."""
    return (Decimal(fen) / 100).quantize(_CENT)


def fen_str(fen: int) -> str:
    """Fen as a 2-decimal yuan string, e.g. ``123456 -> '1234.56'``."""
    sign = "-" if fen < 0 else ""
    a = abs(fen)
    return f"{sign}{a // 100}.{a % 100:02d}"


def parse_ratio(value: object, what: str = "ratio") -> Decimal:
    """Parse a ratio (比例) in [0, 1] with at most 4 decimal places."""
    d = _as_decimal(value, what)
    if d < 0 or d > 1:
        raise MoneyError(f"{what}: {value!r} is outside 0..1")
    if d != d.quantize(Decimal("0.0001")):
        raise MoneyError(f"{what}: {value!r} has more than 4 decimal places")
    return d


def _round_div(numerator: int, denominator: int) -> int:
    """Integer division rounding half up on the absolute value (symmetric for negatives)."""
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return q if numerator >= 0 else -q


def ratio_units(ratio: Decimal) -> int:
    """A 4-decimal ratio as an integer count of 1/10000."""
    units = ratio * _RATIO_SCALE
    if units != units.to_integral_value():
        raise MoneyError(f"ratio {ratio} has more than 4 decimal places")
    return int(units)


def apply_ratio(fen: int, ratio: Decimal) -> int:
    """``fen × ratio`` rounded half up to the fen (the rounding rule)."""
    return _round_div(fen * ratio_units(ratio), _RATIO_SCALE)


def apply_ratio_units(fen: int, units: int) -> int:
    """``fen × units/10000`` rounded half up; the fast path when the ratio is pre-scaled."""
    return _round_div(fen * units, _RATIO_SCALE)


def line_amount(pric: object, cnt: object) -> int:
    """An item line's amount ``pric × cnt`` in fen, rounded half up (单价 × 数量)."""
    p = _as_decimal(pric, "pric")
    c = _as_decimal(cnt, "cnt")
    if p < 0:
        raise MoneyError("pric: a price cannot be negative")
    return int((p * c * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
