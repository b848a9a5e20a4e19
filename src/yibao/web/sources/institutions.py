"""Designated institutions read model (定点医药机构), from :mod:`yibao.institutions.queries`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from yibao.console.model import Scope
from yibao.console.scoping import OutOfScope, ensure_visible
from yibao.encounter import queries as encounters
from yibao.institutions import queries as institutions
from yibao.web.labels import code_label
from yibao.web.regions import region_label
from yibao.web.unavailable import Unavailable

PENDING = Unavailable("定点机构数据尚未接入：定点机构管理服务尚未上线。", "institutions")

OPTER_TYPES = {"1": "经办人", "2": "自助终端", "3": "移动终端"}


@dataclass(slots=True)
class InstitutionRow:
    fixmedins_code: str
    fixmedins_name: str
    type_label: str
    hosp_lv_label: str
    admdvs: str
    online_label: str
    online_ok: bool


@dataclass(slots=True)
class InstitutionDetail:
    row: InstitutionRow
    fields: list[tuple[str, str]] = field(default_factory=list)
    operators: list[tuple[str, str, str]] = field(default_factory=list)
    settlements: int | None = None


def _row(m: dict[str, Any]) -> InstitutionRow:
    return InstitutionRow(
        fixmedins_code=m["fixmedins_code"],
        fixmedins_name=m["fixmedins_name"],
        type_label=code_label("fixmedins_type", m["fixmedins_type"]),
        hosp_lv_label=code_label("hosp_lv", m["hosp_lv"]) or "—",
        admdvs=m["admdvs"],
        online_label=code_label("fix_onln_open_flag", m["fix_onln_open_flag"]),
        online_ok=m["fix_onln_open_flag"] == "1",
    )


SORT_LABELS: tuple[tuple[str, str], ...] = (
    ("region", "统筹区、类型"),
    ("code", "机构编号"),
    ("name", "机构名称"),
)
PAGE_SIZE = 50


@dataclass(slots=True)
class InstitutionPage:
    rows: list[InstitutionRow]
    total: int
    estimated: bool
    next: str = ""  # offset of the next page, "" on the last
    prev: str = ""


def search_page(
    conn: sa.Connection, scope: Scope, q: str, *, sort: str = "region", cursor: str = "",
    size: int = PAGE_SIZE,
) -> InstitutionPage | Unavailable:  # fmt: skip
    """One page of institutions in scope whose code or name contains ``q``, with the total."""
    if not institutions.available(conn):
        return PENDING
    offset = int(cursor) if cursor.isdigit() else 0
    rows, total = institutions.page(conn, scope, q, sort=sort, offset=offset, size=size)
    return InstitutionPage(
        rows=[_row(m) for m in rows],
        total=total.n,
        estimated=total.estimated,
        next=str(offset + size) if offset + size < total.n else "",
        prev=str(max(offset - size, 0)) if offset > 0 else "",
    )


def search(
    conn: sa.Connection, scope: Scope, q: str, limit: int = 200
) -> list[InstitutionRow] | Unavailable:
    """Institutions in scope whose code or name contains ``q``."""
    if not institutions.available(conn):
        return PENDING
    return [_row(m) for m in institutions.search(conn, scope, q, limit)]


def detail(conn: sa.Connection, scope: Scope, code: str) -> InstitutionDetail | Unavailable | None:
    """One institution with its operators; OutOfScope outside the user's regions."""
    if not institutions.available(conn):
        return PENDING
    m = institutions.get(conn, code)
    if m is None:
        raise OutOfScope()
    ensure_visible(scope, regions=[m["admdvs"]], institution=code, person_data=False)
    row = _row(m)
    fields = [
        ("机构编号", row.fixmedins_code),
        ("机构名称", row.fixmedins_name),
        ("机构类型", row.type_label),
        ("医院等级", row.hosp_lv_label),
        ("所在统筹区", region_label(row.admdvs)),
        ("统一社会信用代码", m["uscc"] or ""),
        ("地址", m["addr"] or ""),
        ("联网状态", row.online_label),
    ]
    operators = [
        (
            r["opter_no"],
            f"{r['opter_name']}（{OPTER_TYPES.get(r['opter_type'], r['opter_type'])}）",
            "启用" if r["active"] else "停用",
        )
        for r in institutions.operators(conn, code)
    ]
    count = None
    if encounters.available(conn):
        count = encounters.settlement_count(conn, code)
    if count is not None:
        fields.append(("累计结算笔数", f"{count} 笔"))
    return InstitutionDetail(row=row, fields=fields, operators=operators, settlements=count)
