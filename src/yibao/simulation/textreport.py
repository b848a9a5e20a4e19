"""The run's report for the terminal (测算报告, 文本): tables and bar charts (rich)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
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


def wan(fen: int, signed: bool = False) -> str:
    """万元 with two decimals (fen ÷ 10⁶, rounded half up)."""
    w = (Decimal(fen) / 1_000_000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{w:+,.2f}" if signed and fen else f"{w:,.2f}"


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
    out.append("方案: " + "; ".join(f"{sid} = {name}" for sid, name in names.items()))
    totals = res.totals()
    changed = changed_persons(res)
    t = _table("表1 各方案基金支出与个人负担 (万元)", ["方案", "统筹基金", "大病/大额", "医疗救助",
               "基金支付合计", "个人负担", "基金较基线", "个人较基线", "变化笔数", "个人负担变化人数"])  # fmt: skip
    for r in totals:
        t.add_row(r["scenario"], wan(r["hifp_pay"]), wan(r["serious"]), wan(r["maf_pay"]),
                  wan(r["fund_pay_sumamt"]), wan(r["psn_part_amt"]), wan(r["d_fund_pay_sumamt"], True),
                  wan(r["d_psn_part_amt"], True), f"{r['bills_changed']:,}", f"{changed.get(r['scenario'], 0):,}")  # fmt: skip
    out.append(t)
    top = max((r["fund_pay_sumamt"] for r in totals), default=0)
    lines = ["图1 基金支付合计 (万元)"]
    for r in totals:
        w = float(Decimal(r["fund_pay_sumamt"]) / 1_000_000)
        lines.append(f"  {r['scenario']:<18} {bar(r['fund_pay_sumamt'], top, 40)} {w:,.1f}")
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
    head = [label, "基线 基金支付", *(f"{s} 基金较基线" for s in reforms),
            *(f"{s} 个人较基线" for s in reforms)]  # fmt: skip
    t = _table(f"表2 按{label} (万元)", head)
    rows = {(r["scenario"], r[by]): r for r in res.totals((by,))}
    for key in sorted({k for _, k in rows}):
        base = rows.get(("baseline", key))
        if base is None:
            continue
        d_f = [
            wan(rows[(s, key)]["d_fund_pay_sumamt"], True) if (s, key) in rows else "—"
            for s in reforms
        ]
        d_p = [
            wan(rows[(s, key)]["d_psn_part_amt"], True) if (s, key) in rows else "—"
            for s in reforms
        ]
        t.add_row(fmt(key), wan(base["fund_pay_sumamt"]), *d_f, *d_p)
    return t


def _distribution(res: Results) -> list[Any]:
    out: list[Any] = []
    rows = [r for r in res.distribution.to_pylist() if r["scenario"] != "baseline"]
    for sid in dict.fromkeys(r["scenario"] for r in rows):
        mine = [r for r in rows if r["scenario"] == sid and r["label"] != "不变"]
        if not any(r["persons"] for r in mine):
            out.append(f"图2 {sid}: 无人个人负担变化")
            continue
        top = max(r["persons"] for r in mine)
        lines = [f"图2 {sid}: 个人负担变化的人数分布 (人年)"]
        for r in mine:
            if r["persons"]:
                lines.append(
                    f"  {r['label']:<12} {bar(r['persons'], top, 40)} {r['persons']:,} 人, 合计 {money(r['delta_sum'], True)} 元"
                )
        out.append("\n".join(lines))
    return out


def _projection(res: Results) -> list[Any]:
    rows = res.projection_by_year()
    years = sorted({r["month"][:4] for r in rows})
    grid: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in rows:
        grid.setdefault((r["scenario"], r["admdvs"], r["scheme"]), {})[r["month"][:4]] = r[
            "months_payable"
        ]
    t = _table("表3 基金预测: 基线年末累计结存可支付月数 (月)", ["参保地", "险种", *years])
    for (sid, admdvs, scheme), by_year in grid.items():
        if sid == "baseline":
            t.add_row(
                region_name(admdvs),
                SCHEME_LABELS[scheme],
                *(f"{by_year.get(y, 0):.1f}" for y in years),
            )
    out: list[Any] = [t]
    d = _table(
        "表4 各方案较基线的年末可支付月数变化 (月; 只列有变化的基金)",
        ["方案", "参保地", "险种", *years],
    )
    differs: list[str] = []
    for (sid, admdvs, scheme), by_year in grid.items():
        base = grid.get(("baseline", admdvs, scheme), {})
        delta = [by_year.get(y, 0) - base.get(y, 0) for y in years]
        if sid != "baseline" and any(delta):
            d.add_row(
                sid, region_name(admdvs), SCHEME_LABELS[scheme], *(f"{x:+.1f}" for x in delta)
            )
            differs.append(admdvs)
    out.append(d)
    monthly = [r for r in res.projection.to_pylist() if r["scheme"] == "employee"]
    if monthly:
        first = differs[0] if differs else monthly[0]["admdvs"]
        mine = [r for r in monthly if r["admdvs"] == first]
        top = float(max(r["months_payable"] for r in mine)) or 1.0
        lines = [f"图3 {region_name(first)} 职工统筹基金可支付月数 (逐月, 前24个月)"]
        for sid in dict.fromkeys(r["scenario"] for r in mine):
            lines.append(f"  {sid}")
            for r in [x for x in mine if x["scenario"] == sid][:24]:
                lines.append(
                    f"    {r['month']} {bar(float(r['months_payable']), top, 40)} {r['months_payable']:.1f}"
                )
        out.append("\n".join(lines))
    return out
