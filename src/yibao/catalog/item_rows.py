"""The rows CSV of a catalogue layer (``items.csv``, 目录条目文件): its columns and how each row is
parsed and checked (add / change / remove, codes, classes, ratios, amounts, dates, flags).

Every problem is collected as a :class:`~yibao.catalog.problems.RowProblem`; nothing is written.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from yibao.catalog.model import (
    ACTIONS,
    CHRGITM_LVS,
    CHRGITM_TYPES_BY_LIST,
    LIST_TYPES,
    MED_CHRGITM_TYPES,
    OVERRIDABLE_FIELDS,
    Action,
    CatalogRow,
    Region,
)
from yibao.catalog.problems import RowProblem
from yibao.money import MoneyError, parse_ratio, yuan_to_fen

COLUMNS: tuple[str, ...] = (
    "action",
    "med_list_codg",
    "name",
    "list_type",
    "chrgitm_lv",
    "med_chrgitm_type",
    "selfpay_prop",
    "pric",
    "pric_uplmt_amt",
    "prcunt",
    "drug_dosform",
    "drug_spec",
    "prodentp_name",
    "lmt_used_flag",
    "lmt_usescp",
    "hi_nego_drug_flag",
    "vol_procurement_flag",
    "begndate",
    "enddate",
    "memo",
)
_FLAG_COLUMNS = ("lmt_used_flag", "hi_nego_drug_flag", "vol_procurement_flag")
_TEXT_COLUMNS = (
    "name",
    "prcunt",
    "drug_dosform",
    "drug_spec",
    "prodentp_name",
    "lmt_usescp",
    "memo",
)


_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,49}$")


NO_LIMIT = "none"  # in a change row's pric_uplmt_amt: the city has no limit for the item


@dataclass(frozen=True, slots=True)
class SourcedRow:
    """A parsed row with where it came from."""

    row: CatalogRow
    file: str
    line: int


def read_rows(
    fname: str,
    path: Path,
    region: Region,
    default_begn: date | None,
    problems: list[RowProblem],
) -> list[SourcedRow]:
    """The rows of one layer's CSV (shown as ``fname`` in problems); bad rows are left out and
    their problems appended to ``problems``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        problems.append(RowProblem(fname, 0, "encoding", "文件应为 UTF-8 编码"))
        return []
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    out: list[SourcedRow] = []
    for cells in reader:
        line = reader.line_num
        if not cells or all(not c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            for col in header:
                if col not in COLUMNS:
                    problems.append(RowProblem(fname, line, col, "未知列"))
            if "med_list_codg" not in header:
                problems.append(RowProblem(fname, line, "med_list_codg", "缺少必需列"))
            if len(set(header)) != len(header):
                problems.append(RowProblem(fname, line, "header", "列名重复"))
            if any(p.file == fname for p in problems):
                return []
            continue
        if len(cells) > len(header):
            problems.append(
                RowProblem(fname, line, "row", f"列数 {len(cells)} 多于表头 {len(header)}")
            )
            continue
        values = {col: (cells[i].strip() if i < len(cells) else "") for i, col in enumerate(header)}
        row = parse_row(fname, line, region, values, default_begn, problems)
        if row is not None:
            out.append(SourcedRow(row, fname, line))
    if header is None:
        problems.append(RowProblem(fname, 0, "header", "文件没有表头"))
    return out


def parse_row(
    fname: str,
    line: int,
    region: Region,
    v: Mapping[str, str],
    default_begn: date | None,
    problems: list[RowProblem],
) -> CatalogRow | None:
    """One CSV row of ``region``'s layer as a :class:`CatalogRow`, or ``None`` with its problems
    appended (``default_begn``: the layer's begndate for rows without one)."""
    n0 = len(problems)

    def bad(col: str, reason: str) -> None:
        problems.append(RowProblem(fname, line, col, reason))

    action_s = v.get("action", "") or "add"
    if action_s not in ACTIONS:
        bad("action", f"取值 {action_s!r} 无效（应为 add/change/remove）")
        return None
    action: Action = action_s
    code = v.get("med_list_codg", "")
    if not _CODE_RE.match(code):
        bad("med_list_codg", f"医疗目录编码 {code!r} 无效（字母数字，1–50位）")
    if action != "add" and region.parent is None:
        bad("action", f"{action}: 省级目录（无 parent）只能 add")

    begn: date | None = default_begn
    endd: date | None = None
    try:
        if v.get("begndate"):
            begn = date.fromisoformat(v["begndate"])
    except ValueError:
        bad("begndate", f"日期 {v['begndate']!r} 格式应为 YYYY-MM-DD")
    try:
        if v.get("enddate"):
            endd = date.fromisoformat(v["enddate"])
    except ValueError:
        bad("enddate", f"日期 {v['enddate']!r} 格式应为 YYYY-MM-DD")
    if begn is None and not any(p.field == "begndate" for p in problems[n0:]):
        bad("begndate", "必填（或在 region.yaml 给出默认 begndate）")
    if begn is not None and endd is not None and endd < begn:
        bad("enddate", f"结束日期 {endd} 早于开始日期 {begn}")

    allowed = {
        "add": set(COLUMNS),
        "change": {"action", "med_list_codg", "begndate", "enddate", *OVERRIDABLE_FIELDS},
        "remove": {"action", "med_list_codg", "begndate", "enddate", "memo"},
    }[action]
    for col, val in v.items():
        if val and col not in allowed:
            bad(col, f"{action} 行不能设置此字段（可覆盖: {', '.join(OVERRIDABLE_FIELDS)}）")

    lv = v.get("chrgitm_lv", "")
    if lv and lv not in CHRGITM_LVS:
        bad("chrgitm_lv", f"收费项目等级 {lv!r} 无效（01 甲类 / 02 乙类 / 03 丙类）")
    list_type = v.get("list_type", "")
    if list_type and list_type not in LIST_TYPES:
        bad("list_type", f"目录类别 {list_type!r} 无效（{', '.join(LIST_TYPES)}）")
    mct = v.get("med_chrgitm_type", "")
    if mct and mct not in MED_CHRGITM_TYPES:
        bad("med_chrgitm_type", f"医疗收费项目类别 {mct!r} 无效（01–14）")
    elif mct and list_type in CHRGITM_TYPES_BY_LIST and mct not in CHRGITM_TYPES_BY_LIST[list_type]:
        bad(
            "med_chrgitm_type",
            f"{mct} {MED_CHRGITM_TYPES[mct]} 与目录类别 {list_type} {LIST_TYPES[list_type]} 不符",
        )
    if action == "add":
        for col in ("name", "list_type", "chrgitm_lv", "med_chrgitm_type"):
            if not v.get(col):
                bad(col, "add 行必填")

    ratio: Decimal | None = None
    if v.get("selfpay_prop"):
        try:
            ratio = parse_ratio(v["selfpay_prop"], "selfpay_prop")
        except MoneyError as exc:
            bad("selfpay_prop", str(exc))
        if ratio is not None and ratio != 0 and lv in ("01", "03"):
            bad("selfpay_prop", f"{CHRGITM_LVS[lv]}项目不能有先行自付比例")
    fen: dict[str, int | None] = {"pric": None, "pric_uplmt_amt": None}
    clear_limit = False
    for col in fen:
        val = v.get(col, "")
        if not val:
            continue
        if col == "pric_uplmt_amt" and val.lower() == NO_LIMIT:
            if action != "change":
                bad(col, f"{NO_LIMIT!r} 只用于 change 行（取消上级的支付标准）")
            clear_limit = True
            continue
        try:
            amount = yuan_to_fen(val, col)
        except MoneyError as exc:
            bad(col, str(exc) + "（单位：元，最多两位小数）")
            continue
        if amount < 0:
            bad(col, "金额不能为负")
        fen[col] = amount
    flags: dict[str, str | None] = {}
    for col in _FLAG_COLUMNS:
        val = v.get(col, "")
        if val and val not in ("0", "1"):
            bad(col, f"标志 {val!r} 无效（0 否 / 1 是）")
        flags[col] = val or ("0" if action == "add" else None)
    if flags["lmt_used_flag"] == "1" and action == "add" and not v.get("lmt_usescp"):
        bad("lmt_usescp", "限制使用项目（lmt_used_flag=1）必须写明限制使用范围")
    if action == "change" and not clear_limit and not any(v.get(c) for c in OVERRIDABLE_FIELDS):
        bad("action", "change 行没有覆盖任何字段")
    for col in _TEXT_COLUMNS:
        if len(v.get(col, "")) > 500:
            bad(col, "超过 500 字")
    if len(problems) > n0 or begn is None:
        return None
    texts = {c: (v.get(c) or None) for c in _TEXT_COLUMNS}
    return CatalogRow(
        admdvs=region.admdvs,
        med_list_codg=code,
        begndate=begn,
        enddate=endd,
        action=action,
        list_type=list_type or None,
        chrgitm_lv=lv or None,
        med_chrgitm_type=mct or None,
        selfpay_prop=ratio,
        pric=fen["pric"],
        pric_uplmt_amt=fen["pric_uplmt_amt"],
        clear_pric_uplmt=clear_limit,
        lmt_used_flag=flags["lmt_used_flag"],
        hi_nego_drug_flag=flags["hi_nego_drug_flag"],
        vol_procurement_flag=flags["vol_procurement_flag"],
        **texts,
    )
