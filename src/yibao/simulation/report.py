"""Reports of a run (测算报告): an Excel workbook and a text report with charts for the terminal.

Everything is in Chinese for the analyst; amounts in yuan (元) with two decimals, computed from
the fen sums (exact).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.styles import Font

from yibao.simulation.reform import parse_reform
from yibao.simulation.results import (
    CLASS_LABELS,
    GROUP_LABELS,
    LEVEL_LABELS,
    MEASURE_LABELS,
    MONEY,
    SCHEME_LABELS,
    Results,
    med_type_label,
    region_name,
    yuan,
)
from yibao.simulation.runner import RunResult, projection_table

INSUTYPE_LABELS = {"310": "职工", "390": "居民", "391": "居民", "380": "居民"}
SUMMARY = ("bills", "medfee_sumamt", "hifp_pay", "serious", "cvlserv_pay", "maf_pay",
           "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay", "bills_changed")  # fmt: skip


def changed_persons(res: Results) -> dict[str, int]:
    """Person-years whose out-of-pocket amount changed, per scenario (from the distribution)."""
    out: dict[str, int] = {}
    for r in res.distribution.to_pylist():
        if r["label"] != "不变":
            out[r["scenario"]] = out.get(r["scenario"], 0) + r["persons"]
    return out


def summary_rows(res: Results) -> list[list[Any]]:
    names = res.scenario_names
    changed = changed_persons(res)
    rows = []
    for t in res.totals():
        row: list[Any] = [names[t["scenario"]]]
        for m in SUMMARY:
            row.append(yuan(t[m]) if m in MONEY else t[m])
        row += [
            yuan(t["d_fund_pay_sumamt"]),
            yuan(t["d_psn_part_amt"]),
            changed.get(t["scenario"], 0),
        ]
        rows.append(row)
    return rows


SUMMARY_HEAD = ["方案", *(MEASURE_LABELS[m] for m in SUMMARY), "基金支付较基线", "个人负担较基线",
                "个人负担变化人数"]  # fmt: skip


def detail_rows(res: Results) -> list[list[Any]]:
    names = res.scenario_names
    dims = ("admdvs", "insutype", "psn_group", "assist_class", "level", "med_type")
    rows = []
    for t in res.totals(dims):
        rows.append([
            names[t["scenario"]], region_name(t["admdvs"]), INSUTYPE_LABELS.get(t["insutype"], t["insutype"]),
            GROUP_LABELS.get(t["psn_group"], t["psn_group"]), CLASS_LABELS.get(t["assist_class"], t["assist_class"]),
            LEVEL_LABELS.get(t["level"], t["level"]), med_type_label(t["med_type"]),
            t["bills"], t["persons"], *(yuan(t[m]) for m in MONEY),
            yuan(t["d_hifp_pay"]), yuan(t["d_fund_pay_sumamt"]), yuan(t["d_psn_part_amt"]),
            t["bills_changed"], t["persons_changed"],
        ])  # fmt: skip
    return rows


DETAIL_HEAD = ["方案", "参保地", "险种", "人员类别", "救助类别", "医院级别", "医疗类别", "结算笔数",
               "人数(组内)", *(MEASURE_LABELS[m] for m in MONEY), "统筹基金较基线", "基金支付较基线",
               "个人负担较基线", "变化笔数", "变化人数(组内)"]  # fmt: skip


def _sheet(wb: Workbook, title: str, head: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    ws = wb.create_sheet(title)
    ws.append(list(head))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([float(v) if isinstance(v, Decimal) else v for v in row])
        for cell, v in zip(ws[ws.max_row], row, strict=True):
            if isinstance(v, Decimal):
                cell.number_format = "#,##0.00"
    ws.freeze_panes = "B2"


def write_xlsx(path: Path | str, res: Results) -> None:
    """The workbook: 汇总, 分组明细, 变化分布, 按月支出, 基金预测, 方案参数."""
    wb = Workbook()
    assert wb.active is not None
    wb.remove(wb.active)
    names = res.scenario_names
    _sheet(wb, "汇总", SUMMARY_HEAD, summary_rows(res))
    _sheet(wb, "分组明细", DETAIL_HEAD, detail_rows(res))
    _sheet(wb, "变化分布", ["方案", "个人负担变化", "人数", "变化金额合计"], [
        [names[r["scenario"]], r["label"], r["persons"], yuan(r["delta_sum"])]
        for r in res.distribution.to_pylist() if r["scenario"] != "baseline"
    ])  # fmt: skip
    _sheet(wb, "按月支出", ["方案", "参保地", "险种", "月份", "结算笔数", "统筹基金", "大病/大额",
                        "公务员补助", "医疗救助", "基金支付合计", "个人负担"], [
        [names[r["scenario"]], region_name(r["admdvs"]), INSUTYPE_LABELS.get(r["insutype"], r["insutype"]),
         r["month"], r["bills"], yuan(r["hifp_pay"]), yuan(r["serious_pay"]), yuan(r["cvlserv_pay"]),
         yuan(r["maf_pay"]), yuan(r["fund_pay_sumamt"]), yuan(r["psn_part_amt"])]
        for r in res.months.to_pylist()
    ])  # fmt: skip
    _sheet(wb, "基金预测", ["方案", "参保地", "险种", "月份", "基金收入", "统筹基金支出", "累计结存",
                        "可支付月数"], [
        [names[r["scenario"]], region_name(r["admdvs"]), SCHEME_LABELS[r["scheme"]], r["month"],
         yuan(r["income"]), yuan(r["spending"]), yuan(r["balance"]), float(r["months_payable"])]
        for r in res.projection.to_pylist()
    ])  # fmt: skip
    _sheet(wb, "方案参数", ["方案", "参保地", "参数", "生效日期", "取值"], [
        [names.get(rid, rid), region_name(r[0]), r[1], r[2], r[3]]
        for rid, rows in res.meta.get("reforms", {}).items() for r in rows
    ])  # fmt: skip
    wb.save(path)


def bar(value: float, top: float, width: int = 30) -> str:
    """A horizontal bar of ``value`` against ``top`` (text chart)."""
    if top <= 0:
        return ""
    n = max(0.0, value) / top * width
    return "█" * int(n) + ("▌" if n - int(n) >= 0.5 else "")


def write(out: Path | str, result: RunResult) -> Path:
    """Write the run's tables and ``run.json`` (then the Excel report) into ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(result.merged.cells, folder / "cells.parquet")
    pq.write_table(result.merged.months, folder / "months.parquet")
    pq.write_table(result.merged.distribution, folder / "distribution.parquet")
    pq.write_table(projection_table(result.projection), folder / "projection.parquet")
    meta = dict(result.meta)
    meta["reforms"] = {}
    for sc in result.scenarios:
        if sc.reform_path:
            meta["reforms"][sc.id] = parse_reform(sc.reform_path).summary()
    (folder / "run.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    write_xlsx(folder / "report.xlsx", Results.read(folder))
    return folder
