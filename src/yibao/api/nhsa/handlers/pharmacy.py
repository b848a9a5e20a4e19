"""药店 2101 预结算 / 2102 结算 / 2103 结算撤销 (nhsa-interface.md §2.9).

One-shot: ``druginfo{}`` + ``drugdetail[]`` are priced by the pharmacy's catalogue (就医地目录)
and the insured place's policy. 2101 writes nothing; 2102 creates the visit (购药中), settles it
and records it in the same transaction; 2103 is a new negative settlement.
"""

from __future__ import annotations

from typing import Any

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import BusinessError, Context, Request, transaction
from yibao.api.nhsa.fields import InputError
from yibao.api.nhsa.handlers import _across as gateway_relay
from yibao.api.nhsa.handlers import _presence
from yibao.api.nhsa.handlers import _settle_common as common
from yibao.checkout import model as checkout_model
from yibao.checkout import settle_pharmacy as checkout_pharmacy
from yibao.checkout.settle_pharmacy import Purchase, SettlePurchase
from yibao.clock import CHINA
from yibao.db.flow import Flow
from yibao.online import rx_link
from yibao.online.model import OnlineError
from yibao.wire.envelope import Envelope

PHARMACY_MED_TYPE = "41"  # 定点药店购药 (§3.2)


def _purchase_of(req: Request) -> Purchase:
    info = req.node("druginfo")
    w = "input.druginfo"
    begntime = fields.moment(info, "begntime", w, required=True)
    assert begntime is not None
    purchase = Purchase(
        psn_no=fields.text(info, "psn_no", w, required=True, max_len=30, label="人员编号"),
        insutype=fields.code(info, "insutype", w, "insutype", required=True),
        mdtrt_cert_type=fields.code(info, "mdtrt_cert_type", w, "mdtrt_cert_type", required=True),
        begntime=begntime.replace(tzinfo=CHINA),
        med_type=fields.code(info, "med_type", w, "med_type") or PHARMACY_MED_TYPE,
        acct_used_flag=fields.code(info, "acct_used_flag", w, "acct_used_flag", required=True),
        medfee_sumamt=fields.amount(info, "medfee_sumamt", w, required=True),
        lines=tuple(common.read_lines(req.rows("drugdetail"), "input.drugdetail")),
        dise_codg=fields.text(info, "dise_codg", w, max_len=30) or None,
        insuplc_admdvs=req.envelope.insuplc_admdvs,
        info={"druginfo": common.jsonable(info)},
        presented=_presence.presented(info, w),  # 就诊凭证核验 (issue 10)
    )
    return purchase


def _across_provinces(env: Envelope) -> bool:
    """跨省: the buyer is the hub's (a plain handler relays the sale)."""
    return gateway_relay.applies(env.insuplc_admdvs)


def _pre_settle_across(ctx: Context) -> dict[str, Any]:
    _presence.require(ctx, ctx.node("druginfo"), "input.druginfo")  # 就诊凭证核验 (issue 10)
    return gateway_relay.pharmacy(ctx, settle_now=False)


def _settle_across(ctx: Context) -> dict[str, Any]:
    _presence.require(ctx, ctx.node("druginfo"), "input.druginfo")  # 就诊凭证核验 (issue 10)
    return gateway_relay.pharmacy(ctx, settle_now=True)


@transaction("2101", "药店预结算", plain=_pre_settle_across, use_plain=_across_provinces)
def pre_settle(req: Request) -> Flow[dict[str, Any]]:
    purchase = _purchase_of(req)
    with common.refusals("input.druginfo"):
        done = yield from checkout_pharmacy.price_pharmacy(common.caller(req), purchase, req.now)
    out = common.priced_output(
        req, done.priced, mdtrt_id="", mdtrt_cert_type=purchase.mdtrt_cert_type
    )
    out["detlcutinfo"] = [checkout_model.split_row(c, with_hosp_part=True) for c in done.classified]
    return out


@transaction("2102", "药店结算", plain=_settle_across, use_plain=_across_provinces)
def settle(req: Request) -> Flow[dict[str, Any]]:
    purchase = _purchase_of(req)
    cmd = SettlePurchase(common.caller(req), purchase, req.msgid, req.now)
    try:  # 外购处方 (rx_circ_flag 1): filled once, marked used in the settlement's write (issue 17)
        hi_rxno = rx_link.prescription_of(purchase.lines)
    except OnlineError as e:
        raise InputError(e.field, e.rule) from e
    with common.refusals("input.druginfo"):
        try:
            if hi_rxno:
                settled, classified = yield from rx_link.settle_prescribed(cmd, hi_rxno)
            else:
                settled, classified = yield from checkout_pharmacy.settle_pharmacy(cmd)
        except OnlineError as e:
            raise BusinessError(f"{e.field}: {e.rule}") from e
    out = common.settlement_output(req, settled, mdtrt_cert_type=purchase.mdtrt_cert_type)
    out["detlcutinfo"] = [checkout_model.split_row(c, with_hosp_part=True) for c in classified]
    return out


@transaction("2103", "药店结算撤销")
def cancel(req: Request) -> Flow[dict[str, Any]]:
    settled, cert = yield from common.cancel_flow(req)
    out = common.settlement_output(req, settled, mdtrt_cert_type=cert)
    # older editions named these psn_pay / cash_payment in 2103 (§2.9): sent as well
    out["setlinfo"]["psn_pay"] = out["setlinfo"]["psn_part_amt"]
    out["setlinfo"]["cash_payment"] = out["setlinfo"]["psn_cash_pay"]
    return out
