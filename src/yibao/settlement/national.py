"""A settlement result in the national interface's field names (2207 ``setlinfo``/``setldetail``,
2204 ``result``/2101 ``detlcutinfo``): amounts as 2-decimal yuan strings, ratios with 4 decimals.
The trace is :func:`yibao.settlement.trace.to_json`."""

from __future__ import annotations

from typing import Any

from yibao.money import fen_str
from yibao.settlement.model import SETLINFO_AMOUNTS, SettlementResult
from yibao.settlement.trace import to_json


def setlinfo(result: SettlementResult) -> dict[str, Any]:
    """``setlinfo`` amounts and codes of one settlement."""
    s = result.setlinfo
    out: dict[str, Any] = {n: fen_str(getattr(s, n)) for n in SETLINFO_AMOUNTS}
    out["pool_prop_selfpay"] = f"{s.pool_prop_selfpay:.4f}"
    out.update(
        med_type=s.med_type,
        insutype=s.insutype,
        psn_type=s.psn_type,
        cvlserv_flag=s.cvlserv_flag,
        clr_type=s.clr_type,
        clr_optins=result.admdvs,
    )
    return out


def setldetail(result: SettlementResult) -> list[dict[str, Any]]:
    """One row per fund (结算基金分项)."""
    return [
        {
            "fund_pay_type": d.fund_pay_type,
            "fund_pay_type_name": d.fund_pay_type_name,
            "inscp_scp_amt": fen_str(d.inscp_scp_amt),
            "crt_payb_lmt_amt": fen_str(d.crt_payb_lmt_amt),
            "fund_payamt": fen_str(d.fund_payamt),
            "setl_proc_info": d.setl_proc_info,
        }
        for d in result.setldetail
    ]


def item_split(result: SettlementResult) -> list[dict[str, Any]]:
    """The per-line split (明细分割) with the 2204 ``result`` field names."""
    return [
        {
            "feedetl_sn": i.feedetl_sn,
            "det_item_fee_sumamt": fen_str(i.det_item_fee_sumamt),
            "cnt": str(i.cnt),
            "pric": str(i.pric),
            "pric_uplmt_amt": "" if i.pric_uplmt_amt is None else fen_str(i.pric_uplmt_amt),
            "selfpay_prop": f"{i.selfpay_prop:.4f}",
            "fulamt_ownpay_amt": fen_str(i.fulamt_ownpay_amt),
            "overlmt_amt": fen_str(i.overlmt_amt),
            "preselfpay_amt": fen_str(i.preselfpay_amt),
            "inscp_scp_amt": fen_str(i.inscp_scp_amt),
            "chrgitm_lv": i.chrgitm_lv,
            "med_chrgitm_type": i.med_chrgitm_type,
            "lmt_used_flag": i.lmt_used_flag,
            "hi_nego_drug_flag": i.hi_nego_drug_flag,
            "memo": i.memo,
        }
        for i in result.items
    ]


def to_national(result: SettlementResult, with_trace: bool = False) -> dict[str, Any]:
    """``{"setlinfo", "setldetail", "result"}`` (+ ``"trace"``) for one settlement."""
    out: dict[str, Any] = {
        "setlinfo": setlinfo(result),
        "setldetail": setldetail(result),
        "result": item_split(result),
    }
    if with_trace:
        out["trace"] = to_json(result)
    return out
