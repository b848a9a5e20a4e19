"""医疗保障基金结算清单 4101 上传 / 4102 状态修改 / 4103 查询 / 4104 质控结果 (payment-reform.md §2).

Thin over :mod:`yibao.payment.service_lists`: a list that breaks a named rule is an
:class:`InputError` (``input.diseinfo[1].maindiag_flag: [SL09 主诊断与主手术唯一] …``, nothing
written); a refusal about the stored state (no such settlement, a submitted list) is a
:class:`BusinessError`. Amounts leave as 2-decimal yuan.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import BusinessError, Context, transaction
from yibao.api.nhsa.fields import InputError
from yibao.clock import CHINA
from yibao.money import fen_to_yuan
from yibao.payment import service_lists as lists
from yibao.payment.errors import PaymentInputError, PaymentRefused

T = TypeVar("T")


def run(call: Callable[[], T]) -> T:
    """Map the payment service's errors onto the gateway's (shared with handlers/drg.py)."""
    try:
        return call()
    except PaymentInputError as exc:
        raise InputError(exc.path, exc.message) from None
    except PaymentRefused as exc:
        raise BusinessError(exc.message) from None


@transaction("4101", "医疗保障基金结算清单信息上传")
def upload(ctx: Context) -> dict[str, Any]:
    list_id, warnings = run(
        lambda: lists.upload(ctx.conn, ctx.institution, ctx.input, msgid=ctx.msgid, now=ctx.now)
    )
    for w in warnings:
        ctx.warn(w)
    return {"setl_list_id": list_id}


@transaction("4102", "医疗保障基金结算清单信息状态修改")
def change_status(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    raw = fields.rows(data, "stastinfo")
    rows = []
    for i, r in enumerate(raw):
        w = f"input.data.stastinfo[{i}]"
        setl_id = fields.text(r, "setl_id", w, required=True, max_len=30, label="结算ID")
        stas = fields.text(r, "stas_type", w, required=True, max_len=10, label="审核状态")
        rows.append((fields.text(r, "psn_no", w, max_len=30), setl_id, stas))
    run(
        lambda: lists.change_status(
            ctx.conn, ctx.institution.fixmedins_code, rows, msgid=ctx.msgid, now=ctx.now
        )
    )
    return {}


def _yuan(v: Any) -> Decimal:
    return fen_to_yuan(int(v or 0))


def _setlinfo(found: dict[str, Any], inst_name: str) -> dict[str, Any]:
    lst, s, p = found["list"], found["settlement"], found["person"]
    given = dict(found["list"]["content"]["input"].get("setlinfo") or {})
    info = dict(s["setlinfo"] or {})
    grp = lst["grp_result"] or {}
    renames = {
        "adm_way": "adm_way_code",
        "refldept_dept": "refl_caty",
        "poscode": "emp_poscode",
        "adm_dept_code": "adm_dept_codg",
        "dscg_dept_code": "dscg_dept_codg",
        "wm_dise_code": "otp_wm_diag_dise_code",
        "tcm_dise_code": "otp_tcm_diag_dise_code",
        "opsp_mdtrt_date": "opsp_mdtrt_time",
    }
    ownpay = int(info.get("fulamt_ownpay_amt") or 0) + int(info.get("overlmt_selfpay") or 0)
    out: dict[str, Any] = {str(renames.get(k, k)): v for k, v in given.items()}
    out.update(
        setl_list_sn=lst["setl_list_id"],
        fixmedins_code=lst["fixmedins_code"],
        fixmedins_name=inst_name,
        psn_name=p["psn_name"],
        gend=p["gend"],
        brdy=p["brdy"],
        certno=p["certno"],  # masked (证件号码脱敏): the institution has the full number
        patn_cert_type=p["psn_cert_type"],
        naty=p.get("naty", ""),
        insutype=s["insutype"],
        stas_type=lst["state"],
        diag_code_cnt=len(lst["content"]["input"].get("diseinfo") or []),
        oprn_oprt_code_cnt=len(lst["content"]["input"].get("oprninfo") or []),
        act_ipt_days=lst["content"].get("stay_days", 0),
        psn_selfpay=_yuan(int(info.get("psn_part_amt") or 0) - ownpay),
        psn_ownpay=_yuan(ownpay),
        acct_pay=_yuan(info.get("acct_pay")),
        psn_cashpay=_yuan(info.get("psn_cash_pay")),
        ybtcPay=_yuan(info.get("hifp_pay")),
        setl_time=f"{s['setl_time'].astimezone(CHINA):%Y-%m-%d %H:%M:%S}",
    )
    if grp.get("method") == "dip":
        out.update(dipDiseGrpCode=grp.get("code", ""), dipDiseGrpName=grp.get("name", ""))
    return out


@transaction("4103", "医疗保障基金结算清单信息查询")
def query(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    psn_no = fields.text(data, "psn_no", w, required=True, max_len=30, label="人员编号")
    setl_id = fields.text(data, "setl_id", w, required=True, max_len=30, label="结算ID")
    found = run(lambda: lists.query(ctx.conn, ctx.institution.fixmedins_code, psn_no, setl_id))
    given = found["list"]["content"]["input"]
    s = found["settlement"]
    ids = {"setl_id": setl_id, "psn_no": psn_no, "mdtrt_id": s["mdtrt_id"]}
    return {
        "setlinfo": _setlinfo(found, ctx.institution.fixmedins_name),
        "payinfo": [
            {
                **ids,
                "fund_pay_type": d.get("fund_pay_type"),
                "poolarea_fund_pay_type": d.get("fund_pay_type"),
                "fund_payamt": _yuan(d.get("fund_payamt")),
            }
            for d in s["setldetail"] or []
        ],
        "diseinfo": [
            {**ids, "setl_list_diag_id": f"{setl_id}-D{i + 1}", **r}
            for i, r in enumerate(given.get("diseinfo") or [])
        ],
        "oprninfo": [
            {
                **ids,
                "setl_list_oprn_id": f"{setl_id}-O{i + 1}",
                "main_oprn_flag": "1" if r.get("oprn_oprt_type") == "1" else "0",
                **r,
            }
            for i, r in enumerate(given.get("oprninfo") or [])
        ],
        "icuinfo": [
            {**ids, "setl_list_scs_cutd_id": f"{setl_id}-I{i + 1}", **r}
            for i, r in enumerate(given.get("icuinfo") or [])
        ],
        "iteminfo": [
            {
                **ids,
                "med_chrgitm_type": it["med_chrgitm_type"],
                "item_sumamt": _yuan(it["item_sumamt"]),
                "item_claa_sumfee": _yuan(it["claa"]),
                "item_clab_amt": _yuan(it["clab"]),
                "item_fulamt_ownpay_amt": _yuan(it["fulamt"]),
                "item_ownpay_amt": _yuan(it["other"]),
            }
            for it in found["items"]
        ],
        "bldinfo": [{**ids, **r} for r in given.get("bldinfo") or []],
        "opspdiseinfo": [{**ids, **r} for r in given.get("opspdiseinfo") or []],
    }


def page(
    data: dict[str, Any], w: str, num: str = "page_num", size: str = "page_size"
) -> tuple[int, int]:
    n = int(fields.number(data, num, w, places=0, required=True, minimum=Decimal(1)))
    s = int(fields.number(data, size, w, places=0, required=True, minimum=Decimal(1)))
    if s > 1000:
        raise InputError(f"{w}.{size}", "每页条数不能超过1000")
    return n, s


def month(data: dict[str, Any], w: str) -> str:
    ym = fields.text(data, "setl_ym", w, required=True, max_len=6, label="结算年月")
    if len(ym) != 6 or not ym.isdigit() or not 1 <= int(ym[4:]) <= 12:
        raise InputError(f"{w}.setl_ym", f"结算年月格式须为 yyyyMM，收到 {ym!r}")
    return ym


def qc_row(r: dict[str, Any], inst_name: str, detail_key: str) -> dict[str, Any]:
    p = r["person"]
    return {
        "fixmedins_code": r["fixmedins_code"],
        "fixmedins_name": inst_name,
        "setl_ym": r["setl_ym"],
        "setl_id": r["setl_id"],
        "psn_no": r["psn_no"],
        "psn_name": p["psn_name"],
        "psn_cert_type": p["psn_cert_type"],
        "cert_no": p["certno"],
        "qltctrl_rslt": r["qc_result"],
        "err_lv": r["qc_err_lv"],
        "retn_flag": r["qc_retn_flag"],
        "qltctrl_ver": r["qc_version"],
        "grp_stas": "1" if r["grp_status"] == "1" else "0",
        "qltctrl_time": f"{r['qc_time'].astimezone(CHINA):%Y-%m-%d %H:%M:%S}",
        detail_key: [
            {
                k: f[k]
                for k in ("exam_data_fld", "qltctrl_chk_rslt", "err_lv", "retn_flag", "init_val")
            }
            for f in r["qc_findings"]
        ],
    }


@transaction("4104", "结算清单质控结果查询")
def qc_results(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    ym = month(data, w)
    n, size = page(data, w)
    err_lv = fields.text(data, "err_lv", w, max_len=3)
    retn = fields.text(data, "retn_flag", w, max_len=3)
    rows = lists.lists(
        ctx.conn,
        ctx.institution.fixmedins_code,
        setl_ym=ym,
        setl_id=fields.text(data, "setl_id", w, max_len=30),
        psn_no=fields.text(data, "psn_no", w, max_len=30),
        page_num=n,
        page_size=size,
    )
    out = [qc_row(r, ctx.institution.fixmedins_name, "detailinfo") for r in rows]
    keep = [o for o in out if (not err_lv or o["err_lv"] == err_lv)]
    return {"data": [o for o in keep if not retn or o["retn_flag"] == retn]}
