"""Overview read model (总览): KPI cards and chart options, scoped to the user's regions.

Each figure comes from the query functions of the capability that owns it — insured persons from
the registry, activation from the e-voucher, settlements and fund payments from the stored
settlement records (net of cancellations) — always filtered by :mod:`yibao.console.scoping`. A figure whose capability has no data yet is returned with
``missing`` set and shown as "暂无数据", never as a made-up number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from yibao.console.model import Scope
from yibao.encounter import queries as encounters
from yibao.money import fen_str
from yibao.registry import queries as registry
from yibao.voucher import queries as vouchers
from yibao.web.regions import region_name


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
NONE_YET = "所选范围内尚无结算记录"

MAIN_INSUTYPES = ("310", "390")  # 职工 / 居民 基本医疗保险: one person counted once

# setlinfo amount → (fund label, colour); personal parts last
FUND_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("hifp_pay", "统筹基金", "#1f5fbf"),
    ("hifmi_pay", "大病保险", "#2f9e8f"),
    ("hifob_pay", "大额补助", "#6b8e23"),
    ("cvlserv_pay", "公务员补助", "#8e6bbf"),
    ("maf_pay", "医疗救助", "#d9822b"),
    ("hifes_pay", "企业补充", "#7a8a99"),
    ("oth_pay", "其他基金", "#a0a7b0"),
    ("acct_pay", "个人账户", "#c9a227"),
    ("psn_cash_pay", "个人现金", "#c0504d"),
)
GRID = {"left": 60, "right": 24, "top": 48, "bottom": 40, "containLabel": True}


def _wan(n: int) -> str:
    """A count for a KPI card with thousands separators: ``12,345``."""
    return f"{n:,}"


def _yuan_wan(fen: int) -> tuple[str, str]:
    """Money for a KPI card: yuan with 2 decimals, or 万元 (half-up, integer arithmetic) from
    1,000,000 元 up."""
    from yibao.web.render import yuan

    if abs(fen) >= 100_000_000:
        hundredths = (abs(fen) + 5_000) // 10_000  # 0.01 万元 = 10,000 fen
        sign = "-" if fen < 0 else ""
        return f"{sign}{hundredths // 100:,}.{hundredths % 100:02d}", "万元"
    return yuan(fen), "元"


def build(conn: sa.Connection, scope: Scope, today: date) -> Overview:
    """The overview for the user's scope on ``today`` (China date)."""
    ov = Overview()
    _registry_part(conn, scope, ov)
    _settlement_part(conn, scope, today, ov)
    return ov


def _registry_part(conn: sa.Connection, scope: Scope, ov: Overview) -> None:
    has_registry = registry.has_enrolments(conn)
    has_voucher = has_registry and vouchers.available(conn)
    if not has_registry or scope.fixmedins_code is not None:
        why = NO_REGISTRY if not has_registry else "定点机构账户不统计参保人"
        ov.kpis.append(Kpi("参保人数", missing=why))
        ov.kpis.append(Kpi("电子凭证激活率", missing=why))
        ov.charts.append(Chart("activation", "各地区医保电子凭证激活率", missing=why))
        return
    if has_voucher:
        rows = vouchers.activation_by_region(conn, scope, MAIN_INSUTYPES)
    else:
        rows = registry.insured_by_region(conn, scope, MAIN_INSUTYPES)
    total = sum(int(r["n"]) for r in rows)
    act = sum(int(r["a"]) for r in rows)
    if total == 0:
        ov.kpis.append(Kpi("参保人数", missing="所选范围内尚无参保登记"))
    else:
        ov.kpis.append(Kpi("参保人数", _wan(total), "人", "正常参保的职工和居民基本医疗保险"))
    if not has_voucher:
        ov.kpis.append(Kpi("电子凭证激活率", missing=NO_VOUCHER))
        ov.charts.append(Chart("activation", "各地区医保电子凭证激活率", missing=NO_VOUCHER))
        return
    if total:
        ov.kpis.append(
            Kpi(
                "电子凭证激活率",
                f"{act * 100 / total:.1f}",
                "%",
                f"已激活 {_wan(act)} 人 / 参保 {_wan(total)} 人",
            )
        )
        names = [region_name(r["admdvs"]) for r in rows]
        ov.charts.append(
            Chart(
                "activation",
                "各地区医保电子凭证激活率",
                {
                    "tooltip": {"trigger": "axis"},
                    "legend": {"top": 0, "data": ["参保人数", "已激活", "激活率"]},
                    "grid": GRID,
                    "xAxis": {"type": "category", "data": names},
                    "yAxis": [
                        {"type": "value", "name": "人"},
                        {
                            "type": "value",
                            "name": "激活率 %",
                            "max": 100,
                            "splitLine": {"show": False},
                        },
                    ],
                    "series": [
                        {
                            "name": "参保人数",
                            "type": "bar",
                            "data": [int(r["n"]) for r in rows],
                            "itemStyle": {"color": "#9db8e0"},
                        },
                        {
                            "name": "已激活",
                            "type": "bar",
                            "data": [int(r["a"]) for r in rows],
                            "itemStyle": {"color": "#1f5fbf"},
                        },
                        {
                            "name": "激活率",
                            "type": "line",
                            "yAxisIndex": 1,
                            "data": [
                                round(int(r["a"]) * 100 / int(r["n"]), 1) if r["n"] else 0
                                for r in rows
                            ],
                            "itemStyle": {"color": "#d9822b"},
                            "label": {"show": True, "formatter": "{c}%"},
                        },
                    ],
                },
            )
        )
    else:
        ov.kpis.append(Kpi("电子凭证激活率", missing="所选范围内尚无参保登记"))
        ov.charts.append(
            Chart("activation", "各地区医保电子凭证激活率", missing="所选范围内尚无参保登记")
        )


def _settlement_part(conn: sa.Connection, scope: Scope, today: date, ov: Overview) -> None:
    titles = (
        ("settle_by_region", "各地区本月结算（按就医地、资金来源）"),
        ("fund_pay", "本月医疗费用支付构成"),
        ("cross_region", "本月异地就医流向（参保地 → 就医地）"),
    )
    if not encounters.available(conn):
        ov.kpis += [
            Kpi(k, missing=NO_SETTLEMENTS) for k in ("今日结算", "本月结算", "本月基金支付")
        ]
        ov.charts += [Chart(k, t, missing=NO_SETTLEMENTS) for k, t in titles]
        return
    month = encounters.Period(conn, scope, today.replace(day=1), today)
    fund_fields = [f for f, _, _ in FUND_FIELDS]
    totals = month.totals(fund_fields)
    day = month.totals(on=today)
    if int(totals["n"]) == 0 and int(totals["medfee"]) == 0:
        ov.kpis += [Kpi(k, missing=NONE_YET) for k in ("今日结算", "本月结算", "本月基金支付")]
        ov.charts += [Chart(k, t, missing=NONE_YET) for k, t in titles]
        return
    d_amt, d_unit = _yuan_wan(int(day["medfee"]))
    m_amt, m_unit = _yuan_wan(int(totals["medfee"]))
    f_amt, f_unit = _yuan_wan(int(totals["fund"]))
    ov.kpis.append(Kpi("今日结算", _wan(int(day["n"])), "笔", f"医疗费 {d_amt} {d_unit}"))
    ov.kpis.append(Kpi("本月结算", _wan(int(totals["n"])), "笔", f"医疗费 {m_amt} {m_unit}"))
    share = int(totals["fund"]) * 100 / int(totals["medfee"]) if int(totals["medfee"]) else 0
    ov.kpis.append(Kpi("本月基金支付", f_amt, f_unit, f"占医疗费 {share:.1f}%（不含个人账户）"))

    # by treatment region, stacked by source of payment
    by_region = month.by_treatment_region(fund_fields)
    regions = [region_name(r["mdtrtarea_admvs"]) for r in by_region]
    ov.charts.append(
        Chart(
            "settle_by_region",
            titles[0][1],
            {
                "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
                "legend": {"top": 0, "type": "scroll"},
                "grid": GRID,
                "xAxis": {"type": "category", "data": regions},
                "yAxis": {"type": "value", "name": "元"},
                "series": [
                    {
                        "name": label,
                        "type": "bar",
                        "stack": "pay",
                        "itemStyle": {"color": colour},
                        "data": [fen_str(int(r[f])) for r in by_region],
                    }
                    for f, label, colour in FUND_FIELDS
                    if any(int(r[f]) for r in by_region)
                ],
            },
        )
    )
    pie = [
        {"name": label, "value": fen_str(int(totals[f])), "itemStyle": {"color": colour}}
        for f, label, colour in FUND_FIELDS
        if int(totals[f])
    ]
    ov.charts.append(
        Chart(
            "fund_pay",
            titles[1][1],
            {
                "tooltip": {"trigger": "item", "formatter": "{b}：{c} 元（{d}%）"},
                "legend": {"bottom": 0, "type": "scroll"},
                "series": [
                    {
                        "type": "pie",
                        "radius": ["36%", "62%"],
                        "center": ["50%", "46%"],
                        "label": {"formatter": "{b}\n{d}%", "overflow": "none"},
                        "data": pie,
                    }
                ],
            },
        )
    )
    flows = month.cross_region_flows()
    flows = [f for f in flows if int(f["n"]) > 0]
    if not flows:
        ov.charts.append(
            Chart("cross_region", titles[2][1], missing="本月所选范围内没有异地就医结算")
        )
        return
    labels = [
        f"{region_name(f['insuplc_admdvs'])} → {region_name(f['mdtrtarea_admvs'])}\n"
        f"基金 {fen_str(int(f['fund']))} 元"
        for f in flows
    ]
    ov.charts.append(
        Chart(
            "cross_region",
            titles[2][1],
            {
                "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
                "grid": {**GRID, "left": 20, "right": 60, "top": 20},
                "yAxis": {"type": "category", "data": labels, "inverse": True},
                "xAxis": {"type": "value", "name": "笔", "minInterval": 1},
                "series": [
                    {
                        "name": "结算笔数",
                        "type": "bar",
                        "barMaxWidth": 36,
                        "data": [int(f["n"]) for f in flows],
                        "itemStyle": {"color": "#1f5fbf"},
                        "label": {"show": True, "position": "right", "formatter": "{c} 笔"},
                    }
                ],
            },
        )
    )
