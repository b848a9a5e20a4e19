"""Unit and employment import rows (参保单位、用工信息批量导入行): columns and checks. Pure.

A *unit file* has one row per insured employer (参保单位), keyed by ``emp_no``; an *employment
file* one row per person and employment period (用工/缴费基数申报), the person named by certificate.
Checks here need no database; :mod:`yibao.registry.unit_import` adds the checks that do (the
person and the unit exist, no overlap with stored periods) before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from yibao import codes
from yibao.money import MoneyError, yuan_to_fen
from yibao.registry import certs, uscc
from yibao.registry.rows import RowError, _date, _text

UNIT_COLUMNS = ("emp_no", "uscc", "emp_name", "emp_type", "admdvs", "town")
UNIT_ALIASES = {
    "单位编号": "emp_no",
    "统一社会信用代码": "uscc",
    "单位名称": "emp_name",
    "单位类型": "emp_type",
    "参保地医保区划": "admdvs",
    "所属医保区划": "admdvs",
    "医保区划": "admdvs",
    "insuplc_admdvs": "admdvs",  # the person file's alias of 参保地医保区划
    "乡镇街道": "town",
}
EMPLOYMENT_COLUMNS = (
    "psn_cert_type",
    "certno",
    "emp_no",
    "begin_date",
    "end_date",
    "wage_base",
    "flxempe_flag",
)
EMPLOYMENT_ALIASES = {
    "证件类型": "psn_cert_type",
    "人员证件类型": "psn_cert_type",
    "证件号码": "certno",
    "单位编号": "emp_no",
    "开始日期": "begin_date",
    "用工开始日期": "begin_date",
    "结束日期": "end_date",
    "用工结束日期": "end_date",
    "缴费基数": "wage_base",
    "申报缴费工资": "wage_base",
    "灵活就业标志": "flxempe_flag",
}
_RE_EMP_NO = re.compile(r"^[0-9A-Za-z]{1,30}$")
_RE_ADMDVS = re.compile(r"^\d{6}$")
T = TypeVar("T")
_FLAGS = {"": False, "0": False, "1": True, "否": False, "是": True}


def normalize_unit_header(name: str) -> str:
    n = name.strip()
    return UNIT_ALIASES.get(n, n.lower())


def normalize_employment_header(name: str) -> str:
    n = name.strip()
    return EMPLOYMENT_ALIASES.get(n, n.lower())


@dataclass(frozen=True, slots=True)
class UnitRow:
    row: int
    emp_no: str
    uscc: str
    emp_name: str
    emp_type: str
    admdvs: str
    town: str


@dataclass(frozen=True, slots=True)
class EmploymentRow:
    row: int
    psn_cert_type: str
    certno: str
    emp_no: str  # "" for 灵活就业 (the person pays as their own payer)
    begin_date: date
    end_date: date | None
    wage_base: int  # fen per month (申报缴费工资, clamped to the band at assessment)
    flexible: bool

    @property
    def cert_key(self) -> tuple[str, str]:
        return (self.psn_cert_type, self.certno)


@dataclass(frozen=True, slots=True)
class Checked(Generic[T]):
    good: list[T]
    errors: list[RowError]
    total: int


def check_unit(row: int, raw: Mapping[str, object]) -> UnitRow | list[RowError]:
    v = {k: _text(raw.get(k)) for k in UNIT_COLUMNS}
    errs: list[RowError] = []
    for f in ("emp_no", "uscc", "emp_name", "emp_type", "admdvs"):
        if not v[f]:
            errs.append(RowError(row, f, "必填项为空"))
    if errs:
        return errs
    if not _RE_EMP_NO.match(v["emp_no"]):
        errs.append(RowError(row, "emp_no", "单位编号应为1至30位字母或数字"))
    code = v["uscc"]
    try:
        code = uscc.validate(code)
    except uscc.UsccError as e:
        errs.append(RowError(row, "uscc", str(e)))
    if len(v["emp_name"]) > 200:
        errs.append(RowError(row, "emp_name", "单位名称超过200个字符"))
    emp_type = v["emp_type"]
    if not codes.is_valid("emp_type", emp_type):
        errs.append(RowError(row, "emp_type", f"单位类型{emp_type}不在字典emp_type中"))
    if not _RE_ADMDVS.match(v["admdvs"]):
        errs.append(RowError(row, "admdvs", "参保地医保区划应为6位数字"))
    if len(v["town"]) > 50:
        errs.append(RowError(row, "town", "乡镇街道超过50个字符"))
    if errs:
        return errs
    return UnitRow(row, v["emp_no"], code, v["emp_name"], emp_type, v["admdvs"], v["town"])


def check_units(rows: Iterable[tuple[int, Mapping[str, object]]]) -> Checked[UnitRow]:
    """Every row, and the file: an ``emp_no`` or a 统一社会信用代码 appears once."""
    good: list[UnitRow] = []
    errors: list[RowError] = []
    by_no: dict[str, int] = {}
    by_code: dict[str, int] = {}
    total = 0
    for n, raw in rows:
        total += 1
        r = check_unit(n, raw)
        if isinstance(r, list):
            errors.extend(r)
            continue
        if r.emp_no in by_no:
            errors.append(RowError(n, "emp_no", f"单位编号与第{by_no[r.emp_no]}行重复"))
            continue
        if r.uscc in by_code:
            errors.append(RowError(n, "uscc", f"统一社会信用代码与第{by_code[r.uscc]}行重复"))
            continue
        by_no[r.emp_no], by_code[r.uscc] = n, n
        good.append(r)
    return Checked(good, errors, total)


def check_employment(row: int, raw: Mapping[str, object]) -> EmploymentRow | list[RowError]:
    v = {k: _text(raw.get(k)) for k in EMPLOYMENT_COLUMNS}
    errs: list[RowError] = []
    for f in ("psn_cert_type", "certno", "begin_date", "wage_base"):
        if not v[f]:
            errs.append(RowError(row, f, "必填项为空"))
    if errs:
        return errs
    cert_type = v["psn_cert_type"].zfill(2) if v["psn_cert_type"].isdigit() else v["psn_cert_type"]
    certno = v["certno"]
    if not codes.is_valid("psn_cert_type", cert_type):
        errs.append(RowError(row, "psn_cert_type", f"证件类型{cert_type}不在字典psn_cert_type中"))
    else:
        try:
            certno = certs.validate(cert_type, certno)
        except certs.CertError as e:
            errs.append(RowError(row, "certno", str(e)))
    begin: date | None = None
    end: date | None = None
    try:
        begin = _date(v["begin_date"])
    except ValueError:
        errs.append(RowError(row, "begin_date", "开始日期格式应为YYYY-MM-DD"))
    if v["end_date"]:
        try:
            end = _date(v["end_date"])
        except ValueError:
            errs.append(RowError(row, "end_date", "结束日期格式应为YYYY-MM-DD"))
    if begin and end and end < begin:
        errs.append(RowError(row, "end_date", "结束日期早于开始日期"))
    base = 0
    try:
        base = yuan_to_fen(v["wage_base"], "wage_base")
        if base < 0:
            errs.append(RowError(row, "wage_base", "缴费基数不能为负数"))
    except MoneyError:
        errs.append(RowError(row, "wage_base", "缴费基数应为金额(元，最多两位小数)"))
    if v["flxempe_flag"] not in _FLAGS:
        errs.append(RowError(row, "flxempe_flag", "灵活就业标志应为0或1"))
    flexible = _FLAGS.get(v["flxempe_flag"], False)
    if flexible and v["emp_no"]:
        errs.append(RowError(row, "emp_no", "灵活就业人员以个人身份缴费，单位编号须为空"))
    if not flexible and not v["emp_no"]:
        errs.append(RowError(row, "emp_no", "非灵活就业人员须填写单位编号"))
    if errs:
        return errs
    assert begin is not None
    return EmploymentRow(row, cert_type, certno, v["emp_no"], begin, end, base, flexible)


def _overlap(a: EmploymentRow, b: EmploymentRow) -> bool:
    a_end = a.end_date or date.max
    b_end = b.end_date or date.max
    return a.begin_date <= b_end and b.begin_date <= a_end


def check_employments(
    rows: Iterable[tuple[int, Mapping[str, object]]],
) -> Checked[EmploymentRow]:
    """Every row, and the file: one person's periods do not overlap (one payer at a time)."""
    good: list[EmploymentRow] = []
    errors: list[RowError] = []
    by_person: dict[tuple[str, str], list[EmploymentRow]] = {}
    total = 0
    for n, raw in rows:
        total += 1
        r = check_employment(n, raw)
        if isinstance(r, list):
            errors.extend(r)
            continue
        clash = next((o for o in by_person.get(r.cert_key, []) if _overlap(o, r)), None)
        if clash is not None:
            errors.append(RowError(n, "begin_date", f"与第{clash.row}行的用工期间重叠"))
            continue
        by_person.setdefault(r.cert_key, []).append(r)
        good.append(r)
    return Checked(good, errors, total)
