"""5201–5206 查询 (nhsa-interface.md §2.12), over this institution's records (read only).

- 5201 就诊信息查询 ``data{psn_no, begntime, endtime, med_type, mdtrt_id}`` → ``mdtrtinfo[]``;
- 5202 诊断信息查询 ``data{mdtrt_id, psn_no}`` → ``diseinfo[]``;
- 5203 结算信息查询 ``data{psn_no, setl_id, mdtrt_id}`` → ``setlinfo`` (extended) + ``setldetail[]``;
- 5204 费用明细查询 ``data{psn_no, setl_id, mdtrt_id}`` → ``output[]`` fee lines with their split;
- 5205 人员慢特病用药记录查询 ``data{psn_no, begntime, endtime}`` → ``feedetail[]`` drug lines of
  门诊慢特病 visits (med_type 14, 9901, 990101, 18);
- 5206 人员累计信息查询 ``data{psn_no, cum_ym}`` → ``cuminfo[]`` year-to-date accumulators.

A query by ``psn_no`` (5201, 5205, 5206) is answered only when the institution has a visit with
the person or a live proof of their presence (issue 10): ``psn_no`` is not an authorisation.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import sqlalchemy as sa

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import BusinessError, Context, transaction
from yibao.api.nhsa.fields import InputError
from yibao.api.nhsa.handlers import _setlinfo_5203 as form_5203
from yibao.api.nhsa.handlers._settle_common import china_date
from yibao.checkout import model as checkout_model
from yibao.clock import CHINA
from yibao.encounter import store as es
from yibao.institutions import store as institutions_store
from yibao.money import fen_to_yuan
from yibao.registry import store as registry_store
from yibao.registry.model import age_on
from yibao.voucher import presence

CHRONIC_MED_TYPES = ("14", "9901", "990101", "18")
DRUG_LIST_TYPES = ("101", "102", "103", "104", "105", "106")


def _t(moment: datetime | None) -> str:
    return f"{moment.astimezone(CHINA):%Y-%m-%d %H:%M:%S}" if moment else ""


def _range(data: dict[str, Any], w: str, a: str, b: str) -> tuple[datetime, datetime]:
    begn = fields.day(data, a, w, required=True)
    end = fields.day(data, b, w, required=True)
    assert begn is not None and end is not None
    if end < begn:
        raise InputError(f"{w}.{b}", "结束时间不能早于开始时间")
    return (
        datetime.combine(begn, time.min, CHINA),
        datetime.combine(end, time(23, 59, 59), CHINA),
    )


def _person(ctx: Context, psn_no: str, w: str) -> Any:
    """The person, if this institution may learn about them: a visit here or a live proof of
    presence (:func:`yibao.voucher.presence.may_query`). An unknown ``psn_no`` gets the same
    answer as a person the institution has no business with, so guessing learns nothing."""
    org = ctx.institution.fixmedins_code
    p = None
    if presence.may_query(ctx.conn, psn_no=psn_no, fixmedins_code=org, now=ctx.now):
        p = registry_store.get_person(ctx.conn, psn_no)
    if p is None:
        raise BusinessError(
            f"{w}.psn_no: 本机构无人员 {psn_no} 的就诊记录或有效就诊凭证（请先以【1101】核验身份）"
        )
    return p


@transaction("5201", "就诊信息查询")
def visits(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    psn_no = fields.text(data, "psn_no", w, required=True, max_len=30, label="人员编号")
    begn, end = _range(data, w, "begntime", "endtime")
    med_type = fields.code(data, "med_type", w, "med_type")
    mdtrt_id = fields.text(data, "mdtrt_id", w, max_len=30)
    p = _person(ctx, psn_no, w)
    t = es.encounter
    q = sa.select(t).where(
        t.c.psn_no == psn_no,
        t.c.fixmedins_code == ctx.institution.fixmedins_code,
        t.c.begntime.between(begn, end),
    )
    if med_type:
        q = q.where(t.c.med_type == med_type)
    if mdtrt_id:
        q = q.where(t.c.mdtrt_id == mdtrt_id)
    rows = ctx.conn.execute(q.order_by(t.c.begntime, t.c.mdtrt_id)).mappings().all()
    return {
        "mdtrtinfo": [
            {
                "mdtrt_id": r["mdtrt_id"],
                "psn_no": psn_no,
                "psn_cert_type": p.psn_cert_type,
                "certno": p.certno,
                "psn_name": p.psn_name,
                "gend": p.gend,
                "naty": p.naty,
                "brdy": p.brdy.isoformat(),
                "age": age_on(p.brdy, china_date(r["begntime"])),
                "insutype": r["insutype"],
                "med_type": r["med_type"],
                "begntime": _t(r["begntime"]),
                "endtime": _t(r["endtime"]),
                "ipt_otp_no": r["ipt_otp_no"] or "",
                "dise_codg": r["dise_codg"] or "",
                "dise_name": r["dise_name"] or "",
                "fixmedins_code": r["fixmedins_code"],
                "fixmedins_name": ctx.institution.fixmedins_name,
                "insuplc_admdvs": r["insuplc_admdvs"],
                "mdtrtarea_admvs": r["mdtrtarea_admvs"],
                "mdtrt_stas": r["state"],
                "inhosp_stas": "1" if r["kind"] == "inpatient" and not r["discharged"] else "0",
            }
            for r in rows
        ]
    }


def _visit_row(ctx: Context, data: dict[str, Any], w: str) -> dict[str, Any]:
    mdtrt_id = fields.text(data, "mdtrt_id", w, required=True, max_len=30, label="就诊ID")
    psn_no = fields.text(data, "psn_no", w, required=True, max_len=30, label="人员编号")
    try:
        row = es.encounter_info(ctx.conn, mdtrt_id)
    except es.EncounterNotFound as exc:
        raise BusinessError(f"{w}.mdtrt_id: {exc.err_msg}") from exc
    if row["psn_no"] != psn_no or row["fixmedins_code"] != ctx.institution.fixmedins_code:
        raise BusinessError(f"{w}.mdtrt_id: 就诊ID {mdtrt_id} 不属于本机构或该参保人")
    return row


@transaction("5202", "诊断信息查询")
def diagnoses(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    row = _visit_row(ctx, data, "input.data")
    info = row.get("info") or {}
    out = []
    for inout, rows in (("1", info.get("diseinfo") or []), ("2", _discharge_dise(info))):
        for n, d in enumerate(rows, start=1):
            out.append(
                {
                    "diag_info_id": f"{row['mdtrt_id']}-{inout}-{n}",
                    "mdtrt_id": row["mdtrt_id"],
                    "psn_no": row["psn_no"],
                    "inout_diag_type": inout,
                    "diag_type": d.get("diag_type", ""),
                    "maindiag_flag": d.get("maindiag_flag", "1" if n == 1 else "0"),
                    "diag_srt_no": d.get("diag_srt_no", str(n)),
                    "diag_code": d.get("diag_code", ""),
                    "diag_name": d.get("diag_name", ""),
                    "adm_cond": d.get("adm_cond", ""),
                    "diag_dept": d.get("diag_dept", ""),
                    "dise_dor_no": d.get("dise_dor_no", ""),
                    "dise_dor_name": d.get("dise_dor_name", ""),
                    "diag_time": d.get("diag_time", ""),
                }
            )
    return {"diseinfo": out}


def _discharge_dise(info: dict[str, Any]) -> list[dict[str, Any]]:
    dscg = info.get("dscginfo") or {}
    rows = dscg.get("diseinfo") if isinstance(dscg, dict) else None
    return list(rows or [])


def _settlement(ctx: Context, data: dict[str, Any], w: str) -> dict[str, Any]:
    setl_id = fields.text(data, "setl_id", w, required=True, max_len=30, label="结算ID")
    row = _visit_row(ctx, data, w)
    rec = es.load_settlement(ctx.conn, setl_id)
    if rec is None or rec["mdtrt_id"] != row["mdtrt_id"]:
        raise BusinessError(f"{w}.setl_id: 结算ID {setl_id} 不存在或不属于该就诊")
    return rec


@transaction("5203", "结算信息查询")
def settlement(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    rec = _settlement(ctx, data, w)
    p = _person(ctx, rec["psn_no"], w)
    visit = _visit_row(ctx, data, w)
    info = dict(rec["setlinfo"])
    begn = visit["begntime"].astimezone(CHINA) if visit.get("begntime") else None
    out = checkout_model.national_setlinfo(
        info,
        person=p,
        age=age_on(p.brdy, china_date(rec["setl_time"])),
        mdtrt_cert_type=str(info.get("mdtrt_cert_type") or ""),
        setl_time=rec["setl_time"],
        msgid=rec["msgid"],
        clr_way=rec["clr_way"] or "",
        clr_optins=rec["clr_optins"] or "",
    )
    inst = ctx.institution
    enrolment = next(
        (e for e in registry_store.enrolments(ctx.conn, p.psn_no) if e.insutype == rec["insutype"]),
        None,
    )
    opter_id = _opter_of(ctx, rec["msgid"])
    operator = institutions_store.get_operator(ctx.conn, inst.fixmedins_code, opter_id)
    end = visit.get("endtime")
    setlinfo = form_5203.setlinfo_5203(
        out,
        flxempe_flag="1" if enrolment is not None and enrolment.flxempe_flag else "0",
        nwb=form_5203.nwb_flag(p.brdy, begn.date() if begn else china_date(rec["setl_time"])),
        insu_optins=rec["insuplc_admdvs"],
        emp_name=enrolment.emp_name if enrolment is not None else "",
        pay_loc=checkout_model.pay_loc(rec["insuplc_admdvs"], rec["mdtrtarea_admvs"]),
        institution={
            "fixmedins_code": inst.fixmedins_code,
            "fixmedins_name": inst.fixmedins_name,
            "hosp_lv": inst.hosp_lv,
            "fixmedins_poolarea": inst.admdvs,
            "lmtpric_hosp_lv": inst.dedc_hosp_lv,
            "dedc_hosp_lv": inst.dedc_hosp_lv,
        },
        begn=begn,
        end=end.astimezone(CHINA) if end else rec["setl_time"].astimezone(CHINA),
        refd=form_5203.refd_setl_flag(rec["kind"], es.cancellation_of(ctx.conn, rec["setl_id"])),
        year=str(rec["acc_year"]),
        dise_codg=visit.get("dise_codg") or "",
        dise_name=visit.get("dise_name") or "",
        opter_id=opter_id,
        opter_name=operator.opter_name if operator is not None else "",
        mid_setl_flag="1" if rec["mid_setl_flag"] else "0",
    )
    return {
        "setlinfo": setlinfo,
        "setldetail": checkout_model.national_setldetail(rec["setldetail"]),
    }


def _opter_of(ctx: Context, msgid: str) -> str:
    """The operator (经办人) who sent the settlement's message (kept on its message-log row)."""
    row = ctx.conn.execute(
        sa.text("SELECT opter FROM gateway_message WHERE fixmedins_code = :fix AND msgid = :msgid"),
        {"fix": ctx.institution.fixmedins_code, "msgid": msgid},
    ).first()
    return str(row[0] or "") if row is not None else ""


@transaction("5204", "费用明细查询")
def fee_details(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    setl_id = fields.text(data, "setl_id", w, max_len=30)
    if setl_id:
        rec = _settlement(ctx, data, w)
        lines = es.fee_lines(ctx.conn, rec["mdtrt_id"], setl_id=rec["reverses"] or setl_id)
        mdtrt_id = rec["mdtrt_id"]
    else:
        row = _visit_row(ctx, data, w)
        mdtrt_id = row["mdtrt_id"]
        lines = es.fee_lines(ctx.conn, mdtrt_id)
    return {"output": [_line(mdtrt_id, s) for s in lines]}


def _line(mdtrt_id: str, s: es.StoredFeeLine) -> dict[str, Any]:
    ln, sp = s.line, s.split
    extra = dict(ln.extra or {})
    return {
        "mdtrt_id": mdtrt_id,
        "setl_id": s.settled_setl_id or "",
        "feedetl_sn": ln.feedetl_sn,
        "rx_drord_no": extra.get("rxno") or extra.get("drord_no") or "",
        "med_type": extra.get("med_type", ""),
        "fee_ocur_time": _t(ln.fee_ocur_time),
        "cnt": ln.cnt,
        "pric": ln.pric,
        "det_item_fee_sumamt": fen_to_yuan(ln.det_item_fee_sumamt),
        "pric_uplmt_amt": fen_to_yuan(int(sp.pric_uplmt_amt or 0)),
        "selfpay_prop": sp.selfpay_prop,
        "fulamt_ownpay_amt": fen_to_yuan(sp.fulamt_ownpay_amt),
        "overlmt_amt": fen_to_yuan(sp.overlmt_amt),
        "preselfpay_amt": fen_to_yuan(sp.preselfpay_amt),
        "inscp_scp_amt": fen_to_yuan(sp.inscp_scp_amt),
        "chrgitm_lv": sp.chrgitm_lv,
        "med_chrgitm_type": sp.med_chrgitm_type,
        "med_list_codg": ln.med_list_codg,
        "medins_list_codg": ln.medins_list_codg,
        "memo": str((sp.flags or {}).get("memo", "")),
    }


@transaction("5205", "人员慢特病用药记录查询")
def chronic_drugs(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    psn_no = fields.text(data, "psn_no", w, required=True, max_len=30, label="人员编号")
    begn, end = _range(data, w, "begntime", "endtime")
    _person(ctx, psn_no, w)
    t = es.encounter
    ids = ctx.conn.execute(
        sa.select(t.c.mdtrt_id)
        .where(
            t.c.psn_no == psn_no,
            t.c.fixmedins_code == ctx.institution.fixmedins_code,
            t.c.med_type.in_(CHRONIC_MED_TYPES),
            t.c.begntime.between(begn, end),
        )
        .order_by(t.c.begntime)
    ).scalars()
    out = []
    for mdtrt_id in ids:
        for s in es.fee_lines(ctx.conn, mdtrt_id):
            if s.settled_setl_id and str((s.split.flags or {}).get("list_type")) in DRUG_LIST_TYPES:
                out.append(_line(mdtrt_id, s))
    return {"feedetail": out}


@transaction("5206", "人员累计信息查询")
def cumulative(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    psn_no = fields.text(data, "psn_no", w, required=True, max_len=30, label="人员编号")
    cum_ym = fields.text(data, "cum_ym", w, required=True, max_len=6, label="累计年月")
    if len(cum_ym) != 6 or not cum_ym.isdigit():
        raise InputError(f"{w}.cum_ym", f"累计年月格式须为 yyyyMM，收到 {cum_ym!r}")
    _person(ctx, psn_no, w)
    t = es.encounter_accumulator
    rows = ctx.conn.execute(
        sa.select(t).where(t.c.psn_no == psn_no, t.c.year == int(cum_ym[:4]))
    ).mappings()
    out = []
    for r in rows:
        for key, value in sorted((r["counters"] or {}).items()):
            out.append(
                {
                    "insuplc_admdvs": r["insuplc_admdvs"],
                    "year": str(r["year"]),
                    "cum_type_code": key,
                    "cum": int(value) if key == "admissions" else fen_to_yuan(int(value)),
                }
            )
    return {"cuminfo": out}
