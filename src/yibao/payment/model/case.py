"""A case as the grouper sees it (分组病案), and the grouping status codes. Pure.

The fields come from the settlement list (医疗保障基金结算清单, 4101) and the registry: sex and
age from the person, newborn weight from ``nwb_adm_wt``/``nwb_bir_wt``, diagnoses from
``diseinfo`` with the principal (``maindiag_flag=1``) first, procedures from ``oprninfo`` with the
main one (``oprn_oprt_type=1``) first (payment-reform.md §5.6 "Mapping from 4101").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

#: Diagnosis code (医保版 ICD-10, e.g. ``J18.900``, ``J09.x00``, ``E11.200x011+N08.3*``).
DX_CODE = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Za-z]+)?(\+[A-Z][0-9]{2}(\.[0-9A-Za-z]*)?\*)?$")
#: Procedure code (医保版 ICD-9-CM-3, e.g. ``36.0601``, ``74.0x00x001``, ``96.7201``).
PROC_CODE = re.compile(r"^[0-9]{2}(\.[0-9A-Za-z]+)?$")


class Status(StrEnum):
    """Grouping status (分组状态), after the statuses of public groupers (payment-reform.md §5.6)."""

    OK = "1"  # 分组成功
    NO_MDC = "2"  # 主诊断不在所有MDC的主诊表内
    NO_GROUP = "3"  # 无法入组 (MDC found, no ADRG / DIP group matches)
    SEX_MISMATCH = "4"  # 主诊断与病人性别不相符
    NEWBORN = "5"  # 新生儿诊断或体重信息错误
    INVALID = "6"  # 信息校验不通过

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: dict[Status, str] = {
    Status.OK: "分组成功",
    Status.NO_MDC: "主诊断不在所有MDC的主诊表内",
    Status.NO_GROUP: "无法入组",
    Status.SEX_MISMATCH: "主诊断与病人性别不相符",
    Status.NEWBORN: "新生儿诊断或体重信息错误",
    Status.INVALID: "信息校验不通过",
}


@dataclass(frozen=True, slots=True)
class GroupCase:
    """What the grouper needs about one inpatient stay (分组入参)."""

    principal_dx: str
    other_dx: tuple[str, ...] = ()
    main_proc: str = ""
    other_procs: tuple[str, ...] = ()
    sex: str = ""  # 1 男 / 2 女 (gend)
    age_years: int | None = None
    age_days: int | None = None  # 天龄 (under one year)
    weight_g: int | None = None  # newborn weight in grams (新生儿入院/出生体重)
    stay_days: int = 0
    dscg_way: str = ""  # 离院方式

    @property
    def procedures(self) -> tuple[str, ...]:
        """The main procedure first, then the others (no blanks)."""
        return tuple(p for p in (self.main_proc, *self.other_procs) if p)

    @property
    def diagnoses(self) -> tuple[str, ...]:
        return (self.principal_dx, *self.other_dx)

    @property
    def newborn(self) -> bool:
        """出生年龄 < 29 天 (CHS-DRG MDCP entry, payment-reform.md §5.1)."""
        if self.age_days is not None:
            return self.age_days < 29 and (self.age_years or 0) == 0
        return False


def age_on(brdy: date, on: date) -> tuple[int, int | None]:
    """Age in whole years, and in days when under one year (年龄 / 天龄)."""
    years = on.year - brdy.year - ((on.month, on.day) < (brdy.month, brdy.day))
    years = max(years, 0)
    return years, ((on - brdy).days if years == 0 else None)
