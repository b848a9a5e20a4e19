"""药店 2101 预结算 / 2102 结算 / 2103 结算撤销 (nhsa-interface.md §2.9).

One-shot: ``druginfo{}`` + ``drugdetail[]`` are priced by the pharmacy's catalogue (就医地目录)
and the insured place's policy. 2101 writes nothing; 2102 creates the visit (购药中), settles it
and records it in the same transaction; 2103 is a new negative settlement.
"""

from __future__ import annotations

from typing import Any

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import Context, transaction
from yibao.api.nhsa.handlers import _presence
from yibao.api.nhsa.handlers import _settle_common as common
from yibao.api.nhsa.handlers.outpatient import visit
from yibao.checkout import model as checkout_model
from yibao.checkout import service as checkout
from yibao.encounter import service as encounters
from yibao.encounter.fees import FeeLine
from yibao.hub import gateway_relay

PHARMACY_MED_TYPE = "41"  # 定点药店购药 (§3.2)


def _purchase(
    ctx: Context, *, lock: bool
) -> tuple[dict[str, Any], list[FeeLine], list[Any], checkout.Priced]:
    info = ctx.node("druginfo")
    w = "input.druginfo"
    psn_no = fields.text(info, "psn_no", w, required=True, max_len=30, label="人员编号")
    insutype = fields.code(info, "insutype", w, "insutype", required=True)
    fields.code(info, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    begntime = fields.moment(info, "begntime", w, required=True)
    assert begntime is not None
    med_type = fields.code(info, "med_type", w, "med_type") or PHARMACY_MED_TYPE
    acct = fields.code(info, "acct_used_flag", w, "acct_used_flag", required=True)
    sumamt = fields.amount(info, "medfee_sumamt", w, required=True)
    lines = common.read_lines(ctx.rows("drugdetail"), "input.drugdetail")
    day = begntime.date()
    region = common.insured_region(ctx, psn_no, insutype, day, w)
    with common.refusals(w):
        classified = common.classify(ctx, day, lines)
        bill = checkout.Bill(
            psn_no=psn_no,
            insutype=insutype,
            insuplc_admdvs=region,
            med_type=med_type,
            service_date=day,
            items=tuple(c.item for c in classified),
            acct_used_flag=acct,
            dise_codg=fields.text(info, "dise_codg", w, max_len=30) or None,
        )
        priced = checkout.price(ctx.conn, ctx.institution, bill, lock=lock)
        checkout_model.check_claims({"medfee_sumamt": sumamt}, priced.setlinfo)
    info_out = {
        "begntime": begntime,
        "med_type": med_type,
        "cert_type": info.get("mdtrt_cert_type", ""),
        "classified": classified,
        "raw": info,
    }
    return info_out, lines, classified, priced


@transaction("2101", "药店预结算")
def pre_settle(ctx: Context) -> dict[str, Any]:
    _presence.require(ctx, ctx.node("druginfo"), "input.druginfo")  # 就诊凭证核验 (issue 10)
    if gateway_relay.applies(ctx.envelope.insuplc_admdvs):  # 跨省: the hub's person
        return gateway_relay.pharmacy(ctx, settle_now=False)
    info, _, classified, priced = _purchase(ctx, lock=False)
    out = common.priced_output(ctx, priced, mdtrt_id="", mdtrt_cert_type=str(info["cert_type"]))
    out["detlcutinfo"] = [checkout_model.split_row(c, with_hosp_part=True) for c in classified]
    return out


@transaction("2102", "药店结算")
def settle(ctx: Context) -> dict[str, Any]:
    _presence.require(ctx, ctx.node("druginfo"), "input.druginfo")  # 就诊凭证核验 (issue 10)
    if gateway_relay.applies(ctx.envelope.insuplc_admdvs):  # 跨省: split by the insured side
        return gateway_relay.pharmacy(ctx, settle_now=True)
    info, lines, classified, priced = _purchase(ctx, lock=True)
    bill = priced.bill
    with common.refusals():
        enc = encounters.open_pharmacy_sale(
            ctx.conn,
            psn_no=bill.psn_no,
            insutype=bill.insutype,
            med_type=bill.med_type,
            fixmedins_code=ctx.institution.fixmedins_code,
            insuplc_admdvs=bill.insuplc_admdvs,
            mdtrtarea_admvs=ctx.institution.admdvs,
            begntime=info["begntime"].replace(tzinfo=common.CHINA),
            lines=lines,
            splits=common.splits_of(classified),
            msgid=ctx.msgid,
            info={"druginfo": common.jsonable(info["raw"])},
        )
        settled = checkout.settle(
            ctx.conn,
            enc,
            priced,
            msgid=ctx.msgid,
            setl_time=ctx.now,
            mdtrt_cert_type=str(info["cert_type"]),
        )
    out = common.settlement_output(
        ctx, settled, mdtrt_cert_type=str(info["cert_type"]), age=priced.snapshot.age
    )
    out["detlcutinfo"] = [checkout_model.split_row(c, with_hosp_part=True) for c in classified]
    return out


@transaction("2103", "药店结算撤销")
def cancel(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    enc = visit(ctx, data, w)
    setl_id = fields.text(data, "setl_id", w, required=True, max_len=30, label="结算ID")
    with common.refusals():
        settled = checkout.cancel(ctx.conn, enc, setl_id, msgid=ctx.msgid, setl_time=ctx.now)
    cert = str(settled.record.setlinfo.get("mdtrt_cert_type") or "")
    out = common.settlement_output(ctx, settled, mdtrt_cert_type=cert)
    # older editions named these psn_pay / cash_payment in 2103 (§2.9): sent as well
    out["setlinfo"]["psn_pay"] = out["setlinfo"]["psn_part_amt"]
    out["setlinfo"]["cash_payment"] = out["setlinfo"]["psn_cash_pay"]
    return out
