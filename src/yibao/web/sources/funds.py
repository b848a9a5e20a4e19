"""Funds read models for the console (单位缴费, 基金收支, 可支付月数): chart options and tables.

Reads through :mod:`yibao.funds.query` (never the funds store), one region at a time, inside the
user's scope. The analyst (no person data) gets region aggregates only, never a unit's row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from yibao.console.model import Scope
from yibao.funds import query
from yibao.funds.model import add_months, month_end, month_start, period_text
from yibao.funds.position import STATUS_LABELS, Thresholds
from yibao.funds.postings import FUND_NAMES, POOLED
from yibao.funds.rules import thresholds

GRID = {"left": 60, "right": 24, "top": 56, "bottom": 40, "containLabel": True}
SCHEME_LABELS = {"employee": "单位职工", "flexible": "灵活就业", "resident": "城乡居民"}
UNIT_TYPES = {"10": "企业", "20": "机关", "30": "事业单位", "40": "社会团体",
              "50": "民办非企业单位", "60": "个体工商户", "70": "基金会",
              "80": "律师/会计师事务所", "90": "其他"}  # fmt: skip


def wan(fen: int) -> float:
    """Fen → 万元 for a chart axis (display only; 2 decimals)."""
    return float((Decimal(fen) / 1_000_000).quantize(Decimal("0.01")))


def ready(conn: sa.Connection) -> bool:
    return query.available(conn)


@dataclass(slots=True)
class UnitsView:
    region: str
    as_of: date
    year_from: date
    months: list[query.CollectionMonth]
    totals: list[dict[str, Any]]
    units: list[query.UnitSummary] | None  # None: the role sees no unit rows
    chart: dict[str, Any] | None = None
    kpis: dict[str, int] = field(default_factory=dict)


def units_view(conn: sa.Connection, scope: Scope, region: str, as_of: date) -> UnitsView:
    first = add_months(month_start(as_of), -11)
    months = query.monthly_collection(conn, [region], first, as_of)
    totals = query.region_totals(conn, [region], first, as_of)
    units = query.units(conn, [region], as_of, first) if scope.person_data else None
    v = UnitsView(region, as_of, first, months, totals, units)
    v.kpis = {
        "assessed": sum(m.assessed for m in months),
        "paid": sum(m.paid for m in months),
        "overdue": sum(m.overdue for m in months),
        "deferred": sum(m.deferred for m in months),
        "late_fees": sum(m.late_fees for m in months),
    }
    if months:
        x = [period_text(m.period) for m in months]
        series = [("已到账", "paid", "#2f9e8f"), ("欠费", "overdue", "#c0504d"),
                  ("缓缴中", "deferred", "#d9822b"), ("未到期", "not_due", "#a0a7b0")]  # fmt: skip
        v.chart = {
            "tooltip": {"trigger": "axis"},
            "legend": {"top": 8},
            "grid": GRID,
            "xAxis": {"type": "category", "data": x},
            "yAxis": {"type": "value", "name": "万元"},
            "series": [
                {
                    "name": n,
                    "type": "bar",
                    "stack": "all",
                    "itemStyle": {"color": c},
                    "data": [wan(getattr(m, k)) for m in months],
                }
                for n, k, c in series
            ],
        }
    return v


@dataclass(slots=True)
class FlowsView:
    region: str
    fund: str
    funds: list[tuple[str, str]]
    points: list[query.SeriesPoint]  # the chosen fund, month by month
    table: list[query.SeriesPoint]  # every fund
    chart: dict[str, Any] | None = None
    summary: list[dict[str, Any]] = field(default_factory=list)  # per fund, the 12 months


def flows_view(conn: sa.Connection, region: str, fund: str, as_of: date) -> FlowsView:
    first = add_months(month_start(as_of), -11)
    series = query.fund_series(conn, region, first, as_of, "month")
    funds = sorted({p.fund_pay_type for p in series}, key=query.fund_order)
    fund = fund if fund in funds else (POOLED if POOLED in funds else (funds[0] if funds else ""))
    points = [p for p in series if p.fund_pay_type == fund]
    v = FlowsView(region, fund, [(f, FUND_NAMES.get(f, f)) for f in funds], points, series)
    for f in funds:
        mine = [p for p in series if p.fund_pay_type == f]
        v.summary.append({"fund": f, "income": sum(p.income for p in mine),
                          "spending": sum(p.spending for p in mine),
                          "opening": sum(p.opening for p in mine), "closing": mine[-1].closing})  # fmt: skip
    for line in query.fund_position(conn, region, as_of):  # funds that did not move this year
        if line.fund_pay_type not in funds:
            v.summary.append({"fund": line.fund_pay_type, "income": 0, "spending": 0,
                              "opening": 0, "closing": line.balance})  # fmt: skip
    v.summary.sort(key=lambda s: query.fund_order(str(s["fund"])))
    if points:
        v.chart = {
            "tooltip": {"trigger": "axis"},
            "legend": {"top": 8},
            "grid": GRID,
            "xAxis": {"type": "category", "data": [period_text(p.period) for p in points]},
            "yAxis": [{"type": "value", "name": "收支(万元)"}, {"type": "value", "name": "余额(万元)"}],
            "series": [
                {"name": "收入", "type": "bar", "itemStyle": {"color": "#2f9e8f"},
                 "data": [wan(p.income) for p in points]},
                {"name": "支出", "type": "bar", "itemStyle": {"color": "#c0504d"},
                 "data": [wan(p.spending) for p in points]},
                {"name": "期末余额", "type": "line", "yAxisIndex": 1, "smooth": True,
                 "itemStyle": {"color": "#1f5fbf"}, "data": [wan(p.closing) for p in points]},
            ],
        }  # fmt: skip
    return v


@dataclass(slots=True)
class MonthsView:
    region: str
    as_of: date
    lines: list[query.FundLine]
    thresholds: Thresholds
    chart: dict[str, Any] | None = None
    trend: dict[str, Any] | None = None
    labels: dict[str, str] = field(default_factory=lambda: dict(STATUS_LABELS))


STATUS_COLOURS = {"critical_low": "#c0504d", "low": "#d9822b", "ok": "#2f9e8f",
                  "high": "#6b8e23", "too_high": "#8e6bbf", "no_spending": "#a0a7b0"}  # fmt: skip


def months_view(conn: sa.Connection, region: str, as_of: date) -> MonthsView:
    lines = query.fund_position(conn, region, as_of)
    t = thresholds(region, as_of)
    v = MonthsView(region, as_of, lines, t)
    shown = [x for x in lines if x.months is not None]
    top = 2 * t.alert_high  # the axis ends here; longer bars are cut, their label shows the value
    bands = [(0, t.alert_low, "critical_low"), (t.alert_low, t.low, "low"), (t.low, t.high, "ok"),
             (t.high, t.alert_high, "high"), (t.alert_high, top, "too_high")]  # fmt: skip
    if shown:
        v.chart = {
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "grid": {**GRID, "left": 16, "right": 40, "top": 40},
            "xAxis": {"type": "value", "name": "月", "max": top, "min": 0},
            "yAxis": {"type": "category", "data": [x.name for x in shown], "inverse": True},
            "series": [{
                "type": "bar", "name": "可支付月数", "barMaxWidth": 28,
                "label": {"show": True, "position": "insideRight", "color": "#fff",
                          "fontWeight": "bold"},
                "data": [{"value": float(x.months or 0),
                          "itemStyle": {"color": STATUS_COLOURS[x.status]}} for x in shown],
                "markArea": {"silent": True, "data": [
                    [{"xAxis": a, "name": STATUS_LABELS[k],
                      "itemStyle": {"color": STATUS_COLOURS[k], "opacity": 0.10},
                      "label": {"show": False}},
                     {"xAxis": b}] for a, b, k in bands]},
            }],
        }  # fmt: skip
    ends = [month_end(add_months(month_start(as_of), -i)) for i in range(11, 0, -1)] + [as_of]
    history = query.position_history(conn, region, POOLED, ends)
    if any(m is not None for _, _, m in history):
        v.trend = {
            "tooltip": {"trigger": "axis"},
            "grid": GRID,
            "xAxis": {"type": "category", "data": [f"{d:%Y-%m}" for d, _, _ in history]},
            "yAxis": {"type": "value", "name": "月"},
            "series": [{
                "type": "line", "name": "统筹基金可支付月数", "itemStyle": {"color": "#1f5fbf"},
                "data": [None if m is None else float(m) for _, _, m in history],
                "markArea": {"silent": True, "itemStyle": {"color": "rgba(47,158,143,0.10)"},
                             "data": [[{"yAxis": t.low}, {"yAxis": t.high}]]},
            }],
        }  # fmt: skip
    return v
