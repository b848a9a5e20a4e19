"""Simulation read model (政策测算页面): tables and ECharts options from a run's results.

Reads through :mod:`yibao.simulation.service` (no SQL here). Results are aggregates: no person
appears (the analyst's rule). Amounts are shown in 万元 (display only; the files keep fen).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from yibao.console.model import Scope
from yibao.simulation.report import changed_persons
from yibao.simulation.results import Results, region_name

GRID = {"left": 60, "right": 20, "top": 80, "bottom": 40, "containLabel": True}
LEGEND = {"type": "scroll", "top": 0, "orient": "vertical", "left": 0}
COLORS = ["#1f5fbf", "#d9822b", "#2f9e44", "#9c36b5", "#c92a2a"]


def wan(fen: int) -> float:
    """fen → 万元 with 2 decimals, for a chart label only."""
    return float((Decimal(fen) / 1_000_000).quantize(Decimal("0.01")))


@dataclass
class ResultView:
    names: dict[str, str]
    summary: list[dict[str, Any]]
    by_region: list[dict[str, Any]]
    charts: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


def allowed_regions(scope: Scope, regions: tuple[str, ...]) -> tuple[str, ...]:
    """The dataset's regions the user may simulate (a city analyst: their own city)."""
    return tuple(r for r in regions if scope.allows_region(r))


def view(res: Results) -> ResultView:
    names = res.scenario_names
    totals = res.totals()
    changed = changed_persons(res)
    summary = [
        dict(t, name=names[t["scenario"]], persons_changed_total=changed.get(t["scenario"], 0))
        for t in totals
    ]
    by_region = [
        dict(t, name=names[t["scenario"]], region=region_name(t["admdvs"]))
        for t in res.totals(("admdvs",))
    ]
    v = ResultView(names, summary, by_region)
    ids = list(names)
    v.charts.append(("spend", "各方案基金支付与个人负担（万元）", {
        "tooltip": {"trigger": "axis"}, "legend": LEGEND, "grid": GRID,
        "xAxis": {"type": "category", "data": [names[i] for i in ids], "axisLabel": {"interval": 0, "width": 90, "overflow": "truncate"}},
        "yAxis": {"type": "value", "name": "万元"},
        "series": [
            {"name": "基金支付合计", "type": "bar", "data": [wan(t["fund_pay_sumamt"]) for t in totals], "itemStyle": {"color": COLORS[0]}},
            {"name": "个人负担", "type": "bar", "data": [wan(t["psn_part_amt"]) for t in totals], "itemStyle": {"color": COLORS[1]}},
        ],
    }))  # fmt: skip
    regions = sorted({r["admdvs"] for r in by_region})
    reforms = [i for i in ids if i != "baseline"]
    if reforms:
        rows = {(r["scenario"], r["admdvs"]): r for r in by_region}
        v.charts.append(("delta", "各方案较基线的基金支付变化（万元，按参保地）", {
            "tooltip": {"trigger": "axis"}, "legend": LEGEND, "grid": GRID,
            "xAxis": {"type": "category", "data": [region_name(a) for a in regions], "axisLabel": {"interval": 0, "rotate": 20}},
            "yAxis": {"type": "value", "name": "万元"},
            "series": [{"name": names[s], "type": "bar", "itemStyle": {"color": COLORS[(k + 1) % len(COLORS)]},
                        "data": [wan(rows[(s, a)]["d_fund_pay_sumamt"]) if (s, a) in rows else 0 for a in regions]}
                       for k, s in enumerate(reforms)],
        }))  # fmt: skip
        dist = [
            r
            for r in res.distribution.to_pylist()
            if r["scenario"] != "baseline" and r["label"] != "不变"
        ]
        labels = list(dict.fromkeys(r["label"] for r in dist))
        v.charts.append(("dist", "个人负担变化的人数分布（人年）", {
            "tooltip": {"trigger": "axis"}, "legend": LEGEND, "grid": GRID,
            "xAxis": {"type": "category", "data": labels, "axisLabel": {"rotate": 30}},
            "yAxis": {"type": "value", "name": "人"},
            "series": [{"name": names[s], "type": "bar", "itemStyle": {"color": COLORS[(k + 1) % len(COLORS)]},
                        "data": [next((r["persons"] for r in dist if r["scenario"] == s and r["label"] == lb), 0) for lb in labels]}
                       for k, s in enumerate(reforms)],
        }))  # fmt: skip
    proj = res.projection.to_pylist()
    if proj:
        months = sorted({r["month"] for r in proj})
        series = []
        for k, sid in enumerate(ids):
            pts = province_months(proj, sid, "employee")
            if pts:
                series.append({"name": names[sid], "type": "line", "showSymbol": False,
                               "data": [pts.get(m) for m in months],
                               "lineStyle": {"type": "solid" if sid == "baseline" else "dashed"},
                               "itemStyle": {"color": COLORS[k % len(COLORS)]}})  # fmt: skip
        v.charts.append(("months", "职工统筹基金累计结存可支付月数（各市合计，逐月预测）", {
            "tooltip": {"trigger": "axis"}, "legend": LEGEND, "grid": GRID,
            "xAxis": {"type": "category", "data": months}, "yAxis": {"type": "value", "name": "月"},
            "series": series,
        }))  # fmt: skip
    return v


def province_months(rows: list[dict[str, Any]], scenario: str, scheme: str) -> dict[str, float]:
    """可支付月数 of the cities together: Σ balance ÷ (Σ spending of the last 12 months ÷ 12)."""
    by_month: dict[str, list[int]] = {}
    spend: dict[str, list[int]] = {}
    for r in rows:
        if r["scenario"] == scenario and r["scheme"] == scheme:
            by_month.setdefault(r["month"], [0, 0])[0] += r["balance"]
            spend.setdefault(r["admdvs"], []).append(r["spending"])
    out: dict[str, float] = {}
    months = sorted(by_month)
    totals = [sum(s[i] for s in spend.values()) for i in range(len(months))]
    for i, m in enumerate(months):
        window = totals[max(0, i - 11) : i + 1]
        trail = sum(window) * 12 / len(window)  # the first months: their average, for the chart
        if trail > 0:
            out[m] = round(by_month[m][0] * 12 / trail, 1)
    return out
