"""Overview read model (总览): KPI cards and chart options, scoped to the user's regions.

Each figure comes from the capability that owns it; a figure whose capability has no data yet is
returned with ``missing`` set and shown as "暂无数据", never as a made-up number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from yibao.console.model import Scope


@dataclass(slots=True)
class Kpi:
    """One KPI card (指标卡)."""

    label: str
    value: str | None = None
    unit: str = ""
    hint: str = ""
    missing: str = ""


@dataclass(slots=True)
class Chart:
    """One ECharts chart: ``option`` is the ECharts option object, built here on the server."""

    key: str
    title: str
    option: dict[str, Any] | None = None
    missing: str = ""
    wide: bool = False


@dataclass(slots=True)
class Overview:
    kpis: list[Kpi] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


NO_REGISTRY = "参保登记数据尚未接入"
NO_VOUCHER = "医保电子凭证激活数据尚未接入"
NO_SETTLEMENTS = "结算数据尚未接入"
NO_LEDGER = "基金账务数据尚未接入"


def build(conn: sa.Connection, scope: Scope, today: date) -> Overview:
    """The overview for the user's scope on ``today`` (China date)."""
    ov = Overview()
    ov.kpis.append(Kpi("参保人数", missing=NO_REGISTRY))
    ov.kpis.append(Kpi("电子凭证激活率", missing=NO_VOUCHER))
    ov.kpis.append(Kpi("今日结算", missing=NO_SETTLEMENTS))
    ov.kpis.append(Kpi("本月结算", missing=NO_SETTLEMENTS))
    ov.kpis.append(Kpi("本月基金支付", missing=NO_LEDGER))
    ov.charts.append(Chart("settle_by_region", "各地区结算（今日 / 本月）", missing=NO_SETTLEMENTS))
    ov.charts.append(Chart("fund_pay", "本月基金支付构成", missing=NO_LEDGER))
    ov.charts.append(Chart("activation", "各地区电子凭证激活率", missing=NO_VOUCHER))
    ov.charts.append(
        Chart("cross_region", "异地就医流向（参保地 → 就医地）", missing=NO_SETTLEMENTS)
    )
    return ov
