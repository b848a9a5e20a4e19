"""统一社会信用代码 (unified social credit code, GB 32100-2015): check and compose. Pure.

18 characters from ``0-9`` and ``ABCDEFGHJKLMNPQRTUWXY`` (no I, O, Z, S, V): registration authority
(1), organisation type (1), region code (6 digits), organisation code (9) and a check character
computed with the weights 3^(i-1) mod 31.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


class UsccError(ValueError):
    """Not a valid 统一社会信用代码; the message says why (Chinese)."""


def check_char(first17: str) -> str:
    """The 18th (check) character for the first 17."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate(code: str) -> str:
    """The normalised code (upper case) or :class:`UsccError`."""
    c = code.strip().upper()
    if len(c) != 18:
        raise UsccError(f"统一社会信用代码应为18位，实际{len(c)}位")
    bad = sorted({ch for ch in c if ch not in _VALUE})
    if bad:
        raise UsccError(f"统一社会信用代码含非法字符{''.join(bad)}(不得使用I、O、Z、S、V)")
    if not c[2:8].isdigit():
        raise UsccError("统一社会信用代码第3–8位应为登记管理机关行政区划码(数字)")
    if check_char(c[:17]) != c[17]:
        raise UsccError("统一社会信用代码校验位错误")
    return c


def compose(authority_type: str, region: str, org_code: str) -> str:
    """A valid code from its parts (authority+type 2 chars, region 6 digits, organisation 9)."""
    first17 = f"{authority_type}{region}{org_code}".upper()
    if len(first17) != 17 or any(ch not in _VALUE for ch in first17):
        raise UsccError("组成统一社会信用代码的前17位不合法")
    return first17 + check_char(first17)
