"""Campaign read models for the console (激活推广): chart options over a campaign's progress.

Reads through :mod:`yibao.campaigns.service` (never its store), inside the user's regions. The
analyst (no person data) sees the plan's aggregates (全市, 类别, 镇办) but not the unit rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from yibao.campaigns import queries, service
from yibao.campaigns.model import Plan
from yibao.campaigns.progress import Progress, TargetProgress
from yibao.console.model import Scope

GRID = {"left": 60, "right": 30, "top": 48, "bottom": 40, "containLabel": True}
PALETTE = ["#2b6cb0", "#2f9e8f", "#d9822b", "#8e6bbf", "#c0504d", "#6b7785"]
STATUS_CLASS = {"done": "ok", "on_track": "ok", "at_risk": "bad", "overdue": "bad"}


def prefixes(scope: Scope) -> list[str] | None:
    return None if scope.all_regions else list(scope.prefixes)


def ready(conn: sa.Connection) -> bool:
    return queries.ready(conn)


@dataclass(slots=True)
class ListItem:
    plan: Plan
    progress: Progress


def listing(conn: sa.Connection, scope: Scope, on: date) -> list[ListItem]:
    out = []
    for plan in service.campaigns(conn, prefixes(scope)):
        out.append(ListItem(plan, service.progress(conn, plan.id, on, prefixes(scope))))
    return out


@dataclass(slots=True)
class CampaignView:
    progress: Progress
    channel_names: dict[str, str]
    units_visible: bool
    charts: dict[str, Any] = field(default_factory=dict)


def _pct(v: Decimal) -> float:
    return float((v * 100).quantize(Decimal("0.01")))


def _towns_chart(rows: list[TargetProgress]) -> dict[str, Any]:
    rows = list(reversed(rows))  # best at the top of a horizontal bar chart
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {**GRID, "left": 110, "top": 20},
        "xAxis": {"type": "value", "name": "完成进度%", "max": "dataMax"},
        "yAxis": {"type": "category", "data": [t.name for t in rows]},
        "series": [{
            "type": "bar", "name": "任务完成进度", "data": [_pct(t.completion) for t in rows],
            "itemStyle": {"color": "#2b6cb0"},
            "label": {"show": True, "position": "right", "formatter": "{c}%"},
            "markLine": {"symbol": "none", "data": [{"xAxis": 100}],
                         "lineStyle": {"color": "#c0504d", "type": "dashed"}},
        }],
    }  # fmt: skip


def _daily_chart(p: Progress, names: dict[str, str]) -> dict[str, Any] | None:
    if not p.by_day:
        return None
    days = sorted(p.by_day)
    chans = sorted({c for d in p.by_day.values() for c in d})
    total, running = [], 0
    for d in days:
        running += sum(p.by_day[d].values())
        total.append(running)
    series: list[dict[str, Any]] = [
        {"type": "bar", "stack": "day", "name": names.get(c, c) or "未知渠道",
         "data": [p.by_day[d].get(c, 0) for d in days], "itemStyle": {"color": PALETTE[i % 6]}}
        for i, c in enumerate(chans)
    ]  # fmt: skip
    series.append({"type": "line", "name": "期内累计", "yAxisIndex": 1, "data": total,
                   "symbol": "none", "lineStyle": {"color": "#333"}})  # fmt: skip
    return {
        "tooltip": {"trigger": "axis"}, "legend": {"top": 8}, "grid": GRID,
        "xAxis": {"type": "category", "data": [d.isoformat() for d in days]},
        "yAxis": [{"type": "value", "name": "当日激活(人)"}, {"type": "value", "name": "累计(人)"}],
        "series": series,
    }  # fmt: skip


def _categories_chart(rows: list[TargetProgress]) -> dict[str, Any]:
    return {
        "tooltip": {"trigger": "axis"}, "legend": {"top": 8}, "grid": GRID,
        "xAxis": {"type": "category", "data": [t.name for t in rows],
                  "axisLabel": {"interval": 0, "width": 120, "overflow": "break"}},
        "yAxis": {"type": "value", "name": "人"},
        "series": [
            {"type": "bar", "name": "目标任务数", "data": [t.target for t in rows],
             "itemStyle": {"color": "#a0a7b0"}},
            {"type": "bar", "name": "已激活", "data": [t.activated for t in rows],
             "itemStyle": {"color": "#2f9e8f"}},
        ],
    }  # fmt: skip


def _channels_chart(p: Progress, names: dict[str, str]) -> dict[str, Any] | None:
    if not p.by_channel:
        return None
    return {
        "tooltip": {"trigger": "item", "formatter": "{b}：{c}人（{d}%）"},
        "legend": {"bottom": 0},
        "series": [{"type": "pie", "radius": ["35%", "65%"], "name": "激活渠道",
                    "data": [{"name": names.get(k, k) or "未知渠道", "value": v}
                             for k, v in sorted(p.by_channel.items())]}],
    }  # fmt: skip


def campaign_view(conn: sa.Connection, scope: Scope, campaign_id: str, on: date) -> CampaignView:
    p = service.progress(conn, campaign_id, on, prefixes(scope))
    names = service.channel_names(conn)
    v = CampaignView(p, names, scope.person_data)
    v.charts["categories"] = _categories_chart([p.overall, *p.categories])
    if p.towns:
        v.charts["towns"] = _towns_chart(p.ranked(p.towns))
    daily = _daily_chart(p, names)
    if daily:
        v.charts["daily"] = daily
    chans = _channels_chart(p, names)
    if chans:
        v.charts["channels"] = chans
    return v
