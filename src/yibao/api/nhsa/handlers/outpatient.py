"""门诊 2201–2208 (nhsa-interface.md §2.3–§2.6).

2201 挂号 → 2203 就诊信息 → 2204 费用明细 per ``chrg_bchno`` (2205 撤销) → 2206 预结算 → 2207 结算
→ 2208 撤销 (a new negative settlement). 2202 cancels the registration. The visit's state machine
is the encounter capability's; the money is :mod:`yibao.checkout`.
"""

from __future__ import annotations

from typing import Any

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import Context, Request, transaction
from yibao.api.nhsa.fields import InputError
from yibao.api.nhsa.handlers import _across as gateway_relay
from yibao.api.nhsa.handlers import _presence
from yibao.api.nhsa.handlers import _settle_common as common
from yibao.checkout import bills as checkout
from yibao.checkout import fees as checkout_fees
from yibao.checkout import model as checkout_model
from yibao.checkout import settle_visit as checkout_visits
from yibao.checkout.admission import RegisterVisit, register_visit
from yibao.checkout.fees import UploadFees
from yibao.checkout.settle_visit import VisitBill
from yibao.clock import CHINA
from yibao.db.flow import Flow
from yibao.encounter import flows as visit_flows
from yibao.encounter import model as enc_model
from yibao.encounter import service as encounters
from yibao.encounter.model import Encounter, EncounterError
from yibao.wire.envelope import Envelope


def visit(ctx: Context, data: dict[str, Any], where: str) -> Encounter:
    """The visit named by ``mdtrt_id``/``psn_no`` of ``data``, of this institution."""
    mdtrt_id = fields.text(data, "mdtrt_id", where, required=True, max_len=30, label="就诊ID")
    psn_no = fields.text(data, "psn_no", where, required=True, max_len=30, label="人员编号")
    with common.refusals():
        return encounters.load(
            ctx.conn, mdtrt_id, fixmedins_code=ctx.institution.fixmedins_code, psn_no=psn_no
        )


def _register_across(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    psn_no = fields.text(data, "psn_no", w, required=True, max_len=30, label="人员编号")
    insutype = fields.code(data, "insutype", w, "insutype", required=True)
    begntime = fields.moment(data, "begntime", w, required=True)
    assert begntime is not None
    fields.code(data, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    fields.text(data, "mdtrt_cert_no", w, required=True, max_len=600, label="就诊凭证编号")
    ipt_otp_no = fields.text(data, "ipt_otp_no", w, required=True, max_len=30, label="院内流水号")
    _presence.require(ctx, data, w)  # 就诊凭证核验: the credential names this person (issue 10)
    region, person = gateway_relay.insured_region(
        ctx, data, psn_no=psn_no, insutype=insutype, on=begntime.date()
    )
    with common.refusals():
        enc = encounters.register_outpatient(
            ctx.conn,
            psn_no=psn_no,
            insutype=insutype,
            fixmedins_code=ctx.institution.fixmedins_code,
            insuplc_admdvs=region,
            mdtrtarea_admvs=ctx.institution.admdvs,
            begntime=begntime.replace(tzinfo=CHINA),
            ipt_otp_no=ipt_otp_no,
            msgid=ctx.msgid,
            info={"reg": common.jsonable(data), gateway_relay.PERSON_KEY: person},
        )
    return _registered(enc, psn_no, ipt_otp_no)


def _registered(enc: Encounter, psn_no: str, ipt_otp_no: str) -> dict[str, Any]:
    return {
        "data": {
            "mdtrt_id": enc.mdtrt_id,
            "psn_no": psn_no,
            "ipt_otp_no": ipt_otp_no,
            "exp_content": "",
        }
    }


def _across_provinces(env: Envelope) -> bool:
    """跨省: the person is checked (and the bill split) by the insured province through the hub,
    in a plain handler."""
    return gateway_relay.applies(env.insuplc_admdvs)


@transaction("2201", "门诊挂号", plain=_register_across, use_plain=_across_provinces)
def register(req: Request) -> Flow[dict[str, Any]]:
    data = req.node("data")
    w = "input.data"
    psn_no = fields.text(data, "psn_no", w, required=True, max_len=30, label="人员编号")
    insutype = fields.code(data, "insutype", w, "insutype", required=True)
    begntime = fields.moment(data, "begntime", w, required=True)
    assert begntime is not None
    fields.code(data, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    fields.text(data, "mdtrt_cert_no", w, required=True, max_len=600, label="就诊凭证编号")
    ipt_otp_no = fields.text(data, "ipt_otp_no", w, required=True, max_len=30, label="院内流水号")
    cmd = RegisterVisit(
        common.caller(req),
        psn_no=psn_no,
        insutype=insutype,
        begntime=begntime.replace(tzinfo=CHINA),
        ipt_otp_no=ipt_otp_no,
        insuplc_admdvs=req.envelope.insuplc_admdvs,
        msgid=req.msgid,
        info={"reg": common.jsonable(data)},
        presented=_presence.presented(data, w),  # 就诊凭证核验 (issue 10)
    )
    with common.refusals():
        enc = yield from register_visit(cmd)
    return _registered(enc, psn_no, ipt_otp_no)


@transaction("2202", "门诊挂号撤销")
def cancel_registration(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    enc = visit(ctx, data, "input.data")
    with common.refusals():
        encounters.cancel_registration(
            ctx.conn, enc.mdtrt_id, psn_no=enc.psn_no, fixmedins_code=enc.fixmedins_code
        )
    return {}


@transaction("2203", "门诊就诊信息上传")
def visit_info(req: Request) -> Flow[dict[str, Any]]:
    info = req.node("mdtrtinfo")
    w = "input.mdtrtinfo"
    mdtrt_id = fields.text(info, "mdtrt_id", w, required=True, max_len=30, label="就诊ID")
    psn_no = fields.text(info, "psn_no", w, required=True, max_len=30, label="人员编号")
    med_type = fields.code(info, "med_type", w, "med_type", required=True)
    begntime = fields.moment(info, "begntime", w, required=True)
    dise = req.rows("diseinfo", required=False)
    with common.refusals():
        yield from visit_flows.upload_visit_info(
            mdtrt_id,
            psn_no=psn_no,
            fixmedins_code=req.institution.fixmedins_code,
            med_type=med_type,
            dise_codg=fields.text(info, "dise_codg", w, max_len=30),
            dise_name=fields.text(info, "dise_name", w, max_len=300),
            begntime=begntime.replace(tzinfo=CHINA) if begntime else None,
            info={"mdtrtinfo": common.jsonable(info), "diseinfo": common.jsonable(dise)},
        )
    return {}


@transaction("2204", "门诊费用明细信息上传")
def upload_fees(req: Request) -> Flow[dict[str, Any]]:
    rows = req.rows("feedetail")
    w = "input.feedetail"
    lines = common.read_lines(rows, w, chrg_bchno=True)
    first = rows[0]
    mdtrt_id = fields.text(first, "mdtrt_id", f"{w}[0]", required=True, max_len=30, label="就诊ID")
    psn_no = fields.text(first, "psn_no", f"{w}[0]", required=True, max_len=30, label="人员编号")
    common.same_visit(rows, mdtrt_id, psn_no, w)
    chrg_bchno = lines[0].chrg_bchno

    def step(enc: Encounter, count: int) -> Encounter:
        for ln in lines:
            if ln.chrg_bchno != chrg_bchno:
                raise EncounterError(
                    f"{ln.feedetl_sn}: chrg_bchno（收费批次号）须与本批次一致（{chrg_bchno}）"
                )
        return enc_model.upload_fee_batch(enc, chrg_bchno, count)

    cmd = UploadFees(common.caller(req), mdtrt_id, psn_no, tuple(lines), req.msgid, req.now)
    with common.refusals():
        classified = yield from checkout_fees.upload_fees(cmd, step)
    return {"result": [checkout_model.split_row(c) for c in classified]}


@transaction("2205", "门诊费用明细信息撤销")
def remove_fees(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    enc = visit(ctx, data, w)
    chrg_bchno = fields.text(data, "chrg_bchno", w, required=True, max_len=30, label="收费批次号")
    with common.refusals():
        encounters.remove_fee_batch(
            ctx.conn,
            enc.mdtrt_id,
            psn_no=enc.psn_no,
            fixmedins_code=enc.fixmedins_code,
            chrg_bchno=chrg_bchno,
        )
    return {}


def _bill(ctx: Context, enc: Encounter, data: dict[str, Any], w: str, chrg: str | None) -> Any:
    med_type = fields.code(data, "med_type", w, "med_type", required=True)
    if enc.med_type and med_type != enc.med_type:
        raise InputError(f"{w}.med_type", f"须与【2203】上传的医疗类别 {enc.med_type} 一致")
    insutype = fields.code(data, "insutype", w, "insutype", required=True)
    if insutype != enc.insutype:
        raise InputError(f"{w}.insutype", f"须与挂号时的险种类型 {enc.insutype} 一致")
    acct = fields.code(data, "acct_used_flag", w, "acct_used_flag", required=True)
    setlway = fields.code(data, "psn_setlway", w, "psn_setlway", required=True)
    with common.refusals():
        stored = encounters.lines_to_settle(ctx.conn, enc, chrg_bchno=chrg)
    day, _, info = common.service_day(ctx, enc.mdtrt_id)
    return checkout.Bill(
        psn_no=enc.psn_no,
        insutype=enc.insutype,
        insuplc_admdvs=enc.insuplc_admdvs,
        med_type=med_type,
        service_date=day,
        items=common.items_of(stored),
        acct_used_flag=acct,
        psn_setlway=setlway,
        dise_codg=info.get("dise_codg") or None,
        emergency=common.is_emergency(
            data.get("exp_content"),
            ((info.get("info") or {}).get("mdtrtinfo") or {}).get("exp_content"),
        ),
    )


def _chrg(data: dict[str, Any], w: str) -> str | None:
    value = fields.text(data, "chrg_bchno", w, required=True, max_len=30, label="收费批次号")
    return None if value == enc_model.ALL_BATCHES else value


def _visit_bill(req: Request, data: dict[str, Any], w: str) -> VisitBill:
    return VisitBill(
        mdtrt_id=fields.text(data, "mdtrt_id", w, required=True, max_len=30, label="就诊ID"),
        psn_no=fields.text(data, "psn_no", w, required=True, max_len=30, label="人员编号"),
        med_type=fields.code(data, "med_type", w, "med_type", required=True),
        insutype=fields.code(data, "insutype", w, "insutype", required=True),
        acct_used_flag=fields.code(data, "acct_used_flag", w, "acct_used_flag", required=True),
        psn_setlway=fields.code(data, "psn_setlway", w, "psn_setlway", required=True),
        chrg_bchno=_chrg(data, w),
        insuplc_admdvs=req.envelope.insuplc_admdvs,
        exp_content=data.get("exp_content"),
        presented=_presence.presented(data, w),  # 就诊凭证核验 (issue 10)
    )


def _pre_settle_across(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    enc = visit(ctx, data, w)
    cert_type = fields.code(data, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    _presence.require_for_visit(ctx, data, w, enc)  # 就诊凭证核验 (issue 10)
    chrg = _chrg(data, w)
    with common.refusals():
        enc_model.pre_settle_outpatient(enc, chrg)  # the state check; nothing is saved
    bill = _bill(ctx, enc, data, w, chrg)
    sumamt = fields.amount(data, "medfee_sumamt", w, required=True)
    return gateway_relay.pre_settle(
        ctx, enc, bill, mdtrt_cert_type=cert_type, claimed={"medfee_sumamt": sumamt}
    )


@transaction("2206", "门诊预结算", plain=_pre_settle_across, use_plain=_across_provinces)
def pre_settle(req: Request) -> Flow[dict[str, Any]]:
    data = req.node("data")
    w = "input.data"
    bill = _visit_bill(req, data, w)
    cert_type = fields.code(data, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    sumamt = fields.amount(data, "medfee_sumamt", w, required=True)
    with common.refusals():
        priced = yield from checkout_visits.price_visit(common.caller(req), bill, req.now)
        checkout_model.check_claims({"medfee_sumamt": sumamt}, priced.setlinfo)
    return common.priced_output(req, priced, mdtrt_id=bill.mdtrt_id, mdtrt_cert_type=cert_type)


def _settle_across(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    enc = visit(ctx, data, w)
    cert_type = fields.code(data, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    _presence.require_for_visit(ctx, data, w, enc)  # 就诊凭证核验 (issue 10)
    chrg = _chrg(data, w)
    claims = common.claimed(data, w, required=True)
    fields.text(data, "invono", w, max_len=20, label="发票号")
    with common.refusals():
        enc_model.settle_outpatient(enc, chrg, "", 0)  # the state check before any lock
    bill = _bill(ctx, enc, data, w, chrg)
    return gateway_relay.settle(
        ctx, enc, bill, claimed=claims, chrg_bchno=chrg, mdtrt_cert_type=cert_type
    )


@transaction("2207", "门诊结算", plain=_settle_across, use_plain=_across_provinces)
def settle(req: Request) -> Flow[dict[str, Any]]:
    data = req.node("data")
    w = "input.data"
    bill = _visit_bill(req, data, w)
    cert_type = fields.code(data, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    claims = common.claimed(data, w, required=True)
    fields.text(data, "invono", w, max_len=20, label="发票号")
    cmd = checkout_visits.SettleVisit(
        common.caller(req), bill, claims, cert_type, req.msgid, req.now
    )
    with common.refusals():
        settled = yield from checkout_visits.settle_visit(cmd)
    return common.settlement_output(req, settled, mdtrt_cert_type=cert_type)


@transaction("2208", "门诊结算撤销")
def cancel(req: Request) -> Flow[dict[str, Any]]:
    settled, cert = yield from common.cancel_flow(req)
    out = common.settlement_output(req, settled, mdtrt_cert_type=cert)
    out["setlinfo"]["pdn_cash_pay"] = out["setlinfo"]["psn_cash_pay"]  # the spec's 2208 spelling
    return out
