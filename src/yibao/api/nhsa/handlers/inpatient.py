"""住院 2401–2405 入院/出院, 2301/2302 费用明细, 2303/2304/2305 结算 (nhsa-interface.md §2.7–§2.8).

2401 入院 → 2301 费用明细 (2302 撤销) → 2402 出院 (2405 撤销, 2404 入院撤销) → 2303 预结算 →
2304 结算 (``mid_setl_flag=1``: 中途结算 while the patient stays) → 2305 撤销 (a new negative
settlement). The stay's state machine is the encounter capability's; the money is checkout's.
"""

from __future__ import annotations

from typing import Any

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import Context, Request, transaction
from yibao.api.nhsa.fields import InputError
from yibao.api.nhsa.handlers import _across as gateway_relay
from yibao.api.nhsa.handlers import _presence
from yibao.api.nhsa.handlers import _settle_common as common
from yibao.api.nhsa.handlers.outpatient import visit
from yibao.checkout import bills as checkout
from yibao.checkout import fees as checkout_fees
from yibao.checkout import model as checkout_model
from yibao.checkout import settle_stay as checkout_stays
from yibao.checkout.admission import AdmitStay, admit_stay
from yibao.checkout.fees import UploadFees
from yibao.checkout.settle_stay import StayBill
from yibao.clock import CHINA
from yibao.db.flow import Flow
from yibao.encounter import model as enc_model
from yibao.encounter import service as encounters
from yibao.encounter.model import Encounter
from yibao.wire.envelope import Envelope


def _across_provinces(env: Envelope) -> bool:
    """跨省: the bill is split by the insured province through the hub (a plain handler)."""
    return gateway_relay.applies(env.insuplc_admdvs)


def _admit_across(ctx: Context) -> dict[str, Any]:
    info = ctx.node("mdtrtinfo")
    w = "input.mdtrtinfo"
    psn_no = fields.text(info, "psn_no", w, required=True, max_len=30, label="人员编号")
    insutype = fields.code(info, "insutype", w, "insutype", required=True)
    begntime = fields.moment(info, "begntime", w, required=True)
    assert begntime is not None
    fields.code(info, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    fields.text(info, "mdtrt_cert_no", w, required=True, max_len=600, label="就诊凭证编号")
    med_type = fields.code(info, "med_type", w, "med_type", required=True)
    ipt_no = fields.text(info, "ipt_no", w, required=True, max_len=30, label="住院号")
    _presence.require(ctx, info, w)  # 就诊凭证核验: the credential names this person (issue 10)
    dise = ctx.rows("diseinfo", required=False)
    region, person = gateway_relay.insured_region(
        ctx, info, psn_no=psn_no, insutype=insutype, on=begntime.date()
    )
    with common.refusals():
        enc = encounters.admit(
            ctx.conn,
            psn_no=psn_no,
            insutype=insutype,
            med_type=med_type,
            fixmedins_code=ctx.institution.fixmedins_code,
            insuplc_admdvs=region,
            mdtrtarea_admvs=ctx.institution.admdvs,
            begntime=begntime.replace(tzinfo=CHINA),
            ipt_no=ipt_no,
            msgid=ctx.msgid,
            dise_codg=_dise(info, w)[0],
            dise_name=_dise(info, w)[1],
            info={
                "mdtrtinfo": common.jsonable(info),
                "diseinfo": common.jsonable(dise),
                gateway_relay.PERSON_KEY: person,
            },
        )
    return {"result": {"mdtrt_id": enc.mdtrt_id, "exp_content": ""}}


def _dise(info: dict[str, Any], w: str) -> tuple[str, str]:
    return (
        fields.text(info, "dise_codg", w, max_len=30)
        or fields.text(info, "dscg_maindiag_code", w, max_len=30),
        fields.text(info, "dise_name", w, max_len=300)
        or fields.text(info, "dscg_maindiag_name", w, max_len=300),
    )


@transaction("2401", "入院办理", plain=_admit_across, use_plain=_across_provinces)
def admit(req: Request) -> Flow[dict[str, Any]]:
    info = req.node("mdtrtinfo")
    w = "input.mdtrtinfo"
    psn_no = fields.text(info, "psn_no", w, required=True, max_len=30, label="人员编号")
    insutype = fields.code(info, "insutype", w, "insutype", required=True)
    begntime = fields.moment(info, "begntime", w, required=True)
    assert begntime is not None
    fields.code(info, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    fields.text(info, "mdtrt_cert_no", w, required=True, max_len=600, label="就诊凭证编号")
    med_type = fields.code(info, "med_type", w, "med_type", required=True)
    ipt_no = fields.text(info, "ipt_no", w, required=True, max_len=30, label="住院号")
    dise = req.rows("diseinfo", required=False)
    dise_codg, dise_name = _dise(info, w)
    cmd = AdmitStay(
        common.caller(req),
        psn_no=psn_no,
        insutype=insutype,
        med_type=med_type,
        begntime=begntime.replace(tzinfo=CHINA),
        ipt_no=ipt_no,
        insuplc_admdvs=req.envelope.insuplc_admdvs,
        msgid=req.msgid,
        dise_codg=dise_codg,
        dise_name=dise_name,
        info={"mdtrtinfo": common.jsonable(info), "diseinfo": common.jsonable(dise)},
        presented=_presence.presented(info, w),  # 就诊凭证核验 (issue 10)
    )
    with common.refusals():
        enc = yield from admit_stay(cmd)
    return {"result": {"mdtrt_id": enc.mdtrt_id, "exp_content": ""}}


@transaction("2402", "出院办理")
def discharge(ctx: Context) -> dict[str, Any]:
    info = ctx.node("dscginfo")
    w = "input.dscginfo"
    enc = visit(ctx, info, w)
    endtime = fields.moment(info, "endtime", w, required=True)
    assert endtime is not None
    fields.text(info, "dscg_dept_codg", w, required=True, max_len=30, label="出院科室编码")
    fields.code(info, "dscg_way", w, "dscg_way", required=True)
    with common.refusals():
        encounters.discharge(
            ctx.conn,
            enc.mdtrt_id,
            psn_no=enc.psn_no,
            fixmedins_code=enc.fixmedins_code,
            endtime=endtime.replace(tzinfo=CHINA),
            dise_codg=fields.text(info, "dise_codg", w, max_len=30),
            dise_name=fields.text(info, "dise_name", w, max_len=300),
            info=common.jsonable(info),
        )
    return {}


@transaction("2403", "住院信息变更")
def update(ctx: Context) -> dict[str, Any]:
    info = ctx.node("adminfo")
    w = "input.adminfo"
    enc = visit(ctx, info, w)
    med_type = fields.code(info, "med_type", w, "med_type")
    with common.refusals():
        encounters.update_admission(
            ctx.conn,
            enc.mdtrt_id,
            psn_no=enc.psn_no,
            fixmedins_code=enc.fixmedins_code,
            med_type=med_type or None,
            info={"adminfo": common.jsonable(info)},
        )
    return {}


@transaction("2404", "入院撤销")
def cancel_admission(ctx: Context) -> dict[str, Any]:
    enc = visit(ctx, ctx.node("data"), "input.data")
    with common.refusals():
        encounters.cancel_admission(
            ctx.conn, enc.mdtrt_id, psn_no=enc.psn_no, fixmedins_code=enc.fixmedins_code
        )
    return {}


@transaction("2405", "出院撤销")
def undo_discharge(ctx: Context) -> dict[str, Any]:
    enc = visit(ctx, ctx.node("data"), "input.data")
    with common.refusals():
        encounters.undo_discharge(
            ctx.conn, enc.mdtrt_id, psn_no=enc.psn_no, fixmedins_code=enc.fixmedins_code
        )
    return {}


@transaction("2301", "住院费用明细上传")
def upload_fees(req: Request) -> Flow[dict[str, Any]]:
    rows = req.rows("feedetail")
    w = "input.feedetail"
    lines = common.read_lines(rows, w, allow_negative=True)
    first = rows[0]
    mdtrt_id = fields.text(first, "mdtrt_id", f"{w}[0]", required=True, max_len=30, label="就诊ID")
    psn_no = fields.text(first, "psn_no", f"{w}[0]", required=True, max_len=30, label="人员编号")
    common.same_visit(rows, mdtrt_id, psn_no, w)
    cmd = UploadFees(
        common.caller(req), mdtrt_id, psn_no, tuple(lines), req.msgid, req.now, allow_negative=True
    )
    with common.refusals():
        classified = yield from checkout_fees.upload_fees(cmd, enc_model.upload_inpatient_fees)
    return {"result": [checkout_model.split_row(c) for c in classified]}


@transaction("2302", "住院费用明细撤销")
def remove_fees(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    enc = visit(ctx, data, w)
    sn = fields.text(data, "feedetl_sn", w, required=True, max_len=30, label="费用明细流水号")
    with common.refusals():
        encounters.remove_inpatient_fees(
            ctx.conn,
            enc.mdtrt_id,
            psn_no=enc.psn_no,
            fixmedins_code=enc.fixmedins_code,
            feedetl_sn=sn,
        )
    return {}


def _bill(ctx: Context, enc: Encounter, data: dict[str, Any], w: str) -> checkout.Bill:
    insutype = fields.code(data, "insutype", w, "insutype", required=True)
    if insutype != enc.insutype:
        raise InputError(f"{w}.insutype", f"须与入院时的险种类型 {enc.insutype} 一致")
    acct = fields.code(data, "acct_used_flag", w, "acct_used_flag") or "0"
    setlway = fields.code(data, "psn_setlway", w, "psn_setlway", required=True)
    with common.refusals():
        stored = encounters.lines_to_settle(ctx.conn, enc)
    begn, end, info = common.service_day(ctx, enc.mdtrt_id)
    return checkout.Bill(
        psn_no=enc.psn_no,
        insutype=enc.insutype,
        insuplc_admdvs=enc.insuplc_admdvs,
        med_type=enc.med_type,
        service_date=begn,
        endtime=end,
        items=common.items_of(stored),
        acct_used_flag=acct,
        psn_setlway=setlway,
        dise_codg=info.get("dise_codg") or None,
        emergency=common.is_emergency(
            ((info.get("info") or {}).get("mdtrtinfo") or {}).get("exp_content"),
            data.get("exp_content"),
        ),
    )


def _mid(data: dict[str, Any], w: str) -> bool:
    flag = fields.text(data, "mid_setl_flag", w, required=True, max_len=1, label="中途结算标志")
    if flag not in ("0", "1"):
        raise InputError(f"{w}.mid_setl_flag", f"中途结算标志须为0或1，收到 {flag!r}")
    return flag == "1"


def _stay_bill(req: Request, data: dict[str, Any], w: str) -> StayBill:
    return StayBill(
        mdtrt_id=fields.text(data, "mdtrt_id", w, required=True, max_len=30, label="就诊ID"),
        psn_no=fields.text(data, "psn_no", w, required=True, max_len=30, label="人员编号"),
        insutype=fields.code(data, "insutype", w, "insutype", required=True),
        acct_used_flag=fields.code(data, "acct_used_flag", w, "acct_used_flag") or "0",
        psn_setlway=fields.code(data, "psn_setlway", w, "psn_setlway", required=True),
        mid_setl=_mid(data, w),
        insuplc_admdvs=req.envelope.insuplc_admdvs,
        exp_content=data.get("exp_content"),
        presented=_presence.presented(data, w),  # 就诊凭证核验 (issue 10)
    )


def _claims(data: dict[str, Any], w: str) -> dict[str, int | None]:
    claims = common.claimed(data, w, required=False)
    claims["medfee_sumamt"] = fields.amount(data, "medfee_sumamt", w, required=True)
    return claims


def _pre_settle_across(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    enc = visit(ctx, data, w)
    cert = fields.code(data, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    _presence.require_for_visit(ctx, data, w, enc)  # 就诊凭证核验 (issue 10)
    mid = _mid(data, w)
    claims = _claims(data, w)
    with common.refusals():
        enc_model.pre_settle_inpatient(enc, mid)  # the state check; nothing is saved
    bill = _bill(ctx, enc, data, w)
    return gateway_relay.pre_settle(
        ctx, enc, bill, mdtrt_cert_type=cert, claimed=claims, mid_setl=mid
    )


@transaction("2303", "住院预结算", plain=_pre_settle_across, use_plain=_across_provinces)
def pre_settle(req: Request) -> Flow[dict[str, Any]]:
    data = req.node("data")
    w = "input.data"
    bill = _stay_bill(req, data, w)
    cert = fields.code(data, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    claims = _claims(data, w)
    with common.refusals():
        priced = yield from checkout_stays.price_stay(common.caller(req), bill, req.now)
        checkout_model.check_claims(claims, priced.setlinfo)
    return common.priced_output(req, priced, mdtrt_id=bill.mdtrt_id, mdtrt_cert_type=cert)


def _settle_across(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    enc = visit(ctx, data, w)
    cert = fields.code(data, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    _presence.require_for_visit(ctx, data, w, enc)  # 就诊凭证核验 (issue 10)
    mid = _mid(data, w)
    claims = _claims(data, w)
    fields.text(data, "invono", w, max_len=20, label="发票号")
    with common.refusals():
        enc_model.settle_inpatient(enc, "", mid)  # the state check before any lock
    bill = _bill(ctx, enc, data, w)
    return gateway_relay.settle(
        ctx, enc, bill, claimed=claims, chrg_bchno=None, mdtrt_cert_type=cert, mid_setl=mid
    )


@transaction("2304", "住院结算", plain=_settle_across, use_plain=_across_provinces)
def settle(req: Request) -> Flow[dict[str, Any]]:
    data = req.node("data")
    w = "input.data"
    bill = _stay_bill(req, data, w)
    cert = fields.code(data, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    claims = _claims(data, w)
    fields.text(data, "invono", w, max_len=20, label="发票号")
    cmd = checkout_stays.SettleStay(common.caller(req), bill, claims, cert, req.msgid, req.now)
    with common.refusals():
        settled = yield from checkout_stays.settle_stay(cmd)
    return common.settlement_output(req, settled, mdtrt_cert_type=cert)


@transaction("2305", "住院结算撤销")
def cancel(req: Request) -> Flow[dict[str, Any]]:
    settled, cert = yield from common.cancel_flow(req)
    return common.settlement_output(req, settled, mdtrt_cert_type=cert)
