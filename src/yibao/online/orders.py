"""Mobile-payment orders (移动支付订单): 6201 费用明细上传, 6401 撤销, 6301 结果查询.

6201 does on the institution's behalf what its HIS does at the counter, through the same core:
2201 挂号 (when ``mdtrtId`` is empty, :func:`yibao.checkout.admission.register_visit`), 2203 就诊信息,
2204 费用明细 (:func:`yibao.checkout.fees.upload_fees`) and 2206 预结算
(:func:`yibao.checkout.settle_visit.price_visit`), all in one transaction; the order keeps the
pre-settled split (what the patient will be asked to agree to) in state 1 预结算完成.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from yibao.checkout.admission import RegisterVisit, register_visit
from yibao.checkout.fees import UploadFees, upload_fees
from yibao.checkout.settle_visit import VisitBill, price_visit
from yibao.clock import CHINA
from yibao.encounter import flows as visit_flows
from yibao.encounter import model as enc_model
from yibao.encounter import service as encounters
from yibao.encounter.fees import FeeLine
from yibao.encounter.model import Encounter, EncounterError
from yibao.encounter.records import business_day
from yibao.online import core, store
from yibao.online.apps import App
from yibao.online.core import amount, code, moment, text
from yibao.online.model import FEE_TYPES, ORD_STAS_NAMES, OnlineError, OrdStas, Split, require_state
from yibao.voucher.presence import Presented

W = "data"
CASHIER_PATH = "/console/sim/phone"  # the training cashier (收银台) on the phone simulator


def new_pay_ord_id(now: datetime) -> str:
    return f"MP{now:%Y%m%d%H%M%S}{secrets.randbelow(10**10):010d}"


def _lines(rows: Any, chrg_bchno: str) -> tuple[FeeLine, ...]:
    if not isinstance(rows, list) or not rows:
        raise OnlineError(f"{W}.feedetailList", "必填，至少一条费用明细")
    out = []
    for i, row in enumerate(rows):
        w = f"{W}.feedetailList[{i}]"
        if not isinstance(row, dict):
            raise OnlineError(w, "须为对象")
        bch = text(row, "chrgBchno", w, max_len=30) or chrg_bchno
        if bch != chrg_bchno:
            raise OnlineError(f"{w}.chrgBchno", f"须与本次收费批次号 {chrg_bchno} 一致")
        out.append(
            FeeLine(
                feedetl_sn=text(row, "feedetlSn", w, required=True, max_len=30),
                med_list_codg=text(row, "medListCodg", w, required=True, max_len=50),
                medins_list_codg=text(row, "medinsListCodg", w, max_len=150),
                det_item_fee_sumamt=amount(row, "detItemFeeSumamt", w),
                cnt=core.number(row, "cnt", w, 4),
                pric=core.number(row, "pric", w, 6),
                chrg_bchno=chrg_bchno,
                fee_ocur_time=moment(row, "feeOcurTime", w, required=False),
                extra={
                    k: str(row[k]) for k in ("rxno", "rxCircFlag", "hospApprFlag") if row.get(k)
                },
            )
        )
    return tuple(out)


def upload(
    conn: sa.Connection, app: App, data: dict[str, Any], now: datetime, base_url: str = ""
) -> dict[str, Any]:
    """6201 费用明细上传: register (if needed), visit info, fees, pre-settle; a new order."""
    if text(data, "orgCodg", W, required=True) != app.fixmedins_code:
        raise OnlineError(f"{W}.orgCodg", "须为本应用所属的定点医药机构编号")
    caller = core.caller_of(conn, app.fixmedins_code)
    med_org_ord = text(data, "medOrgOrd", W, required=True)
    psn_no = text(data, "psnNo", W, required=True, max_len=30)
    insutype = text(data, "insutype", W, required=True, max_len=6)
    med_type = text(data, "medType", W, required=True, max_len=6)
    fee_type = code(data, "feeType", W, FEE_TYPES)
    begntime = moment(data, "begntime", W)
    assert begntime is not None
    chrg_bchno = text(data, "chrgBchno", W, required=True, max_len=30)
    acct = code(data, "acctUsedFlag", W, ("0", "1"))
    setlway = code(data, "psnSetlway", W, ("01", "02"), default="01")
    sumamt = amount(data, "medfeeSumamt", W)
    ec_token = text(data, "ecToken", W, required=True, max_len=64)
    presented = Presented("01", ec_token, psn_name=text(data, "userName", W, required=True),
                          certno=text(data, "idNo", W, required=True))  # fmt: skip
    dise_codg = text(data, "diseCodg", W, required=True, max_len=30)
    lines = _lines(data.get("feedetailList"), chrg_bchno)
    mdtrt_id = text(data, "mdtrtId", W, max_len=30)
    registered = not mdtrt_id
    pay_ord_id = new_pay_ord_id(now)
    with core.refused():
        if not mdtrt_id:
            enc = core.run_flow(conn, register_visit(RegisterVisit(
                caller, psn_no=psn_no, insutype=insutype, begntime=begntime,
                ipt_otp_no=text(data, "iptOtpNo", W, required=True, max_len=30),
                insuplc_admdvs=text(data, "insuCode", W, max_len=6), msgid=f"{pay_ord_id}G",
                info={"reg": {"source": "6201", "deptName": text(data, "deptName", W, max_len=100),
                              "caty": text(data, "caty", W, max_len=6)}},
                presented=presented)))  # fmt: skip
            mdtrt_id = enc.mdtrt_id
            core.run_flow(conn, visit_flows.upload_visit_info(
                mdtrt_id, psn_no=psn_no, fixmedins_code=caller.fixmedins_code, med_type=med_type,
                dise_codg=dise_codg, dise_name=text(data, "diseName", W, max_len=300),
                begntime=begntime, info={"mdtrtinfo": {"source": "6201"},
                                         "diseinfo": data.get("diseinfoList") or []}))  # fmt: skip

        def step(enc: Encounter, count: int) -> Encounter:
            return enc_model.upload_fee_batch(enc, chrg_bchno, count)

        core.run_flow(conn, upload_fees(UploadFees(
            caller, mdtrt_id, psn_no, lines, f"{pay_ord_id}F", now), step))  # fmt: skip
        bill = VisitBill(mdtrt_id, psn_no, med_type, insutype, acct, setlway, chrg_bchno, "",
                         presented=presented)  # fmt: skip
        priced = core.run_flow(conn, price_visit(caller, bill, now))
    split = Split.of_setlinfo(dict(priced.setlinfo))
    if split.fee_sumamt != sumamt:
        raise OnlineError(f"{W}.medfeeSumamt", f"与明细合计 {core.yuan(split.fee_sumamt)} 元不符")
    pay_token = secrets.token_hex(16)
    try:
        with conn.begin_nested():
            conn.execute(store.order.insert().values(
                pay_ord_id=pay_ord_id, app_id=app.app_id, fixmedins_code=app.fixmedins_code,
                med_org_ord=med_org_ord, pay_token=pay_token, psn_no=psn_no, insutype=insutype,
                med_type=med_type, fee_type=fee_type, mdtrt_id=mdtrt_id, chrg_bchno=chrg_bchno,
                acct_used_flag=acct, psn_setlway=setlway, ord_stas=int(OrdStas.PRICED),
                split=split.as_json(), registered=registered, settle_msgid=f"{pay_ord_id}S",
                business_day=business_day(now)))  # fmt: skip
    except sa.exc.IntegrityError:
        raise OnlineError(f"{W}.medOrgOrd", "院内订单号已上传过（一笔订单只上传一次）") from None
    events(
        conn,
        pay_ord_id,
        ("upload", OrdStas.SAVED),
        ("presettle", OrdStas.PRICED),
        split=split.as_json(),
    )
    return {
        "payOrdId": pay_ord_id,
        "payToken": pay_token,
        "cashierUrl": f"{base_url}{CASHIER_PATH}?payOrdId={pay_ord_id}",
        "extData": {"mdtrtId": mdtrt_id, **amounts(split)},
    }


def events(conn: sa.Connection, ref: str, *steps: tuple[str, OrdStas], **detail: Any) -> None:
    """Order events (订单流水), in the caller's transaction."""
    conn.execute(
        store.event.insert(),
        [{"ref": ref, "kind": k, "state": str(int(s)), "detail": detail} for k, s in steps],
    )


def amounts(split: Split) -> dict[str, Any]:
    return {
        "feeSumamt": core.yuan(split.fee_sumamt),
        "ownPayAmt": core.yuan(split.own_pay_amt),
        "psnAcctPay": core.yuan(split.psn_acct_pay),
        "fundPay": core.yuan(split.fund_pay),
    }


def order_of(
    conn: sa.Connection, app: App, data: dict[str, Any], *, lock: bool = False
) -> dict[str, Any]:
    """The order named by ``payOrdId`` (+ ``payToken`` when sent), of this app's institution."""
    pay_ord_id = text(data, "payOrdId", W, required=True)
    row = store.get_order(conn, pay_ord_id, lock=lock)
    if row is None or row["fixmedins_code"] != app.fixmedins_code:
        raise OnlineError(f"{W}.payOrdId", "订单不存在")
    token = text(data, "payToken", W)
    if token and token != row["pay_token"]:
        raise OnlineError(f"{W}.payToken", "与费用上传时返回的 payToken 不一致")
    return row


def cancel_upload(
    conn: sa.Connection, app: App, data: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """6401 费用明细上传撤销: only an unsettled order; the core runs 2205 (and 2202 for a visit
    the centre registered)."""
    row = order_of(conn, app, data, lock=True)
    text(data, "payToken", W, required=True)
    stas = OrdStas(row["ord_stas"])
    require_state(stas, {OrdStas.SAVED, OrdStas.PRICED}, "撤销费用明细")
    try:
        encounters.remove_fee_batch(conn, row["mdtrt_id"], psn_no=row["psn_no"],
                                    fixmedins_code=row["fixmedins_code"], chrg_bchno=row["chrg_bchno"])  # fmt: skip
        if row["registered"]:  # the centre opened the visit: 2202 as well
            encounters.cancel_registration(conn, row["mdtrt_id"], psn_no=row["psn_no"],
                                           fixmedins_code=row["fixmedins_code"])  # fmt: skip
    except EncounterError as exc:
        raise OnlineError("core", exc.err_msg) from exc
    conn.execute(
        store.order.update()
        .where(store.order.c.pay_ord_id == row["pay_ord_id"])
        .values(ord_stas=int(OrdStas.CANCELLED), version=row["version"] + 1, updated_at=now)
    )
    events(conn, row["pay_ord_id"], ("cancel", OrdStas.CANCELLED))
    return {"success": True, "message": "费用明细已撤销"}


def query(conn: sa.Connection, app: App, data: dict[str, Any], org_name: str) -> dict[str, Any]:
    """6301 医保订单结算结果查询."""
    row = order_of(conn, app, data)
    for name in ("payToken", "idNo", "userName", "idType"):
        text(data, name, W, required=True, max_len=40)
    return result_of(row, org_name)


def result_of(row: dict[str, Any], org_name: str) -> dict[str, Any]:
    """The 6301 answer / 6302 callback body of an order."""
    split = Split.of_json(row["split"])
    stas = OrdStas(row["ord_stas"])
    traced = row["traced_at"]
    return {
        "ordStas": str(int(stas)),
        "ordStasName": ORD_STAS_NAMES[stas],
        "payOrdId": row["pay_ord_id"],
        "callType": "2",
        "medOrgOrd": row["med_org_ord"],
        "traceTime": traced.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S") if traced else "",
        "orgCodg": row["fixmedins_code"],
        "orgName": org_name,
        "setlType": "ALL" if split.own_pay_amt and (split.fund_pay or split.psn_acct_pay)
        else ("CASH" if split.own_pay_amt else "HI"),
        **amounts(split),
        "revsToken": "",
        "extData": {"setlId": row["setl_id"], "mdtrtId": row["mdtrt_id"],
                    "cancelSetlId": row["cancel_setl_id"],
                    "cashPaid": core.yuan(row["cash_paid"]),
                    "cashRefunded": core.yuan(row["cash_refunded"])},
    }  # fmt: skip
