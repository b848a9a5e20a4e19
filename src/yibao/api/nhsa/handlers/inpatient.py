"""住院 2401–2405 入院/出院, 2301/2302 费用明细, 2303/2304/2305 结算 (nhsa-interface.md §2.7–§2.8).

2401 入院 → 2301 费用明细 (2302 撤销) → 2402 出院 (2405 撤销, 2404 入院撤销) → 2303 预结算 →
2304 结算 (``mid_setl_flag=1``: 中途结算 while the patient stays) → 2305 撤销 (a new negative
settlement). The stay's state machine is the encounter capability's; the money is checkout's.
"""

from __future__ import annotations

from typing import Any

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import Context, transaction
from yibao.api.nhsa.fields import InputError
from yibao.api.nhsa.handlers import _presence
from yibao.api.nhsa.handlers import _settle_common as common
from yibao.api.nhsa.handlers.outpatient import visit
from yibao.checkout import model as checkout_model
from yibao.checkout import service as checkout
from yibao.encounter import model as enc_model
from yibao.encounter import service as encounters
from yibao.encounter.model import Encounter
from yibao.hub import gateway_relay


@transaction("2401", "入院办理")
def admit(ctx: Context) -> dict[str, Any]:
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
    relayed: dict[str, Any] = {}
    if gateway_relay.applies(ctx.envelope.insuplc_admdvs):  # 跨省: the person is the hub's
        region, relayed[gateway_relay.PERSON_KEY] = gateway_relay.insured_region(
            ctx, info, psn_no=psn_no, insutype=insutype, on=begntime.date()
        )
    else:
        region = common.insured_region(ctx, psn_no, insutype, begntime.date(), w)
    with common.refusals():
        enc = encounters.admit(
            ctx.conn,
            psn_no=psn_no,
            insutype=insutype,
            med_type=med_type,
            fixmedins_code=ctx.institution.fixmedins_code,
            insuplc_admdvs=region,
            mdtrtarea_admvs=ctx.institution.admdvs,
            begntime=begntime.replace(tzinfo=common.CHINA),
            ipt_no=ipt_no,
            msgid=ctx.msgid,
            dise_codg=fields.text(info, "dise_codg", w, max_len=30)
            or fields.text(info, "dscg_maindiag_code", w, max_len=30),
            dise_name=fields.text(info, "dise_name", w, max_len=300)
            or fields.text(info, "dscg_maindiag_name", w, max_len=300),
            info={
                "mdtrtinfo": common.jsonable(info),
                "diseinfo": common.jsonable(dise),
                **relayed,
            },
        )
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
            endtime=endtime.replace(tzinfo=common.CHINA),
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
def upload_fees(ctx: Context) -> dict[str, Any]:
    rows = ctx.rows("feedetail")
    w = "input.feedetail"
    lines = common.read_lines(rows, w, allow_negative=True)
    enc = visit(ctx, rows[0], f"{w}[0]")
    common.same_visit(rows, enc.mdtrt_id, enc.psn_no, w)
    day, _, _ = common.service_day(ctx, enc.mdtrt_id)
    with common.refusals():
        classified = common.classify(ctx, day, lines)
        encounters.upload_inpatient_fees(
            ctx.conn,
            enc.mdtrt_id,
            psn_no=enc.psn_no,
            fixmedins_code=enc.fixmedins_code,
            lines=lines,
            splits=common.splits_of(classified),
            msgid=ctx.msgid,
        )
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


@transaction("2303", "住院预结算")
def pre_settle(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    enc = visit(ctx, data, w)
    cert = fields.code(data, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    _presence.require_for_visit(ctx, data, w, enc)  # 就诊凭证核验 (issue 10)
    mid = _mid(data, w)
    claims = common.claimed(data, w, required=False)
    claims["medfee_sumamt"] = fields.amount(data, "medfee_sumamt", w, required=True)
    with common.refusals():
        enc_model.pre_settle_inpatient(enc, mid)  # the state check; nothing is saved
    bill = _bill(ctx, enc, data, w)
    if gateway_relay.applies(enc.insuplc_admdvs):  # 跨省: a dry run by the insured side
        return gateway_relay.pre_settle(
            ctx, enc, bill, mdtrt_cert_type=cert, claimed=claims, mid_setl=mid
        )
    with common.refusals():
        priced = checkout.price(ctx.conn, ctx.institution, bill, lock=False)
        checkout_model.check_claims(claims, priced.setlinfo)
    return common.priced_output(ctx, priced, mdtrt_id=enc.mdtrt_id, mdtrt_cert_type=cert)


@transaction("2304", "住院结算")
def settle(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    enc = visit(ctx, data, w)
    cert = fields.code(data, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    _presence.require_for_visit(ctx, data, w, enc)  # 就诊凭证核验 (issue 10)
    mid = _mid(data, w)
    claims = common.claimed(data, w, required=False)
    claims["medfee_sumamt"] = fields.amount(data, "medfee_sumamt", w, required=True)
    fields.text(data, "invono", w, max_len=20, label="发票号")
    with common.refusals():
        enc_model.settle_inpatient(enc, "", mid)  # the state check before any lock
    bill = _bill(ctx, enc, data, w)
    if gateway_relay.applies(enc.insuplc_admdvs):  # 跨省: split by the insured side via the hub
        return gateway_relay.settle(
            ctx, enc, bill, claimed=claims, chrg_bchno=None, mdtrt_cert_type=cert, mid_setl=mid
        )
    with common.refusals():
        priced = checkout.price(ctx.conn, ctx.institution, bill, lock=True)
        settled = checkout.settle(
            ctx.conn,
            enc,
            priced,
            msgid=ctx.msgid,
            setl_time=ctx.now,
            claimed=claims,
            mid_setl=mid,
            mdtrt_cert_type=cert,
        )
    return common.settlement_output(ctx, settled, mdtrt_cert_type=cert, age=priced.snapshot.age)


@transaction("2305", "住院结算撤销")
def cancel(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    enc = visit(ctx, data, w)
    setl_id = fields.text(data, "setl_id", w, required=True, max_len=30, label="结算ID")
    with common.refusals():
        settled = checkout.cancel(ctx.conn, enc, setl_id, msgid=ctx.msgid, setl_time=ctx.now)
    cert = str(settled.record.setlinfo.get("mdtrt_cert_type") or "")
    return common.settlement_output(ctx, settled, mdtrt_cert_type=cert)
