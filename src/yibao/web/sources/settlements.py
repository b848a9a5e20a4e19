"""Settlement read model (结算查询): search, full breakdown and the engine's trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from yibao.console.model import Scope
from yibao.web.sources import Unavailable

PENDING = Unavailable(
    "结算记录尚未接入：结算服务尚未上线，暂无可查询的结算单。",
    "settlement",
)


@dataclass(slots=True)
class SettlementFilter:
    setl_id: str = ""
    psn_no: str = ""
    fixmedins_code: str = ""
    admdvs: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(slots=True)
class SettlementRow:
    setl_id: str
    setl_time: str
    psn_no: str
    psn_name: str
    fixmedins_name: str
    med_type: str
    insuplc_admdvs: str
    mdtrtarea_admvs: str
    medfee_sumamt: int
    fund_pay_sumamt: int
    psn_cash_pay: int
    status: str


@dataclass(slots=True)
class SettlementDetail:
    setl_id: str
    insuplc_admdvs: str
    mdtrtarea_admvs: str
    fixmedins_code: str
    header: list[tuple[str, str]] = field(default_factory=list)
    amounts: list[tuple[str, str, int]] = field(default_factory=list)  # (field, 中文, fen)
    funds: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    trace: list[dict[str, Any]] = field(default_factory=list)


def search(
    conn: sa.Connection, scope: Scope, f: SettlementFilter, limit: int = 100
) -> list[SettlementRow] | Unavailable:
    return PENDING


def detail(
    conn: sa.Connection, scope: Scope, setl_id: str
) -> SettlementDetail | Unavailable | None:
    return PENDING
