"""Institutions and operators as pure data (定点医药机构、经办人、签到). No I/O, no clock.

Facts come from ``reference/nhsa-interface.md``: ``fixmedins_code`` is 12 characters (§1.1 #15,
observed ``H``/``P`` + admdvs(6) + 5 digits); ``fixmedins_type`` 1 定点医疗机构 / 2 定点零售药店
(§3.13); ``fix_onln_open_flag`` 0 暂停联网 / 1 正常联网 / 2 取消定点 (§3.13); ``hosp_lv`` (§3.12);
``sign_no`` is admdvs(6) + yyyyMMddHHmmss(14) + 10 digits (§1.2 samples); sign-in rules §2.1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

FIXMEDINS_TYPE_HOSPITAL = "1"  # 定点医疗机构
FIXMEDINS_TYPE_PHARMACY = "2"  # 定点零售药店
FIXMEDINS_TYPES = {FIXMEDINS_TYPE_HOSPITAL: "定点医疗机构", FIXMEDINS_TYPE_PHARMACY: "定点零售药店"}

ONLINE_PAUSED = "0"  # 暂停联网
ONLINE_NORMAL = "1"  # 正常联网
ONLINE_CANCELLED = "2"  # 取消定点
ONLINE_FLAGS = {ONLINE_PAUSED: "暂停联网", ONLINE_NORMAL: "正常联网", ONLINE_CANCELLED: "取消定点"}

OPTER_TYPES = {"1": "经办人", "2": "自助终端", "3": "移动终端"}

_CODE_RE = re.compile(r"^[A-Z][0-9]{11}$")
_ADMDVS_RE = re.compile(r"^[0-9]{6}$")

# hosp_lv 医院等级 (§3.12) → 起付线医院等级 dedc_hosp_lv (1 一级及以下 / 2 二级 / 3 三级 / 9 未定级)
_HOSP_LV_GRADE = {
    "1": "3", "2": "3", "3": "3", "4": "3", "12": "3",
    "5": "2", "6": "2", "7": "2", "13": "2",
    "8": "1", "9": "1", "10": "1", "14": "1",
    "11": "9",
}  # fmt: skip


class InstitutionError(ValueError):
    """An institution or operator record that breaks a rule (机构信息错误)."""


@dataclass(frozen=True, slots=True)
class Institution:
    """A designated hospital or pharmacy (定点医药机构)."""

    fixmedins_code: str
    fixmedins_name: str
    fixmedins_type: str  # 1 医疗机构 / 2 零售药店
    admdvs: str  # 所在医保区划 (the institution's 统筹区, = mdtrtarea_admvs)
    hosp_lv: str = ""  # 医院等级 (§3.12); "" for pharmacies
    uscc: str = ""  # 统一社会信用代码
    fix_onln_open_flag: str = ONLINE_NORMAL  # 定点联网开通标志
    addr: str = ""

    @property
    def is_pharmacy(self) -> bool:
        return self.fixmedins_type == FIXMEDINS_TYPE_PHARMACY

    @property
    def dedc_hosp_lv(self) -> str:
        """起付线医院等级 derived from ``hosp_lv``: 1 一级及以下, 2 二级, 3 三级, 9 未定级."""
        return _HOSP_LV_GRADE.get(self.hosp_lv, "9")

    def refusal(self) -> str | None:
        """Why this institution may not transact now (联网状态), or ``None``."""
        if self.fix_onln_open_flag == ONLINE_NORMAL:
            return None
        status = ONLINE_FLAGS.get(self.fix_onln_open_flag, self.fix_onln_open_flag)
        return f"定点医药机构{self.fixmedins_code}联网状态为{status}，不能办理医保业务"


@dataclass(frozen=True, slots=True)
class Operator:
    """An operator or terminal of an institution (经办人 / 自助终端 / 移动终端)."""

    fixmedins_code: str
    opter_no: str
    opter_name: str
    opter_type: str = "1"
    active: bool = True


@dataclass(frozen=True, slots=True)
class Credential:
    """Gateway credentials (AK/SK, TIF paasid/secret) of one institution."""

    app_key: str
    fixmedins_code: str
    app_secret: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class SignIn:
    """One sign-in (签到) of an operator on a business day."""

    sign_no: str
    fixmedins_code: str
    opter_no: str
    sign_date: date
    sign_time: datetime
    signed_out_at: datetime | None = None

    def problem(self, fixmedins_code: str, today: date) -> str | None:
        """Why this sign-in cannot authorise a transaction of ``fixmedins_code`` today."""
        if self.fixmedins_code != fixmedins_code:
            return f"sign_no {self.sign_no} 不属于定点医药机构{fixmedins_code}"
        if self.signed_out_at is not None:
            return f"sign_no {self.sign_no} 已签退失效，请重新签到【9001】"
        if self.sign_date != today:
            return f"sign_no {self.sign_no} 为{self.sign_date.isoformat()}的签到，已过期，请重新签到【9001】"
        return None


def validate_institution(inst: Institution) -> list[str]:
    """Every rule the record breaks, as ``field: rule`` messages (empty = valid)."""
    errors: list[str] = []
    if not _CODE_RE.match(inst.fixmedins_code):
        errors.append("fixmedins_code: 须为12位，字母开头后接11位数字 (如 H44030000001)")
    if not inst.fixmedins_name or len(inst.fixmedins_name) > 200:
        errors.append("fixmedins_name: 必填，最长200字")
    if inst.fixmedins_type not in FIXMEDINS_TYPES:
        errors.append("fixmedins_type: 须为 1 定点医疗机构 或 2 定点零售药店")
    if not _ADMDVS_RE.match(inst.admdvs):
        errors.append("admdvs: 须为6位医保区划代码")
    if inst.fix_onln_open_flag not in ONLINE_FLAGS:
        errors.append("fix_onln_open_flag: 须为 0 暂停联网 / 1 正常联网 / 2 取消定点")
    if inst.fixmedins_type == FIXMEDINS_TYPE_HOSPITAL and inst.hosp_lv not in _HOSP_LV_GRADE:
        errors.append("hosp_lv: 医疗机构须填医院等级 (1–14，见 hosp_lv 字典)")
    return errors


def make_sign_no(admdvs: str, at: datetime, seq: int) -> str:
    """签到流水号: admdvs(6) + yyyyMMddHHmmss(14) + sequence(10) = 30 characters."""
    return f"{admdvs}{at:%Y%m%d%H%M%S}{seq % 10**10:010d}"
