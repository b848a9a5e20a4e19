"""Certificates (人员证件): validation of certificate numbers and masking (脱敏). Pure.

Rules (sources: GB 11643-1999 for the 18-digit 公民身份号码 and its check digit; the
``psn_cert_type`` code table in nhsa-interface.md §3.13; public formats of the permits):

- ``01`` 居民身份证: 17 digits + check digit (0-9 or X), a valid birth date at positions 7-14.
- ``17`` 港澳台居民居住证: same 18-digit structure, region prefix 810000/820000/830000.
- ``04``/``05`` 港澳居民来往内地通行证: ``H``/``M`` followed by 8 or 10 digits.
- ``06`` 台湾居民来往大陆通行证: 8 digits (since 2015) or 10 digits (older, optional letter).
- ``07`` 外国人永久居留证: 3 letters + 12 digits (2004 card) or 18 chars starting ``9`` (2017 card).
- ``08`` 外国人护照 / ``16`` 中国护照: 5-20 letters and digits (``16``: ``E``/``G`` + 8).
- other listed types: 4-50 letters, digits, ``-`` or ``()``.
"""

from __future__ import annotations

import re
from datetime import date

ID_CARD = "01"
HK_PERMIT = "04"
MO_PERMIT = "05"
TW_PERMIT = "06"
FOREIGN_PR = "07"
FOREIGN_PASSPORT = "08"
CN_PASSPORT = "16"
HMT_RESIDENCE = "17"

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

_RE_ID18 = re.compile(r"^\d{17}[\dX]$")
_RE_HKMO = {
    HK_PERMIT: re.compile(r"^H(\d{8}|\d{10})$"),
    MO_PERMIT: re.compile(r"^M(\d{8}|\d{10})$"),
}
_RE_TW = re.compile(r"^(\d{8}|\d{10}[A-Z]?)$")
_RE_PR = re.compile(r"^([A-Z]{3}\d{12}|9\d{16}[\dX])$")
_RE_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")
_RE_CN_PASSPORT = re.compile(r"^[EG][A-Z0-9]\d{7}$")
_RE_OTHER = re.compile(r"^[A-Z0-9()\-]{4,50}$")


class CertError(ValueError):
    """An invalid certificate number; the message is Chinese and names the rule."""


def check_digit(first17: str) -> str:
    """The GB 11643-1999 check digit (校验码) of the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def id18_birth_date(certno: str) -> date:
    """Birth date encoded in an 18-digit number (positions 7-14)."""
    s = certno[6:14]
    return date(int(s[:4]), int(s[4:6]), int(s[6:8]))


def id18_gender(certno: str) -> str:
    """``gend`` from the 17th digit: odd → ``1`` 男, even → ``2`` 女."""
    return "1" if int(certno[16]) % 2 else "2"


def _check_id18(certno: str) -> None:
    if not _RE_ID18.match(certno):
        raise CertError("身份证号码应为18位：17位数字加1位校验码(0-9或X)")
    try:
        born = id18_birth_date(certno)
    except ValueError:
        raise CertError("身份证号码中的出生日期无效") from None
    if born.year < 1880:
        raise CertError("身份证号码中的出生日期无效")
    expected = check_digit(certno[:17])
    if certno[17] != expected:
        raise CertError(f"身份证号码校验位错误(应为{expected})")


def normalize(cert_type: str, certno: str) -> str:
    """Canonical form: trimmed, upper case (``x`` → ``X``), no inner spaces."""
    del cert_type
    return re.sub(r"\s+", "", certno).upper()


def validate(cert_type: str, certno: str) -> str:
    """Validate and return the normalized number; raise :class:`CertError` with the reason."""
    n = normalize(cert_type, certno)
    if not n:
        raise CertError("证件号码不能为空")
    if cert_type == ID_CARD:
        _check_id18(n)
    elif cert_type == HMT_RESIDENCE:
        _check_id18(n)
        if n[:6] not in ("810000", "820000", "830000"):
            raise CertError("港澳台居民居住证号码应以810000、820000或830000开头")
    elif cert_type in _RE_HKMO:
        if not _RE_HKMO[cert_type].match(n):
            letter = "H" if cert_type == HK_PERMIT else "M"
            raise CertError(f"港澳居民来往内地通行证号码应为{letter}加8位或10位数字")
    elif cert_type == TW_PERMIT:
        if not _RE_TW.match(n):
            raise CertError("台湾居民来往大陆通行证号码应为8位或10位数字")
    elif cert_type == FOREIGN_PR:
        if not _RE_PR.match(n):
            raise CertError("外国人永久居留证号码应为3位字母加12位数字，或以9开头的18位")
        if len(n) == 18:
            _check_id18(n)
    elif cert_type == CN_PASSPORT:
        if not _RE_CN_PASSPORT.match(n):
            raise CertError("中国护照号码应为E或G开头的9位")
    elif cert_type == FOREIGN_PASSPORT:
        if not _RE_PASSPORT.match(n):
            raise CertError("护照号码应为5至20位字母或数字")
    elif not _RE_OTHER.match(n):
        raise CertError("证件号码应为4至50位字母、数字、括号或连字符")
    return n


def mask(certno: str) -> str:
    """Masked number (脱敏): first 6 + last 4 kept, the rest ``*``.

    Numbers of 10 characters or fewer (permits, passports) keep the first 2 and last 2.
    """
    n = len(certno)
    if n > 10:
        return certno[:6] + "*" * (n - 10) + certno[-4:]
    if n > 4:
        return certno[:2] + "*" * (n - 4) + certno[-2:]
    return "*" * n


def compose_id18(region: str, born: date, seq: int) -> str:
    """An 18-digit number from region (6), birth date and sequence (3 digits, parity = gender).

    For demo data and tests: the result passes :func:`validate`.
    """
    first17 = f"{region}{born:%Y%m%d}{seq % 1000:03d}"
    return first17 + check_digit(first17)
