"""XLSX export of a clearing statement (清算单导出): a summary sheet and a detail sheet.

Amounts are yuan with two decimals (cell format ``#,##0.00``), converted exactly from fen.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font

from yibao.clearing.model import STATE_NAMES, Line
from yibao.clearing.service import Statement
from yibao.money import fen_to_yuan

MONEY = "#,##0.00"
KIND_NAMES = {"settle": "结算", "cancel": "撤销(负数)"}


def statement_xlsx(stmt: Statement, lines: Sequence[Line]) -> bytes:
    """The workbook as bytes: 汇总 (totals per direction and the net payment) and 明细."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "汇总"
    bold = Font(bold=True)
    a, b = stmt.pair
    ws.append(["异地就医清算单", stmt.stmt_id])
    ws["A1"].font = bold
    ws.append(["清算期", stmt.period])
    ws.append(["清算双方", f"{a} ↔ {b}"])
    ws.append(["状态", STATE_NAMES[stmt.state]])
    ws.append(["版本", stmt.version])
    ws.append(["确认人", stmt.confirmed_by])
    ws.append(["审批人", stmt.approved_by])
    ws.append([])
    header = ["参保地", "就医地", "结算笔数", "撤销笔数", "医疗费总额", "基金支付总额",
              "个人账户支付", "个人现金支付", "应清算金额"]  # fmt: skip
    ws.append(header)
    for c in ws[ws.max_row]:
        c.font = bold
    for d in stmt.totals["directions"]:
        ws.append(
            [d["insured"], d["treatment"], d["settlements"], d["cancellations"]]
            + [
                fen_to_yuan(int(d[k]))
                for k in (
                    "medfee_sumamt",
                    "fund_pay_sumamt",
                    "acct_pay",
                    "psn_cash_pay",
                    "clearing_amt",
                )
            ]
        )
        for c in ws[ws.max_row][4:]:
            c.number_format = MONEY
    ws.append([])
    ws.append(["轧差后付款方", stmt.payer or "无需拨付"])
    ws.append(["收款方", stmt.payee or ""])
    ws.append(["轧差金额", fen_to_yuan(stmt.net_amount)])
    ws.cell(ws.max_row, 2).number_format = MONEY
    for col, width in zip("ABCDEFGHI", (14, 14, 10, 10, 14, 14, 14, 14, 14), strict=True):
        ws.column_dimensions[col].width = width

    wd = wb.create_sheet("明细")
    wd.append(["结算ID", "类型", "冲销结算ID", "人员编号", "定点医药机构", "参保地", "就医地",
               "医疗类别", "清算类别", "结算日期", "医疗费总额", "基金支付总额", "个人账户支付",
               "个人现金支付", "应清算金额"])  # fmt: skip
    for c in wd[1]:
        c.font = bold
    for ln in lines:
        wd.append(
            [ln.setl_id, KIND_NAMES.get(ln.kind, ln.kind), ln.reverses or "", ln.psn_no,
             ln.fixmedins_code, ln.insuplc_admdvs, ln.mdtrtarea_admvs, ln.med_type, ln.clr_type,
             ln.setl_date]
            + [fen_to_yuan(v) for v in (ln.medfee_sumamt, ln.fund_pay_sumamt, ln.acct_pay,
                                        ln.psn_cash_pay, ln.clearing_amt)]
        )  # fmt: skip
        row = wd[wd.max_row]
        row[9].number_format = "yyyy-mm-dd"
        for c in row[10:]:
            c.number_format = MONEY
    wd.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
