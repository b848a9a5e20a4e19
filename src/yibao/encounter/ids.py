"""Identifier formats (编号规则) for ``mdtrt_id`` and ``setl_id``. Pure.

Both are at most 30 characters (字符 30, nhsa-interface.md §2.3/§2.6) and unique across the
province: ``{admdvs(6)}{K}{yyyymmdd}{seq:012d}`` = 27 characters, where ``admdvs`` is the treatment
region (就医地), ``K`` is ``M`` outpatient (门诊), ``Z`` inpatient (住院), ``Y`` pharmacy (药店) for
``mdtrt_id`` and ``S`` for every ``setl_id``, the date is the business day (China time) and
``seq`` comes from a PostgreSQL sequence (never reused, gaps allowed).
"""

from __future__ import annotations

from datetime import date

from yibao.encounter.model import Kind

KIND_LETTER = {Kind.OUTPATIENT: "M", Kind.INPATIENT: "Z", Kind.PHARMACY: "Y"}
SETTLEMENT_LETTER = "S"


def format_id(admdvs: str, letter: str, day: date, seq: int) -> str:
    """``440100M20261122000000000042``."""
    if not (len(admdvs) == 6 and admdvs.isdigit()):
        raise ValueError(f"admdvs: {admdvs!r} is not a 6-digit code")
    if not 0 < seq < 10**12:
        raise ValueError(f"sequence value {seq} out of range")
    return f"{admdvs}{letter}{day:%Y%m%d}{seq:012d}"
