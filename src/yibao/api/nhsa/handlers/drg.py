"""DRG/DIP transactions (payment-reform.md §3, §4): 特病单议 3601–3604, grouping 3605/3606, QC 3607.

- 3601 特病单议申请退出列表查询, 3602 退出申请保存, 3603 修改/撤销 (``vali_flag=0``), 3604 审核意见
  和预结算基金分项查询 — thin over :mod:`yibao.payment.service_special`; the expert review itself
  is in the console.
- 3605 DRG分组结果查询 / 3606 DIP分组结果查询 / 3607 结算清单质控结果查询 — the results kept
  with each list at 4101, paged by settlement month.

``appy_exit_type``/``exit_type`` (dictionary EXIT_TYPE NOT FOUND): 1 按项目付费, 2 提高支付标准.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import Context, transaction
from yibao.api.nhsa.fields import InputError
from yibao.api.nhsa.handlers.settlement_list import month, page, qc_row, run
from yibao.clock import CHINA
from yibao.money import fen_to_yuan
from yibao.payment import service_lists as lists
from yibao.payment import service_special as special
from yibao.payment.model.special import STATE_LABELS, WITHDRAWN


def _time(v: Any) -> str:
    return f"{v.astimezone(CHINA):%Y-%m-%d %H:%M:%S}" if v is not None else ""


def _items(data: dict[str, Any], w: str) -> list[dict[str, Any]]:
    out = []
    for key in ("drgAppySpcasItemDTOList", "drgappyspcasitemdtolist"):
        if data.get(key):
            raw = data[key]
            if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
                raise InputError(f"{w}.{key}", "申请项目须为JSON对象数组")
            for i, r in enumerate(raw):
                at = f"{w}.{key}[{i}]"
                out.append(
                    {
                        "hilistCode": fields.text(r, "hilistCode", at, max_len=50),
                        "hilistName": fields.text(r, "hilistName", at, max_len=200),
                        "cnt": str(fields.number(r, "cnt", at, places=4)),
                        "pric": str(fields.number(r, "pric", at, places=6)),
                        "detItemFeeSumamt": str(
                            fen_to_yuan(fields.amount(r, "detItemFeeSumamt", at))
                        ),
                        "exitDetlItemFeeSumamt": str(
                            fen_to_yuan(fields.amount(r, "exitDetlItemFeeSumamt", at))
                        ),
                    }
                )
    return out


def _units(data: dict[str, Any], w: str) -> Decimal:
    for key in ("spcas_exit_wt", "SPCAS_EXIT_WT", "spcas_exit_sco", "spcasExitSco", "spcasExitWt"):
        if data.get(key) not in (None, ""):
            return fields.number(data, key, w, places=6, minimum=Decimal(0))
    return Decimal(0)


def _exit_type(data: dict[str, Any], w: str) -> str:
    return fields.text(data, "appy_exit_type", w, max_len=50) or fields.text(
        data, "exit_type", w, max_len=3
    )


@transaction("3602", "特病单议退出申请保存")
def apply(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    setl_id = fields.text(data, "setl_id", w, required=True, max_len=30, label="结算ID")
    appy_id = run(
        lambda: special.submit(
            ctx.conn,
            ctx.institution.fixmedins_code,
            setl_id=setl_id,
            exit_type=_exit_type(data, w),
            reason=fields.text(data, "exit_rea", w, max_len=200),
            units=_units(data, w),
            deducted=0,
            items=_items(data, w),
            memo=fields.text(data, "memo", w, max_len=1000),
            msgid=ctx.msgid,
        )
    )
    return {"code": "0", "message": "成功", "type": "", "appy_chk_setl_list_id": appy_id}


@transaction("3603", "特病单议退出申请修改/撤销")
def change(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    appy_id = fields.text(data, "appy_chk_setl_list_id", w, required=True, max_len=50)
    vali = fields.text(data, "vali_flag", w, max_len=30) or "1"
    if vali not in ("0", "1"):
        raise InputError(f"{w}.vali_flag", "有效标志须为 0 无效(撤销) 或 1 有效")
    changes = {
        "reason": fields.text(data, "exit_rea", w, max_len=200) or None,
        "exit_type": _exit_type(data, w) or None,
        "requested_units": _units(data, w) or None,
        "items": _items(data, w) or None,
        "memo": fields.text(data, "memo", w, max_len=1000) or None,
    }
    if changes["exit_type"] not in (None, "1", "2"):
        raise InputError(f"{w}.appy_exit_type", "退出类型须为 1 按项目付费 或 2 提高支付标准")
    run(
        lambda: special.change(
            ctx.conn,
            ctx.institution.fixmedins_code,
            appy_id,
            withdraw=vali == "0",
            values=changes,
        )
    )
    return {"code": "0", "message": "成功", "type": ""}


def _filters(ctx: Context, data: dict[str, Any], w: str) -> dict[str, Any]:
    return {
        "fixmedins_code": ctx.institution.fixmedins_code,
        "setl_id": fields.text(data, "setl_id", w, max_len=30) or None,
        "psn_no": fields.text(data, "psn_no", w, max_len=30) or None,
        "appy_id": fields.text(data, "appy_chk_setl_list_id", w, max_len=50) or None,
    }


def _app_row(r: dict[str, Any], inst_name: str) -> dict[str, Any]:
    case = r.get("case") or {}
    return {
        "appy_chk_setl_list_id": r["appy_id"],
        "setl_id": r["setl_id"],
        "psn_no": r["psn_no"],
        "mdtrt_id": r["mdtrt_id"],
        "fixmedins_code": r["fixmedins_code"],
        "fixmedins_name": inst_name,
        "appy_exit_type": r["exit_type"],
        "exit_type": r["exit_type"],
        "exit_rea": r["reason"],
        "drg_codg": case.get("grp_code", ""),
        "pay_std_amt": fen_to_yuan(int(case.get("value") or 0)),
        "spcasExitWt": str(r["requested_units"]),
        "vali_flag": "0" if r["state"] == WITHDRAWN else "1",
        "chk_stas": r["state"],
        "chk_stas_name": STATE_LABELS[r["state"]],
        "memo": r["memo"],
        "crte_time": _time(r["created_at"]),
        "drg_admdvs": r["admdvs"],
    }


@transaction("3601", "特病单议申请退出列表查询")
def list_applications(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    n, size = page(data, w, "pageNum", "pageSize")
    filters = _filters(ctx, data, w)
    rows = special.search(ctx.conn, **filters, limit=size, offset=(n - 1) * size)
    return {"data": [_app_row(r, ctx.institution.fixmedins_name) for r in rows]}


@transaction("3604", "特病单议申请审核意见和预结算基金分项查询")
def opinions(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    filters = _filters(ctx, data, w)
    if not any(filters[k] for k in ("setl_id", "psn_no", "appy_id")):
        raise InputError(w, "appy_chk_setl_list_id、setl_id、psn_no 至少填写一项")
    rows = special.search(ctx.conn, **filters)
    pre, ops = [], []
    for r in rows:
        p = special.preview(ctx.conn, r)
        if p:
            pre.append(
                {
                    "setl_id": r["setl_id"],
                    "psn_no": r["psn_no"],
                    "mdtrt_id": r["mdtrt_id"],
                    "appy_chk_setl_list_id": r["appy_id"],
                    "fund_pay_type": p["fund_pay_type"],
                    "drg_fund_payamt": fen_to_yuan(p["group_fund_due"]),
                    "exit_fund_payamt": fen_to_yuan(p["exit_fund_due"]),
                    "fund_payamt": fen_to_yuan(
                        p["exit_fund_due"] if r["state"] == "approved" else p["group_fund_due"]
                    ),
                    "exit_type": r["exit_type"],
                    "exit_rea": r["reason"],
                    "vali_flag": "0" if r["state"] == WITHDRAWN else "1",
                }
            )
        for i, o in enumerate(r["opinions"], start=1):
            ops.append(
                {
                    "appy_chk_setl_list_opnn_id": f"{r['appy_id']}-{i}",
                    "appy_chk_setl_list_id": r["appy_id"],
                    "setl_id": r["setl_id"],
                    "psn_no": r["psn_no"],
                    "drg_dip_exit_opnn_type": "1" if o["approve"] else "0",
                    "opnn": o["opinion"],
                    "opnn_time": _time(o["at"])[:10],
                    "opnn_exit_type": r["exit_type"],
                    "opnn_resper_name": o["reviewer_name"],
                    "opnn_resper_id": o["reviewer"],
                    "drg_admdvs": r["admdvs"],
                    "vali_flag": "1",
                }
            )
    return {"preSetl_invy_evt_list": pre, "appy_chk_opnn_evt_list": ops}


def _month_rows(ctx: Context) -> tuple[str, list[dict[str, Any]]]:
    data = ctx.node("data")
    w = "input.data"
    ym = month(data, w)
    n, size = page(data, w)
    rows = lists.lists(
        ctx.conn,
        ctx.institution.fixmedins_code,
        setl_ym=ym,
        setl_id=fields.text(data, "setl_id", w, max_len=30),
        page_num=n,
        page_size=size,
    )
    return ym, rows


@transaction("3605", "DRG分组结果查询")
def drg_results(ctx: Context) -> dict[str, Any]:
    ym, rows = _month_rows(ctx)
    out = []
    for r in rows:
        g = r["grp_result"] or {}
        if g.get("method") != "drg":
            continue
        out.append(
            {
                "setl_id": r["setl_id"],
                "psn_no": r["psn_no"],
                "setl_ym": ym,
                "fixmedins_code": r["fixmedins_code"],
                "drg_code": g.get("code", ""),
                "drg_name": g.get("name", ""),
                "adrg_code": g.get("adrg", ""),
                "adrg_name": g.get("adrg_name", ""),
                "mdc_codg": g.get("mdc", ""),
                "mdc_name": g.get("mdc_name", ""),
                "ccmcc": g.get("cc_code", ""),
                "grp_rslt": g.get("status", ""),
                "err_info": "" if g.get("status") == "1" else g.get("status_label", ""),
                "grp_name": g.get("name", ""),
                "grp_ver": g.get("scheme", ""),
                "place_grp_ver": g.get("version", ""),
                "place_drg_codg": g.get("code", ""),
                "place_drg_name": g.get("name", ""),
                "drg_admdvs": ctx.institution.admdvs,
                "setl_list_sn": r["setl_list_id"],
                "grp_time": _time(r["grp_time"])[:10],
                "vali_flag": "1",
            }
        )
    return {"data": out}


@transaction("3606", "DIP分组结果查询")
def dip_results(ctx: Context) -> dict[str, Any]:
    _, rows = _month_rows(ctx)
    out = []
    for r in rows:
        g = r["grp_result"] or {}
        if g.get("method") != "dip":
            continue
        ok = g.get("status") == "1"
        out.append(
            {
                "setl_id": r["setl_id"],
                "psn_no": r["psn_no"],
                "psn_name": r["person"]["psn_name"],
                "setl_time": str(r["setl_date"]),
                "clr_optins": ctx.institution.admdvs,
                "fixmedins_code": r["fixmedins_code"],
                "fixmedins_name": ctx.institution.fixmedins_name,
                "nuld_flag": "0",
                "grp_stas": "1" if ok else "0",
                "grp_stas_name": "成功" if ok else "不成功",
                "dip_dise_grp_code": g.get("code", ""),
                "dip_dise_grp_name": g.get("name", ""),
                "grp_diag_code": g.get("grp_diag_code", ""),
                "oprn_grp_code": g.get("oprn_grp_code", ""),
                "dise_list_type": g.get("kind", ""),
                "grp_dise_sco": g.get("units", ""),
                "remarks": "" if ok else g.get("status_label", ""),
            }
        )
    return {"data": out}


@transaction("3607", "结算清单质控结果查询")
def qc(ctx: Context) -> dict[str, Any]:
    _, rows = _month_rows(ctx)
    return {"data": [qc_row(r, ctx.institution.fixmedins_name, "detl_list") for r in rows]}
