"""The run's report for the terminal (测算报告, 文本): tables and bar charts (rich)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.table import Table

from yibao.simulation.report import INSUTYPE_LABELS, bar, changed_persons
from yibao.simulation.results import (
    CLASS_LABELS,
    GROUP_LABELS,
    LEVEL_LABELS,
    SCHEME_LABELS,
    Results,
    med_type_label,
    region_name,
    yuan,
)

DIM_LABELS = {
    "admdvs": ("参保地", region_name), "insutype": ("险种", lambda v: INSUTYPE_LABELS.get(v, v)),
    "psn_group": ("人员类别", lambda v: GROUP_LABELS.get(v, v)),
    "assist_class": ("救助类别", lambda v: CLASS_LABELS.get(v, v)),
    "level": ("医院级别", lambda v: LEVEL_LABELS.get(v, v)), "med_type": ("医疗类别", med_type_label),
}  # fmt: skip


def money(fen: int, signed: bool = False) -> str:
    y = yuan(fen)
    return (f"{y:+,.2f}" if signed else f"{y:,.2f}") if fen or not signed else "0.00"


def _table(title: str, head: list[str]) -> Table:
    t = Table(title=title, title_justify="left")
    for i, h in enumerate(head):
        t.add_column(h, justify="left" if i == 0 else "right")
    return t


def render(res: Results, by: str | None = None) -> list[Any]:
    names = res.scenario_names
    out: list[Any] = []
    m = res.meta
    out.append(f"测算期间 {m['period_from']} 至 {m['period_to']}; 数据集 {m['source']} ({m['bills']:,} 笔结算, "
               f"{m['person_years']:,} 人年); 逐笔回放的人年 {m['sequential_groups']}")  # fmt: skip
    totals = res.totals()
    changed = changed_persons(res)
    t = _table("表1 各方案基金支出与个人负担 (元)", ["方案", "统筹基金", "大病/大额", "医疗救助",
               "基金支付合计", "个人负担", "基金较基线", "个人较基线", "变化笔数", "个人负担变化人数"])  # fmt: skip
    for r in totals:
        t.add_row(names[r["scenario"]], money(r["hifp_pay"]), money(r["serious"]), money(r["maf_pay"]),
                  money(r["fund_pay_sumamt"]), money(r["psn_part_amt"]), money(r["d_fund_pay_sumamt"], True),
                  money(r["d_psn_part_amt"], True), f"{r['bills_changed']:,}", f"{changed.get(r['scenario'], 0):,}")  # fmt: skip
    out.append(t)
    top = max((r["fund_pay_sumamt"] for r in totals), default=0)
    lines = ["图1 基金支付合计 (万元)"]
    for r in totals:
        w = float(Decimal(r["fund_pay_sumamt"]) / 1_000_000)
        lines.append(
            f"  {names[r['scenario']][:24]:<24} {bar(r['fund_pay_sumamt'], top, 40)} {w:,.1f}"
        )
    out.append("\n".join(lines))
    if by:
        out.append(_by_dimension(res, by))
    out += _distribution(res)
    if res.projection.num_rows:
        out += _projection(res)
    return out


def _by_dimension(res: Results, by: str) -> Table:
    label, fmt = DIM_LABELS[by]
    names = res.scenario_names
    reforms = [s for s in names if s != "baseline"]
    head = [label, "基线 基金支付", *(f"{names[s][:16]} 基金较基线" for s in reforms),
            *(f"{names[s][:16]} 个人较基线" for s in reforms)]  # fmt: skip
    t = _table(f"表2 按{label} (元)", head)
    rows = {(r["scenario"], r[by]): r for r in res.totals((by,))}
    for key in sorted({k for _, k in rows}):
        base = rows.get(("baseline", key))
        if base is None:
            continue
        d_f = [
            money(rows[(s, key)]["d_fund_pay_sumamt"], True) if (s, key) in rows else "—"
            for s in reforms
        ]
        d_p = [
            money(rows[(s, key)]["d_psn_part_amt"], True) if (s, key) in rows else "—"
            for s in reforms
        ]
        t.add_row(fmt(key), money(base["fund_pay_sumamt"]), *d_f, *d_p)
    return t


def _distribution(res: Results) -> list[Any]:
    names = res.scenario_names
    out: list[Any] = []
    rows = [r for r in res.distribution.to_pylist() if r["scenario"] != "baseline"]
    for sid in dict.fromkeys(r["scenario"] for r in rows):
        mine = [r for r in rows if r["scenario"] == sid and r["label"] != "不变"]
        if not any(r["persons"] for r in mine):
            out.append(f"图2 {names[sid]}: 无人个人负担变化")
            continue
        top = max(r["persons"] for r in mine)
        lines = [f"图2 {names[sid]}: 个人负担变化的人数分布 (人年)"]
        for r in mine:
            if r["persons"]:
                lines.append(
                    f"  {r['label']:<12} {bar(r['persons'], top, 40)} {r['persons']:,} 人, 合计 {money(r['delta_sum'], True)} 元"
                )
        out.append("\n".join(lines))
    return out


def _projection(res: Results) -> list[Any]:
    names = res.scenario_names
    rows = res.projection_by_year()
    t = _table("表3 基金预测: 年末累计结存可支付月数", ["方案", "参保地", "险种",
               *sorted({r["month"][:4] for r in rows})])  # fmt: skip
    grid: dict[tuple[str, str, str], dict[str, str]] = {}
    for r in rows:
        grid.setdefault((r["scenario"], r["admdvs"], r["scheme"]), {})[r["month"][:4]] = (
            f"{r['months_payable']:.1f}"
        )
    years = sorted({r["month"][:4] for r in rows})
    for (sid, admdvs, scheme), by_year in grid.items():
        t.add_row(
            names[sid],
            region_name(admdvs),
            SCHEME_LABELS[scheme],
            *(by_year.get(y, "") for y in years),
        )
    out: list[Any] = [t]
    monthly = [r for r in res.projection.to_pylist() if r["scheme"] == "employee"]
    if monthly:
        first = monthly[0]["admdvs"]
        mine = [r for r in monthly if r["admdvs"] == first]
        top = float(max(r["months_payable"] for r in mine)) or 1.0
        lines = [f"图3 {region_name(first)} 职工统筹基金可支付月数 (逐月, 前24个月)"]
        for sid in dict.fromkeys(r["scenario"] for r in mine):
            lines.append(f"  {names[sid]}")
            for r in [x for x in mine if x["scenario"] == sid][:24]:
                lines.append(
                    f"    {r['month']} {bar(float(r['months_payable']), top, 40)} {r['months_payable']:.1f}"
                )
        out.append("\n".join(lines))
    return out
