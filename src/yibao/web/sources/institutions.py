"""Designated institutions read model (定点医药机构)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from yibao.console.model import Scope
from yibao.web.sources import Unavailable

PENDING = Unavailable("定点机构数据尚未接入：定点机构管理服务尚未上线。", "institutions")


@dataclass(slots=True)
class InstitutionRow:
    fixmedins_code: str
    fixmedins_name: str
    type_label: str
    hosp_lv_label: str
    admdvs: str
    online_label: str


@dataclass(slots=True)
class InstitutionDetail:
    row: InstitutionRow
    fields: list[tuple[str, str]] = field(default_factory=list)
    operators: list[tuple[str, str, str]] = field(default_factory=list)


def search(
    conn: sa.Connection, scope: Scope, q: str, limit: int = 200
) -> list[InstitutionRow] | Unavailable:
    return PENDING


def detail(conn: sa.Connection, scope: Scope, code: str) -> InstitutionDetail | Unavailable | None:
    return PENDING
