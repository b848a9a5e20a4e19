"""Bulk-import rows (批量导入行): columns, per-row and whole-file checks. Pure.

One row = one person + one enrolment (a person with 310 and 330 has two rows with the same
person fields). The key is the certificate (``psn_cert_type`` + ``certno``); ``psn_no`` is
assigned by Yibao and ignored on import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from yibao import codes
from yibao.registry import certs

COLUMNS = (
    "psn_no",
    "psn_cert_type",
    "certno",
    "psn_name",
    "gend",
    "naty",
    "brdy",
    "tel",
    "town",
    "insutype",
    "psn_insu_stas",
    "psn_insu_date",
    "paus_insu_date",
    "psn_type",
    "insuplc_admdvs",
    "emp_no",
    "emp_name",
    "flxempe_flag",
    "cvlserv_flag",
)
REQUIRED = (
    "psn_cert_type",
    "certno",
    "psn_name",
    "gend",
    "brdy",
    "insutype",
    "psn_insu_stas",
    "psn_insu_date",
    "psn_type",
    "insuplc_admdvs",
)
# Chinese headers (as staff spreadsheets name them) accepted as aliases.
HEADER_ALIASES = {
    "人员编号": "psn_no",
    "证件类型": "psn_cert_type",
    "人员证件类型": "psn_cert_type",
    "证件号码": "certno",
    "姓名": "psn_name",
    "人员姓名": "psn_name",
    "性别": "gend",
    "民族": "naty",
    "出生日期": "brdy",
    "联系电话": "tel",
    "手机号码": "tel",
    "乡镇街道": "town",
    "险种类型": "insutype",
    "参保状态": "psn_insu_stas",
    "人员参保状态": "psn_insu_stas",
    "参保日期": "psn_insu_date",
    "个人参保日期": "psn_insu_date",
    "暂停参保日期": "paus_insu_date",
    "人员类别": "psn_type",
    "参保地医保区划": "insuplc_admdvs",
    "单位编号": "emp_no",
    "单位名称": "emp_name",
    "灵活就业标志": "flxempe_flag",
    "公务员标志": "cvlserv_flag",
}

_RE_ADMDVS = re.compile(r"^\d{6}$")
_RE_CODE = re.compile(r"^\d{2,6}$")
_RE_TEL = re.compile(r"^(1\d{10}|[\d\-]{7,20})$")
_FLAGS = {"": False, "0": False, "1": True, "否": False, "是": True}


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem: file row number (header = row 1), field, reason (Chinese)."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"第{self.row}行 {self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportRow:
    """A checked row, values normalized."""

    row: int
    psn_cert_type: str
    certno: str
    psn_name: str
    gend: str
    naty: str
    brdy: date
    tel: str
    town: str
    insutype: str
    psn_insu_stas: str
    psn_insu_date: date
    paus_insu_date: date | None
    psn_type: str
    insuplc_admdvs: str
    emp_no: str
    emp_name: str
    flxempe_flag: bool
    cvlserv_flag: bool

    @property
    def cert_key(self) -> tuple[str, str]:
        return (self.psn_cert_type, self.certno)

    def person_fields(self) -> tuple[object, ...]:
        return (self.psn_name, self.gend, self.naty, self.brdy, self.tel, self.town)


def normalize_header(name: str) -> str:
    n = name.strip()
    return HEADER_ALIASES.get(n, n.lower())


def _text(v: object) -> str:
    if type(v) is str:
        return v.strip()
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _date(s: str) -> date:
    if re.fullmatch(r"\d{8}", s):
        return date(int(s[:4]), int(s[4:6]), int(s[6:8]))
    return date.fromisoformat(s[:10])


@cache
def _table_codes(table: str) -> frozenset[str] | None:
    try:
        return frozenset(codes.table(table)["codes"])
    except codes.UnknownCodeTable:
        return None


def _code_ok(table: str, value: str) -> bool:
    """Valid in the code table when it ships; well-formed otherwise (tables are other helpers')."""
    known = _table_codes(table)
    return value in known if known is not None else bool(_RE_CODE.match(value))


def check_row(row: int, raw: Mapping[str, object]) -> ImportRow | list[RowError]:
    """Check one row; return the parsed row, or every error found in it."""
    v = {k: _text(raw.get(k)) for k in COLUMNS}
    errs: list[RowError] = []

    def err(f: str, reason: str) -> None:
        errs.append(RowError(row, f, reason))

    for f in REQUIRED:
        if not v[f]:
            err(f, "必填项为空")
    if errs:
        return errs
    cert_type = v["psn_cert_type"].zfill(2) if v["psn_cert_type"].isdigit() else v["psn_cert_type"]
    certno = v["certno"]
    cert_ok = False
    if not _code_ok("psn_cert_type", cert_type):
        err("psn_cert_type", f"证件类型{cert_type}不在字典psn_cert_type中")
    else:
        try:
            certno = certs.validate(cert_type, certno)
            cert_ok = True
        except certs.CertError as e:
            err("certno", str(e))
    name = v["psn_name"]
    if len(name) > 50:
        err("psn_name", "姓名超过50个字符")
    gend = v["gend"]
    if not _code_ok("gend", gend):
        err("gend", f"性别{gend}不在字典gend中(0/1/2/9)")
    brdy: date | None = None
    try:
        brdy = _date(v["brdy"])
    except ValueError:
        err("brdy", "出生日期格式应为YYYY-MM-DD")
    id18 = cert_ok and cert_type in (certs.ID_CARD, certs.HMT_RESIDENCE)
    if id18 and brdy is not None and brdy != certs.id18_birth_date(certno):
        err("brdy", "出生日期与身份证号码不一致")
    if id18 and gend in ("1", "2") and gend != certs.id18_gender(certno):
        err("gend", "性别与身份证号码不一致")
    naty = v["naty"].lstrip("0") if v["naty"].isdigit() else v["naty"]
    if naty and not _code_ok("naty", naty):
        err("naty", f"民族{naty}不在字典naty中")
    tel = v["tel"]
    if tel and not _RE_TEL.match(tel):
        err("tel", "联系电话应为11位手机号或7至20位数字")
    if len(v["town"]) > 50:
        err("town", "乡镇街道超过50个字符")
    insutype = v["insutype"]
    if not _code_ok("insutype", insutype):
        err("insutype", f"险种类型{insutype}无效")
    stas = v["psn_insu_stas"]
    if not _code_ok("psn_insu_stas", stas):
        err("psn_insu_stas", f"参保状态{stas}不在字典psn_insu_stas中(0-4)")
    insu_date: date | None = None
    try:
        insu_date = _date(v["psn_insu_date"])
    except ValueError:
        err("psn_insu_date", "参保日期格式应为YYYY-MM-DD")
    paus: date | None = None
    if v["paus_insu_date"]:
        try:
            paus = _date(v["paus_insu_date"])
        except ValueError:
            err("paus_insu_date", "暂停参保日期格式应为YYYY-MM-DD")
    if paus and insu_date and paus < insu_date:
        err("paus_insu_date", "暂停参保日期早于参保日期")
    if stas in ("2", "4") and not v["paus_insu_date"]:
        err("paus_insu_date", "暂停或终止参保须填写暂停参保日期")
    if brdy and insu_date and insu_date < brdy:
        err("psn_insu_date", "参保日期早于出生日期")
    psn_type = v["psn_type"]
    if not _code_ok("psn_type", psn_type):
        err("psn_type", f"人员类别{psn_type}无效")
    if not _RE_ADMDVS.match(v["insuplc_admdvs"]):
        err("insuplc_admdvs", "参保地医保区划应为6位数字")
    if len(v["emp_no"]) > 30:
        err("emp_no", "单位编号超过30个字符")
    if len(v["emp_name"]) > 200:
        err("emp_name", "单位名称超过200个字符")
    flags: dict[str, bool] = {}
    for f in ("flxempe_flag", "cvlserv_flag"):
        if v[f] not in _FLAGS:
            err(f, "标志应为0或1")
        flags[f] = _FLAGS.get(v[f], False)
    if flags["cvlserv_flag"] and insutype not in ("310", "320"):
        err("cvlserv_flag", "公务员标志只适用于职工医保(310/320)")
    if insutype == "310" and not flags["flxempe_flag"] and not v["emp_no"]:
        err("emp_no", "职工医保(非灵活就业)须填写单位编号")
    if errs:
        return errs
    assert brdy is not None and insu_date is not None
    return ImportRow(
        row=row,
        psn_cert_type=cert_type,
        certno=certno,
        psn_name=name,
        gend=gend,
        naty=naty,
        brdy=brdy,
        tel=tel,
        town=v["town"],
        insutype=insutype,
        psn_insu_stas=stas,
        psn_insu_date=insu_date,
        paus_insu_date=paus,
        psn_type=psn_type,
        insuplc_admdvs=v["insuplc_admdvs"],
        emp_no=v["emp_no"],
        emp_name=v["emp_name"],
        flxempe_flag=flags["flxempe_flag"],
        cvlserv_flag=flags["cvlserv_flag"],
    )


@dataclass(frozen=True, slots=True)
class CheckedFile:
    good: list[ImportRow]
    errors: list[RowError]
    total: int


def check_rows(rows: Iterable[tuple[int, Mapping[str, object]]]) -> CheckedFile:
    """Check every row and the file as a whole (one person's rows agree; no duplicate type)."""
    good: list[ImportRow] = []
    errors: list[RowError] = []
    persons: dict[tuple[str, str], ImportRow] = {}
    seen: dict[tuple[str, str, str], int] = {}
    total = 0
    for rownum, raw in rows:
        total += 1
        r = check_row(rownum, raw)
        if isinstance(r, list):
            errors.extend(r)
            continue
        first = persons.get(r.cert_key)
        if first is not None and first.person_fields() != r.person_fields():
            errors.append(RowError(rownum, "certno", f"同一证件的人员信息与第{first.row}行不一致"))
            continue
        key = (*r.cert_key, r.insutype)
        if key in seen:
            errors.append(
                RowError(rownum, "insutype", f"同一人员的险种{r.insutype}与第{seen[key]}行重复")
            )
            continue
        persons.setdefault(r.cert_key, r)
        seen[key] = rownum
        good.append(r)
    return CheckedFile(good=good, errors=errors, total=total)


def format_report(errors: list[RowError], limit: int = 200) -> str:
    """The bad-row report (错误报告) in Chinese, one line per error."""
    lines = [str(e) for e in errors[:limit]]
    if len(errors) > limit:
        lines.append(f"……另有{len(errors) - limit}条错误未列出")
    return "\n".join(lines)
