"""3201 对总账 / 3202 对明细账 (nhsa-interface.md §2.11).

- 3201 ``data{insutype, clr_type, setl_optins, stmt_begndate, stmt_enddate, medfee_sumamt,
  fund_pay_sumamt, acct_pay, fixmedins_setl_cnt, refd_setl_flag}`` → ``stmtinfo{setl_optins,
  stmt_rslt, stmt_rslt_dscr}``; totals over settlement dates (医保结算时间, China time).
- 3202 ``data{setl_optins, file_qury_no (from 9101), stmt_begndate, stmt_enddate, medfee_sumamt,
  fund_pay_sumamt, cash_payamt, fixmedins_setl_cnt, clr_type, refd_setl_flag}``: the uploaded
  ZIP holds TAB-separated rows ``setl_id, mdtrt_id, psn_no, medfee_sumamt, fund_pay_sumamt,
  acct_pay, refd_setl_flag``; the answer ``fileinfo{file_qury_no, filename, dld_endtime}`` names
  a result ZIP (download with 9102) of rows ``psn_no, mdtrt_id, setl_id, msgid, stmt_rslt,
  refd_setl_flag, memo``. Cancellations are their own rows (refd_setl_flag 1).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import BusinessError, Context, transaction
from yibao.api.nhsa.fields import InputError
from yibao.encounter import service as encounters
from yibao.encounter.reconcile import DetailRow, Totals, totals_of
from yibao.gateway import files
from yibao.gateway.tabzip import TabZipError, make_tab_zip, read_tab_zip
from yibao.money import MoneyError, yuan_to_fen

DETAIL_COLUMNS = (
    "setl_id",
    "mdtrt_id",
    "psn_no",
    "medfee_sumamt",
    "fund_pay_sumamt",
    "acct_pay",
    "refd_setl_flag",
)
RESULT_COLUMNS = ("psn_no", "mdtrt_id", "setl_id", "msgid", "stmt_rslt", "refd_setl_flag", "memo")


def _period(data: dict[str, Any], w: str) -> tuple[date, date]:
    begn = fields.day(data, "stmt_begndate", w, required=True)
    end = fields.day(data, "stmt_enddate", w, required=True)
    assert begn is not None and end is not None
    if end < begn:
        raise InputError(f"{w}.stmt_enddate", "对账结束日期不能早于开始日期")
    if (end - begn).days > 366:
        raise InputError(f"{w}.stmt_enddate", "对账期间不能超过一年")
    return begn, end


def _count(data: dict[str, Any], w: str) -> int:
    n = fields.number(data, "fixmedins_setl_cnt", w, places=0, required=True)
    return int(n)


def _refd(data: dict[str, Any], w: str) -> str | None:
    flag = fields.text(data, "refd_setl_flag", w, max_len=1)
    if flag not in ("", "0", "1"):
        raise InputError(f"{w}.refd_setl_flag", f"退费结算标志须为0或1，收到 {flag!r}")
    return flag or None


@transaction("3201", "医药机构费用结算对总账")
def totals(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    insutype = fields.code(data, "insutype", w, "insutype", required=True)
    clr_type = fields.code(data, "clr_type", w, "clr_type", required=True)
    optins = fields.text(data, "setl_optins", w, required=True, max_len=6, label="结算经办机构")
    begn, end = _period(data, w)
    claimed = Totals(
        medfee_sumamt=fields.amount(data, "medfee_sumamt", w, required=True),
        fund_pay_sumamt=fields.amount(data, "fund_pay_sumamt", w, required=True),
        acct_pay=fields.amount(data, "acct_pay", w, required=True),
        fixmedins_setl_cnt=_count(data, w),
    )
    result = encounters.reconcile_totals(
        ctx.conn,
        fixmedins_code=ctx.institution.fixmedins_code,
        insutype=insutype,
        clr_type=clr_type,
        setl_optins=optins,
        begndate=begn,
        enddate=end,
        claimed=claimed,
        refd_setl_flag=_refd(data, w),
    )
    return {
        "stmtinfo": {
            "setl_optins": result.setl_optins,
            "stmt_rslt": result.stmt_rslt,
            "stmt_rslt_dscr": result.stmt_rslt_dscr,
        }
    }


def _rows(content: bytes, where: str) -> list[DetailRow]:
    try:
        tables = read_tab_zip(content)
    except TabZipError as exc:
        raise InputError(where, str(exc)) from exc
    out: list[DetailRow] = []
    for name, rows in sorted(tables.items()):
        for n, cells in enumerate(rows, start=1):
            at = f"{where}:{name} 第{n}行"
            if len(cells) < len(DETAIL_COLUMNS):
                raise InputError(at, f"须有{len(DETAIL_COLUMNS)}列：{'、'.join(DETAIL_COLUMNS)}")
            row = dict(zip(DETAIL_COLUMNS, cells, strict=False))
            try:
                amounts = {
                    k: yuan_to_fen(Decimal(row[k] or "0"), k)
                    for k in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")
                }
            except (MoneyError, ArithmeticError) as exc:
                raise InputError(at, f"金额须为最多2位小数的数字：{exc}") from exc
            flag = row["refd_setl_flag"] or "0"
            if flag not in ("0", "1"):
                raise InputError(at, f"refd_setl_flag 须为0或1，收到 {flag!r}")
            out.append(
                DetailRow(
                    setl_id=row["setl_id"],
                    mdtrt_id=row["mdtrt_id"],
                    psn_no=row["psn_no"],
                    medfee_sumamt=amounts["medfee_sumamt"],
                    fund_pay_sumamt=amounts["fund_pay_sumamt"],
                    acct_pay=amounts["acct_pay"],
                    refd_setl_flag=flag,
                )
            )
    return out


@transaction("3202", "医药机构费用结算对明细账")
def details(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    optins = fields.text(data, "setl_optins", w, required=True, max_len=6, label="结算经办机构")
    qury_no = fields.text(data, "file_qury_no", w, required=True, max_len=30, label="文件查询号")
    begn, end = _period(data, w)
    clr_type = fields.code(data, "clr_type", w, "clr_type") or None
    f = files.fetch(ctx.conn, qury_no)
    if f is None or f.fixmedins_code != ctx.institution.fixmedins_code:
        raise BusinessError(f"{w}.file_qury_no: 文件查询号 {qury_no} 不存在（请先用【9101】上传）")
    rows = _rows(f.content, f"{w}.file_qury_no")
    mine = totals_of(rows)
    for name, value in (
        ("medfee_sumamt", fields.amount(data, "medfee_sumamt", w)),
        ("fund_pay_sumamt", fields.amount(data, "fund_pay_sumamt", w)),
    ):
        if data.get(name) not in (None, "") and value != getattr(mine, name):
            raise InputError(f"{w}.{name}", "与上传明细文件的合计不一致")
    if data.get("fixmedins_setl_cnt") not in (None, "") and _count(data, w) != len(rows):
        raise InputError(f"{w}.fixmedins_setl_cnt", f"与上传明细文件的行数 {len(rows)} 不一致")
    results = encounters.reconcile_details(
        ctx.conn,
        fixmedins_code=ctx.institution.fixmedins_code,
        setl_optins=optins,
        begndate=begn,
        enddate=end,
        rows=rows,
        clr_type=clr_type,
        refd_setl_flag=_refd(data, w),
    )
    content = make_tab_zip(
        {"result.txt": [[getattr(r, c) for c in RESULT_COLUMNS] for r in results]}
    )
    out = files.save(
        ctx.conn,
        fixmedins_code=ctx.institution.fixmedins_code,
        admdvs=ctx.institution.admdvs,
        filename=f"3202_{qury_no}_result.zip",
        content=content,
        kind="download",
        now=ctx.now,
    )
    return {
        "fileinfo": {
            "file_qury_no": out.file_qury_no,
            "filename": out.filename,
            "dld_endtime": files.china_time(out.dld_endtime),
        }
    }
