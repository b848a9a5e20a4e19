"""Shared reading and answering for the settlement transactions (门诊/药店/住院/冲正).

Not a transaction module: it registers nothing. Reads fee-detail rows into the encounter's and
the catalogue's line types, the HIS's claimed amounts, and maps refusals to the gateway's errors:
bad input (金额不符, 并发修改) → :class:`InputError` (nothing written, msgid not consumed); a
business refusal (state, enrolment, policy) → :class:`BusinessError` (recorded).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import BusinessError, Context, Request
from yibao.api.nhsa.fields import InputError
from yibao.catalog import service as catalog_service
from yibao.catalog.model import ClassifiedLine
from yibao.catalog.model import FeeLine as CatalogLine
from yibao.checkout import model
from yibao.checkout.bills import Caller, CheckoutError, CheckoutInputError, Priced, Settled
from yibao.checkout.cancel import Cancel, cancel_settlement
from yibao.clock import CHINA
from yibao.db.flow import Flow
from yibao.encounter import store as encounter_store
from yibao.encounter.fees import FeeLine, LineSplit
from yibao.encounter.model import EncounterError
from yibao.encounter.store import EncounterConflict, StoredFeeLine
from yibao.hub.port import HUB
from yibao.registry import store as registry_store
from yibao.settlement.model import Item
from yibao.voucher.presence import PresenceRefused

#: fee-line fields read into typed attributes; everything else is kept verbatim in ``extra``
_LINE_FIELDS = {
    "feedetl_sn",
    "chrg_bchno",
    "med_list_codg",
    "medins_list_codg",
    "det_item_fee_sumamt",
    "cnt",
    "pric",
    "fee_ocur_time",
    "init_feedetl_sn",
    "mdtrt_id",
    "psn_no",
}


@contextmanager
def refusals(where: str = "input.data") -> Iterator[None]:
    """Map checkout/encounter refusals to the gateway's error types (amounts under ``where``)."""
    try:
        yield
    except model.AmountMismatch as exc:
        raise InputError(f"{where}.{exc.field}", str(exc).partition(": ")[2]) from exc
    except CheckoutInputError as exc:
        raise InputError(exc.field, exc.rule) from exc
    except PresenceRefused as exc:  # 就诊凭证核验: bad input, nothing written (issue 10)
        raise InputError(exc.field, exc.rule) from exc
    except EncounterConflict as exc:
        raise InputError("mdtrt_id", exc.err_msg) from exc
    except (CheckoutError, EncounterError) as exc:
        raise BusinessError(exc.err_msg) from exc


def insured_region(ctx: Context, psn_no: str, insutype: str, on: date, where: str) -> str:
    """The person's insured region (参保地) for ``insutype`` on ``on`` (one registry read),
    checked against the envelope's ``insuplc_admdvs`` when given."""
    enrolments = registry_store.enrolments(ctx.conn, psn_no)
    if not enrolments:
        raise BusinessError(f"{where}.psn_no: 人员编号 {psn_no} 不存在或无参保记录")
    enr = next((e for e in enrolments if e.insutype == insutype and e.active_on(on)), None)
    if enr is None:
        raise BusinessError(
            f"{where}.insutype: 人员{psn_no}在{on.isoformat()}无有效的险种{insutype}参保"
        )
    given = ctx.envelope.insuplc_admdvs
    if given and given != enr.insuplc_admdvs:
        raise InputError(
            "insuplc_admdvs",
            f"参保地医保区划须为该人员的 {enr.insuplc_admdvs}（见【1101】insuinfo），收到 {given}",
        )
    return enr.insuplc_admdvs


def jsonable(value: Any) -> Any:
    """Request details as JSON values (for the encounter's ``info``/``extra`` JSONB)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def china_date(moment: datetime) -> date:
    """The date of a moment in China time (naive = China time already)."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(CHINA).date()


def read_lines(
    rows: Sequence[dict[str, Any]],
    where: str,
    *,
    chrg_bchno: bool = False,
    allow_negative: bool = False,
) -> list[FeeLine]:
    """Fee-detail rows (``feedetail``/``drugdetail``) as encounter fee lines, fen amounts."""
    out: list[FeeLine] = []
    for i, row in enumerate(rows):
        w = f"{where}[{i}]"
        cnt = fields.number(row, "cnt", w, places=4, required=True)
        pric = fields.number(row, "pric", w, places=6, required=True, minimum=Decimal(0))
        amt = fields.amount(row, "det_item_fee_sumamt", w, required=True)
        if not allow_negative and (cnt <= 0 or amt < 0):
            raise InputError(f"{w}.cnt", "数量须大于0（退费请用撤销交易）")
        out.append(
            FeeLine(
                feedetl_sn=fields.text(row, "feedetl_sn", w, required=True, max_len=30),
                med_list_codg=fields.text(row, "med_list_codg", w, required=True, max_len=50),
                medins_list_codg=fields.text(row, "medins_list_codg", w, max_len=150),
                det_item_fee_sumamt=amt,
                cnt=cnt,
                pric=pric,
                chrg_bchno=fields.text(row, "chrg_bchno", w, required=chrg_bchno, max_len=30),
                fee_ocur_time=fields.moment(row, "fee_ocur_time", w),
                init_feedetl_sn=fields.text(row, "init_feedetl_sn", w, max_len=30),
                extra={
                    k: jsonable(v)
                    for k, v in row.items()
                    if k not in _LINE_FIELDS and v not in (None, "")
                },
            )
        )
    return out


def catalog_lines(lines: Sequence[FeeLine]) -> list[CatalogLine]:
    """The catalogue's view of fee lines (for :func:`classify`)."""
    return [
        CatalogLine(
            feedetl_sn=ln.feedetl_sn,
            med_list_codg=ln.med_list_codg,
            pric=ln.pric,
            cnt=ln.cnt,
            det_item_fee_sumamt=ln.det_item_fee_sumamt,
            medins_list_codg=ln.medins_list_codg,
            hosp_appr_flag=str(ln.extra.get("hosp_appr_flag", "0") or "0"),
        )
        for ln in lines
    ]


def splits_of(classified: Sequence[ClassifiedLine]) -> list[LineSplit]:
    """The encounter's stored split of classified lines (with what rebuilds the Item)."""
    from yibao.catalog.model import split_line

    out = []
    for c in classified:
        it = c.item
        s = split_line(it)
        out.append(
            LineSplit(
                feedetl_sn=it.feedetl_sn,
                chrgitm_lv=it.chrgitm_lv,
                med_chrgitm_type=it.med_chrgitm_type,
                fulamt_ownpay_amt=s.fulamt_ownpay_amt,
                overlmt_amt=s.overlmt_amt,
                preselfpay_amt=s.preselfpay_amt,
                inscp_scp_amt=s.inscp_scp_amt,
                selfpay_prop=it.selfpay_prop,
                pric_uplmt_amt=it.pric_uplmt_amt,
                flags=model.item_flags(c),
            )
        )
    return out


def items_of(stored: Sequence[StoredFeeLine]) -> tuple[Item, ...]:
    """Engine items of stored lines, exactly as classified at upload."""
    return tuple(
        model.item_from_stored(
            feedetl_sn=s.line.feedetl_sn,
            med_list_codg=s.line.med_list_codg,
            det_item_fee_sumamt=s.line.det_item_fee_sumamt,
            cnt=s.line.cnt,
            pric=s.line.pric,
            chrgitm_lv=s.split.chrgitm_lv,
            med_chrgitm_type=s.split.med_chrgitm_type,
            selfpay_prop=s.split.selfpay_prop,
            pric_uplmt_amt=None if s.split.pric_uplmt_amt is None else int(s.split.pric_uplmt_amt),
            flags=s.split.flags or {},
        )
        for s in stored
    )


def claimed(data: dict[str, Any], where: str, *, required: bool) -> dict[str, int | None]:
    """The HIS's amounts of 2206/2207/2303/2304 (``None`` where not sent and not required)."""
    out: dict[str, int | None] = {}
    for name in model.CLAIMED_AMOUNTS:
        present = data.get(name) not in (None, "")
        if required or present:
            out[name] = fields.amount(data, name, where, required=True)
        else:
            out[name] = None
    return out


def exp_flags(value: Any) -> dict[str, str]:
    """The 跨省异地 2.1 extension keys of an ``exp_content`` (a JSON string or an object).

    Reference nhsa-interface.md §3.13/§5 ([HN127] V1.1.21): ``IPT_TYPE`` 住院类型 (2 急诊或抢救住院),
    ``OTP_ER_REFL_FLAG`` 门诊急诊转诊标志 (1 急诊, 3 转诊合并急诊). Anything unreadable counts as empty.
    """
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    if not isinstance(value, dict):
        return {}
    return {str(k).upper(): str(v) for k, v in value.items() if v is not None}


def is_emergency(*exp_contents: Any) -> bool:
    """急诊抢救 (deemed filed, 视同备案): ``IPT_TYPE`` 2 or ``OTP_ER_REFL_FLAG`` 1/3 in any of them."""
    for exp in exp_contents:
        flags = exp_flags(exp)
        if flags.get("IPT_TYPE") == "2" or flags.get("OTP_ER_REFL_FLAG") in ("1", "3"):
            return True
    return False


def same_visit(rows: Sequence[dict[str, Any]], mdtrt_id: str, psn_no: str, where: str) -> None:
    """Every line of one upload (2204/2301) must name the same visit and person as the first."""
    for i, row in enumerate(rows[1:], start=1):
        for key, want in (("mdtrt_id", mdtrt_id), ("psn_no", psn_no)):
            if fields.text(row, key, f"{where}[{i}]", required=True) != want:
                raise InputError(f"{where}[{i}].{key}", f"同一次上传的明细须属于同一就诊（{want}）")


def classify(ctx: Context, day: date, lines: Sequence[FeeLine]) -> list[ClassifiedLine]:
    """Classify fee lines by the treatment place's catalogue (就医地目录): the caller's region."""
    try:
        return catalog_service.classify_or_raise(
            ctx.conn, ctx.institution.admdvs, day, catalog_lines(lines)
        )
    except catalog_service.ClassificationRefused as exc:
        raise CheckoutError(exc.refusals[0].message) from exc


def service_day(ctx: Context, mdtrt_id: str) -> tuple[date, date | None, dict[str, Any]]:
    """The visit's service date (begntime), discharge date (China time) and stored row."""
    row = encounter_store.encounter_info(ctx.conn, mdtrt_id)
    begn = row.get("begntime") or ctx.now
    end = row.get("endtime")
    return china_date(begn), (china_date(end) if end else None), row


def caller(req: Request) -> Caller:
    """The institution of a request, as checkout sees it."""
    inst = req.institution
    return Caller(inst.fixmedins_code, inst.fixmedins_name, inst.admdvs, inst.hosp_lv or "")


def settlement_output(
    ctx: Request,
    settled: Settled,
    *,
    mdtrt_cert_type: str,
    age: int | None = None,
) -> dict[str, Any]:
    """``{"setlinfo": …, "setldetail": […]}`` of a recorded settlement or cancellation."""
    rec = settled.record
    info = dict(rec.setlinfo)
    info["balc"] = settled.balc
    info.setdefault("psn_no", rec.encounter.psn_no)
    person = settled.person
    if age is None:
        age = settled.age
    if age is None and person is not None:
        from yibao.registry.model import age_on

        age = age_on(person.brdy, china_date(rec.setl_time))
    return {
        "setlinfo": model.national_setlinfo(
            info,
            person=person,
            age=age,
            mdtrt_cert_type=mdtrt_cert_type,
            setl_time=rec.setl_time,
            msgid=rec.msgid,
            clr_way=model.CLR_WAY_BY_ITEM,
            clr_optins=rec.encounter.mdtrtarea_admvs,
        ),
        "setldetail": model.national_setldetail(rec.setldetail),
    }


def priced_output(
    ctx: Request, priced: Priced, *, mdtrt_id: str, mdtrt_cert_type: str
) -> dict[str, Any]:
    """The pre-settlement answer (2206/2303/2101): ``setlinfo`` without ``setl_id``."""
    info = dict(priced.setlinfo)
    info["mdtrt_id"] = mdtrt_id
    return {
        "setlinfo": model.national_setlinfo(
            info,
            person=priced.person,
            age=priced.snapshot.age,
            mdtrt_cert_type=mdtrt_cert_type,
            setl_time=None,
            msgid=ctx.msgid,
            clr_way=model.CLR_WAY_BY_ITEM,
            clr_optins=ctx.institution.admdvs,
        ),
        "setldetail": model.national_setldetail(priced.setldetail),
    }


def cancel_flow(req: Request) -> Flow[tuple[Settled, str]]:
    """2208/2305/2103: cancel ``setl_id`` of the visit named in ``input.data``; the cancellation
    and the certificate type of the original settlement."""
    data = req.node("data")
    w = "input.data"
    cmd = Cancel(
        caller(req),
        mdtrt_id=fields.text(data, "mdtrt_id", w, required=True, max_len=30, label="就诊ID"),
        psn_no=fields.text(data, "psn_no", w, required=True, max_len=30, label="人员编号"),
        setl_id=fields.text(data, "setl_id", w, required=True, max_len=30, label="结算ID"),
        msgid=req.msgid,
        now=req.now,
        hub=HUB,
    )
    with refusals():
        settled = yield from cancel_settlement(cmd)
    return settled, str(settled.record.setlinfo.get("mdtrt_cert_type") or "")
