"""National-interface handlers' glue for cross-province patients (跨省异地就医 over the gateway).

The settlement handlers call these small hooks when the envelope's or the visit's
``insuplc_admdvs`` belongs to another province (:func:`applies`): the person then lives in the
insured province's deployment, reached through the hub (:mod:`yibao.hub.client`).

- 1101 → :func:`person_info` (the insured side's ``baseinfo``/``insuinfo``/``idetinfo``), by
  certificate or by an e-voucher ecToken (mdtrt_cert_type 01) that the insured side verifies;
- 2201/2401/2101/2102: the insured region is the envelope's (:func:`insured_region`), the person
  is checked through the hub (certificate or ecToken) and kept on the visit for the settlement;
- 2206/2303/2101 → :func:`pre_settle`: a dry run through the hub — the insured side prices the
  bill with its policy, filings, accumulators and account and writes nothing anywhere;
- 2207/2304/2102 → :func:`settle`: the insured side splits the bill (``relay_id`` = the HIS's
  settlement ``msgid``, one id end to end), this side records the relayed settlement and its
  ledger chain (the treatment region's fund advances against the clearing account) in the
  request's one transaction. 2304 with ``mid_setl_flag=1`` (中途结算) is relayed the same way and
  the stay goes on. A refusal or a hop timeout (after the client's reversal) fails the request
  as a whole;
- 2208/2305/2103/2601 are checkout's cancellation flow, which reverses a relayed settlement on
  the insured side through :class:`yibao.checkout.ports.HubPort` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from yibao.api.nhsa.dispatcher import BusinessError, Context
from yibao.api.nhsa.fields import InputError
from yibao.checkout import model as checkout_model
from yibao.checkout.bills import Bill, Settled
from yibao.clock import CHINA
from yibao.encounter import store as encounter_store
from yibao.encounter.model import Encounter
from yibao.hub import client
from yibao.hub.model import RelayError, RelayRequest

__all__ = [
    "applies",
    "insured_region",
    "person_info",
    "pharmacy",
    "pre_settle",
    "settle",
]

#: where the hub-checked person is kept in the visit's ``info`` JSON
PERSON_KEY = "relay_person"


def applies(insuplc_admdvs: str | None) -> bool:
    """Whether the insured region belongs to another province (relay through the hub)."""
    return bool(insuplc_admdvs) and client.is_cross_province(str(insuplc_admdvs))


def _refused(e: RelayError) -> BusinessError:
    return BusinessError(f"跨省异地就医：{e.message}")


EC_TOKEN = "01"  # mdtrt_cert_type 医保电子凭证: mdtrt_cert_no is the ecToken (§3.3)


def _lookup(
    ctx: Context, region: str, on: date, *, cert_type: str, cert_no: str, psn_cert_type: str,
    certno: str,
) -> dict[str, Any]:  # fmt: skip
    """The insured side's 1101 output through the hub, by ecToken (01) or by certificate."""
    try:
        if cert_type == EC_TOKEN:
            return client.relay_person_info(
                "", region, on, ec_token=cert_no, org_id=ctx.institution.fixmedins_code
            )
        return client.relay_person_info(certno, region, on, psn_cert_type=psn_cert_type or "01")
    except RelayError as e:
        raise _refused(e) from None


def person_info(
    ctx: Context,
    *,
    certno: str,
    psn_cert_type: str,
    psn_name: str,
    on: date,
    mdtrt_cert_type: str = "",
    mdtrt_cert_no: str = "",
) -> dict[str, Any]:
    """1101 of a person insured in another province, answered by that province via the hub.

    With ``mdtrt_cert_type`` 01 the ecToken (from the e-voucher exchange, bound to this
    institution) names the person and the insured side verifies it; otherwise ``certno``."""
    region = ctx.envelope.insuplc_admdvs
    if mdtrt_cert_type != EC_TOKEN and not certno:
        raise InputError("input.data.certno", "跨省异地就医须传证件号码(certno)")
    out = _lookup(ctx, region, on, cert_type=mdtrt_cert_type, cert_no=mdtrt_cert_no,
                  psn_cert_type=psn_cert_type, certno=certno)  # fmt: skip
    base = out.get("baseinfo") or {}
    if psn_name and psn_name != base.get("psn_name"):
        raise BusinessError("input.data.psn_name: 人员姓名与参保地登记不符")
    if certno and mdtrt_cert_type == EC_TOKEN and certno.upper() != str(base.get("certno")).upper():
        raise BusinessError("input.data.certno: 证件号码与医保电子凭证不符")
    return out


def insured_region(
    ctx: Context, data: Mapping[str, Any], *, psn_no: str, insutype: str, on: date
) -> tuple[str, dict[str, str]]:
    """The envelope's insured region, after the insured side confirmed the person (人员编号 and
    险种); returns the person facts to keep on the visit (``info[PERSON_KEY]``). The person is
    named by ``certno`` (or an ID-card ``mdtrt_cert_no``) or by the e-voucher ecToken
    (``mdtrt_cert_type`` 01), which the insured side verifies for this institution."""
    region = ctx.envelope.insuplc_admdvs
    certno = str(data.get("certno") or "")
    cert_type = str(data.get("psn_cert_type") or "01")
    mdtrt_cert_type = str(data.get("mdtrt_cert_type") or "")
    mdtrt_cert_no = str(data.get("mdtrt_cert_no") or "")
    if mdtrt_cert_type == EC_TOKEN:
        if not mdtrt_cert_no:
            raise InputError("input.data.mdtrt_cert_no", "医保电子凭证就诊须传ecToken")
    elif not certno and mdtrt_cert_type == "02":
        certno = mdtrt_cert_no
    if not certno and mdtrt_cert_type != EC_TOKEN:
        raise InputError("input.data.certno", "跨省异地就医须传证件号码(certno)或以身份证就诊")
    out = _lookup(ctx, region, on, cert_type=mdtrt_cert_type, cert_no=mdtrt_cert_no,
                  psn_cert_type=cert_type, certno=certno)  # fmt: skip
    base = out.get("baseinfo") or {}
    if base.get("psn_no") != psn_no:
        raise BusinessError("psn_no: 与参保地【1101】返回的人员编号不符")
    if certno and certno.upper() != str(base.get("certno", "")).upper():
        raise BusinessError("certno: 证件号码与参保地【1101】返回的不符")
    name = str(data.get("psn_name") or "")  # a given name must match (issue 10, finding 2)
    if name and name != base.get("psn_name"):
        raise BusinessError("psn_name: 人员姓名与参保地【1101】返回的不符")
    if not any(
        r.get("insutype") == insutype and r.get("insuplc_admdvs") == region
        for r in out.get("insuinfo") or []
    ):
        raise BusinessError(f"insutype: 参保地 {region} 无险种 {insutype} 的参保记录")
    person = {"certno": str(base.get("certno", "")),
              "psn_cert_type": str(base.get("psn_cert_type", cert_type)),
              "psn_name": str(base.get("psn_name", ""))}  # fmt: skip
    return region, person


def _person(conn: sa.Connection, enc: Encounter) -> dict[str, str]:
    info = encounter_store.encounter_info(conn, enc.mdtrt_id).get("info") or {}
    person = info.get(PERSON_KEY)
    if not isinstance(person, dict) or not person.get("certno"):
        raise BusinessError("跨省异地就医：就诊登记时未经参保地确认人员，请重新办理挂号/入院")
    return {k: str(v) for k, v in person.items()}


def _request(
    ctx: Context,
    bill: Bill,
    person: Mapping[str, str],
    *,
    insuplc_admdvs: str,
    mdtrtarea_admvs: str,
    mid_setl: bool = False,
) -> RelayRequest:
    inst = ctx.institution
    return RelayRequest(
        relay_id=ctx.msgid, insuplc_admdvs=insuplc_admdvs, mdtrtarea_admvs=mdtrtarea_admvs,
        fixmedins_code=inst.fixmedins_code, fixmedins_name=inst.fixmedins_name,
        hosp_lv=inst.hosp_lv or "", psn_cert_type=person.get("psn_cert_type", "01"),
        certno=person["certno"], psn_name=person.get("psn_name", ""), insutype=bill.insutype,
        med_type=bill.med_type, begndate=bill.service_date, items=bill.items,
        enddate=bill.endtime, emergency=bill.emergency, acct_used_flag=bill.acct_used_flag,
        dise_codg=bill.dise_codg, mid_setl=mid_setl,
    )  # fmt: skip


#: 表93 person fields, in order after ``psn_no``
_PERSON_FIELDS = ("psn_name", "psn_cert_type", "certno", "gend", "naty", "brdy", "age")


def _with_person(
    out: dict[str, Any], person: Mapping[str, str], insured: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``setlinfo`` with the person's fields where the local answer has them (after
    ``psn_no``): from the insured side's answer, else the facts kept at registration."""
    facts: dict[str, Any] = {k: person[k] for k in _PERSON_FIELDS if person.get(k)}
    if insured:
        facts.update({k: insured[k] for k in _PERSON_FIELDS if insured.get(k) is not None})
    if "age" in facts:
        facts["age"] = Decimal(str(facts["age"])).quantize(Decimal("0.1"))
    info: dict[str, Any] = {}
    for key, value in out["setlinfo"].items():
        if key in facts:
            continue
        info[key] = value
        if key == "psn_no":
            info.update(facts)
    out["setlinfo"] = info
    return out


def _claims_checked(claimed: Mapping[str, int | None] | None, setlinfo: Mapping[str, Any]) -> None:
    if claimed:
        ours = {k: int(str(v)) for k, v in setlinfo.items() if k in checkout_model.CLAIMED_AMOUNTS}
        checkout_model.check_claims(claimed, ours)


def pre_settle(
    ctx: Context,
    enc: Encounter,
    bill: Bill,
    *,
    mdtrt_cert_type: str,
    claimed: Mapping[str, int | None] | None = None,
    mid_setl: bool = False,
) -> dict[str, Any]:
    """预结算 of a cross-province visit: a dry run through the hub — the insured side prices
    the bill (its policy, filings, accumulators, account) and nothing is written on any side.
    The answer has the local pre-settlement's shape and the real fund amounts."""
    person = _person(ctx.conn, enc)
    request = _request(ctx, bill, person, insuplc_admdvs=enc.insuplc_admdvs,
                       mdtrtarea_admvs=enc.mdtrtarea_admvs, mid_setl=mid_setl)  # fmt: skip
    return _priced_output(ctx, enc.mdtrt_id, request, person, mdtrt_cert_type, claimed)


def _priced_output(
    ctx: Context,
    mdtrt_id: str,
    request: RelayRequest,
    person: Mapping[str, str],
    mdtrt_cert_type: str,
    claimed: Mapping[str, int | None] | None = None,
    *,
    psn_no: str = "",
) -> dict[str, Any]:
    from yibao.api.nhsa.handlers import _settle_common as common

    try:
        priced = client.price_settlement(request)
    except RelayError as e:
        raise _refused(e) from None
    if psn_no and priced.psn_no != psn_no:
        raise BusinessError("psn_no: 与参保地按证件号码确认的人员编号不符")
    with common.refusals():
        _claims_checked(claimed, priced.setlinfo)
    info = {**priced.setlinfo, "mdtrt_id": mdtrt_id}
    out = {
        "setlinfo": checkout_model.national_setlinfo(
            info,
            person=None,
            age=None,
            mdtrt_cert_type=mdtrt_cert_type,
            setl_time=None,
            msgid=ctx.msgid,
            clr_way=checkout_model.CLR_WAY_BY_ITEM,
            clr_optins=ctx.institution.admdvs,
        ),
        "setldetail": checkout_model.national_setldetail(priced.setldetail),
    }
    return _with_person(out, person, priced.raw.get("person"))


def settle(
    ctx: Context,
    enc: Encounter,
    bill: Bill,
    *,
    claimed: Mapping[str, int | None] | None,
    chrg_bchno: str | None,
    mdtrt_cert_type: str,
    mid_setl: bool = False,
) -> dict[str, Any]:
    """结算 of a cross-province visit through the hub, recorded here in the request's
    transaction; the answer in the national ``setlinfo``/``setldetail`` shape. ``mid_setl``
    (2304 中途结算): the insured side settles the fees so far and the stay goes on here."""
    from yibao.api.nhsa.handlers import _settle_common as common

    person = _person(ctx.conn, enc)
    request = _request(ctx, bill, person, insuplc_admdvs=enc.insuplc_admdvs,
                       mdtrtarea_admvs=enc.mdtrtarea_admvs, mid_setl=mid_setl)  # fmt: skip
    try:
        result = client.relay_settlement(request)
    except RelayError as e:
        raise _refused(e) from None
    if claimed:
        try:
            checkout_model.check_claims(claimed, dict(result.setlinfo))
        except checkout_model.AmountMismatch as exc:
            # the HIS disagrees with the split: undo it on the insured side, refuse here
            try:
                client.reverse_settlement(request.relay_id, enc.insuplc_admdvs, enc.mdtrtarea_admvs)
            except RelayError as e:
                raise _refused(e) from None
            raise BusinessError(f"input.data.{exc.field}: {exc}；参保地结算已冲正") from exc
    info = {**result.setlinfo, "mdtrt_cert_type": mdtrt_cert_type}
    result = client.RelayResult(
        result.relay_id, result.psn_no, result.insu_setl_id, result.filing, info,
        result.setldetail, result.items, result.raw,
    )  # fmt: skip
    with common.refusals():
        rec = client.record_relayed(
            ctx.conn, enc, result, msgid=ctx.msgid, setl_time=ctx.now, chrg_bchno=chrg_bchno,
            mid_setl=mid_setl,
        )  # fmt: skip
    balc = int(str(result.setlinfo.get("balc", 0) or 0))
    out = common.settlement_output(ctx, Settled(rec, balc, None), mdtrt_cert_type=mdtrt_cert_type)
    out["setlinfo"]["relay_id"] = result.relay_id
    return _with_person(out, person, result.raw.get("person"))


def _certificate_person(info: Mapping[str, Any], cert_type: str) -> dict[str, str]:
    certno = str(info.get("certno") or "")
    if not certno and cert_type == "02":
        certno = str(info.get("mdtrt_cert_no") or "")
    if not certno:
        raise InputError("input.druginfo.certno", "跨省异地就医须传证件号码(certno)或以身份证就诊")
    return {"certno": certno, "psn_cert_type": str(info.get("psn_cert_type") or "01"),
            "psn_name": str(info.get("psn_name") or "")}  # fmt: skip


def pharmacy(ctx: Context, *, settle_now: bool) -> dict[str, Any]:
    """药店 2101 (``settle_now`` False) / 2102 of a buyer insured in another province: the
    drugs are classified by this pharmacy's catalogue, the person is confirmed with the insured
    side, and 2102 opens the sale and settles it through the hub like :func:`settle`. A 2101 by
    certificate is only the dry run (the insured side finds the person by certificate there and
    its ``psn_no`` must be the HIS's), so it writes nothing anywhere; by ecToken the token is
    first resolved by the insured side (an audited disclosure there, as in 1101)."""
    from yibao.api.nhsa import fields
    from yibao.api.nhsa.handlers import _settle_common as common
    from yibao.encounter import service as encounters

    info = ctx.node("druginfo")
    w = "input.druginfo"
    psn_no = fields.text(info, "psn_no", w, required=True, max_len=30, label="人员编号")
    insutype = fields.code(info, "insutype", w, "insutype", required=True)
    cert_type = fields.code(info, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True)
    begntime = fields.moment(info, "begntime", w, required=True)
    assert begntime is not None
    med_type = fields.code(info, "med_type", w, "med_type") or "41"
    acct = fields.code(info, "acct_used_flag", w, "acct_used_flag", required=True)
    sumamt = fields.amount(info, "medfee_sumamt", w, required=True)
    lines = common.read_lines(ctx.rows("drugdetail"), "input.drugdetail")
    day = begntime.date()
    if settle_now or cert_type == EC_TOKEN:  # confirmed with the insured side (a disclosure)
        region, person = insured_region(ctx, info, psn_no=psn_no, insutype=insutype, on=day)
    else:  # 2101 by certificate: the dry run itself checks the person, no lookup is written
        region, person = ctx.envelope.insuplc_admdvs, _certificate_person(info, cert_type)
    with common.refusals(w):
        classified = common.classify(ctx, day, lines)
    bill = Bill(psn_no=psn_no, insutype=insutype, insuplc_admdvs=region, med_type=med_type,
                service_date=day, items=tuple(c.item for c in classified), acct_used_flag=acct,
                dise_codg=fields.text(info, "dise_codg", w, max_len=30) or None)  # fmt: skip
    total = sum(i.det_item_fee_sumamt for i in bill.items)
    if total != sumamt:
        raise InputError(f"{w}.medfee_sumamt", f"与明细合计 {total} 分不符")
    detl = [checkout_model.split_row(c, with_hosp_part=True) for c in classified]
    if not settle_now:  # 2101: a dry run through the hub, nothing written anywhere
        request = _request(ctx, bill, person, insuplc_admdvs=region,
                           mdtrtarea_admvs=ctx.institution.admdvs)  # fmt: skip
        out = _priced_output(ctx, "", request, person, cert_type, psn_no=psn_no)
    else:
        with common.refusals():
            enc = encounters.open_pharmacy_sale(
                ctx.conn, psn_no=psn_no, insutype=insutype, med_type=med_type,
                fixmedins_code=ctx.institution.fixmedins_code, insuplc_admdvs=region,
                mdtrtarea_admvs=ctx.institution.admdvs,
                begntime=begntime.replace(tzinfo=CHINA), lines=lines,
                splits=common.splits_of(classified), msgid=ctx.msgid,
                info={"druginfo": common.jsonable(info), PERSON_KEY: person},
            )  # fmt: skip
        out = settle(ctx, enc, bill, claimed={"medfee_sumamt": sumamt}, chrg_bchno=None,
                     mdtrt_cert_type=cert_type)  # fmt: skip
    out["detlcutinfo"] = detl
    return out
