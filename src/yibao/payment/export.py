"""年度清算表 (year-end statement) as XLSX: region summary, institutions, cases, 特例单议, 医共体.

Amounts are yuan with two decimals (``#,##0.00``), converted exactly from fen; rates and point
values keep their four decimals.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from yibao.money import fen_to_yuan
from yibao.payment.model.pay import MODES
from yibao.payment.model.special import EXIT_LABELS, STATE_LABELS
from yibao.payment.queries import RegionView

MONEY = "#,##0.00"
METHOD_NAMES = {"drg": "按病组(DRG)付费", "dip": "按病种分值(DIP)付费", "none": "按项目付费"}
BOLD = Font(bold=True)


def _sheet(
    ws: Worksheet, header: Sequence[str], rows: Iterable[Sequence[Any]], money: set[int]
) -> None:
    ws.append(list(header))
    for c in ws[ws.max_row]:
        c.font = BOLD
    for r in rows:
        ws.append(
            [fen_to_yuan(int(v)) if i in money and v is not None else v for i, v in enumerate(r)]
        )
        for i in money:
            ws.cell(ws.max_row, i + 1).number_format = MONEY
    for col in ws.columns:
        ws.column_dimensions[col[0].column_letter].width = 16


def statement_xlsx(
    view: RegionView, cases: Sequence[dict[str, Any]], specials: Sequence[dict[str, Any]]
) -> bytes:
    """The workbook as bytes."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "汇总"
    ry = view.region_year or {}
    unit = "费率(元/权重)" if view.method == "drg" else "点值(元/分)"
    summary = [
        ("医保区划", view.admdvs),
        ("清算年度", view.year),
        ("付费方式", METHOD_NAMES.get(view.method, view.method)),
        ("清算状态", "已清算" if ry else "未清算"),
        ("费用总额预算(元)", fen_to_yuan(view.cost_budget) if view.cost_budget else "—"),
        (f"预算{unit}", view.provisional_unit_value or "—"),
        ("按项目付费金额(元)", fen_to_yuan(int(ry["by_item"])) if ry else "—"),
        ("年度总权重/总分值", ry.get("total_units", "—") if ry else "—"),
        (f"清算{unit}", ry.get("final_unit_value", "—") if ry else "—"),
        ("病例数", ry.get("cases", view.cases) if ry else view.cases),
    ]
    ws.append(["年度清算表（DRG/DIP）"])
    ws["A1"].font = BOLD
    for k, v in summary:
        ws.append([k, v])
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 22

    _sheet(
        wb.create_sheet("机构清算"),
        (
            "机构编码",
            "机构名称",
            "病例数",
            "CMI",
            "基金应支付(年终)",
            "即时结算统筹支付",
            "月度预拨合计",
            "质量保证金",
            "保证金返还",
            "保证金扣留",
            "年终拨付",
            "清算差额调整",
        ),
        (
            (
                r.fixmedins_code,
                r.fixmedins_name,
                r.cases,
                r.cmi,
                (r.year_end or {}).get("final_fund_due", r.fund_due),
                r.item_fund,
                r.advanced,
                r.held,
                (r.year_end or {}).get("released"),
                (r.year_end or {}).get("forfeited"),
                (r.year_end or {}).get("final_payment"),
                sum((r.year_end or {}).get("adjustments", {}).values()) if r.year_end else None,
            )
            for r in view.institutions
        ),
        {4, 5, 6, 7, 8, 9, 10, 11},
    )
    _sheet(
        wb.create_sheet("病例明细"),
        (
            "结算ID",
            "机构编码",
            "预结算月份",
            "分组",
            "付费类型",
            "权重/分值",
            "医疗费用",
            "预结算病例值",
            "预结算基金应支付",
            "年终病例值",
            "年终基金应支付",
            "即时结算统筹支付",
        ),
        (
            (
                c["setl_id"],
                c["fixmedins_code"],
                c["run_month"] or "年终补入",
                c["grp_code"],
                MODES.get(c["final_mode"] or c["mode"], c["mode"]),
                c["final_units"] or c["units"],
                c["medfee_sumamt"],
                c["value"],
                c["fund_due"],
                c["final_value"],
                c["final_fund_due"],
                c["item_fund"],
            )
            for c in cases
        ),
        {6, 7, 8, 9, 10, 11},
    )
    _sheet(
        wb.create_sheet("特例单议"),
        ("申请编号", "结算ID", "机构编码", "退出类型", "状态", "申请原因", "专家意见"),
        (
            (
                s["appy_id"],
                s["setl_id"],
                s["fixmedins_code"],
                EXIT_LABELS.get(s["exit_type"], ""),
                STATE_LABELS.get(s["state"], s["state"]),
                s["reason"],
                "；".join(
                    f"{o['reviewer_name']}：{'同意' if o['approve'] else '不同意'}（{o['opinion']}）"
                    for o in s["opinions"]
                ),
            )
            for s in specials
        ),
        set(),
    )
    _sheet(
        wb.create_sheet("医共体"),
        (
            "医共体",
            "年度预算",
            "已分配",
            "基金支出",
            "其中:共同体内",
            "县域内其他机构",
            "县外",
            "结余留用",
            "结余上缴",
            "基金分担超支",
            "医共体承担超支",
            "基金年度最终支出",
        ),
        (
            (
                e["community"]["name"],
                e["budget"],
                e["allocated"],
                e["spending"],
                e["spending_parts"].get("inside", 0),
                e["spending_parts"].get("outside", 0),
                e["spending_parts"].get("out_of_county", 0),
                *(
                    (e["year_end"] or {}).get(k)
                    for k in ("retained", "returned", "fund_overrun", "community_overrun", "final")
                ),
            )
            for e in view.communities
        ),
        {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
    )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
