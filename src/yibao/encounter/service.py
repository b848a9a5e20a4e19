"""Encounter use cases (就诊服务) the gateway's handlers call.

Each function takes the caller's connection and runs inside the caller's transaction (no commit
here): the handler stores its msgid log entry, the encounter change, the ledger chain and the
accumulators in one transaction. Illegal requests raise :class:`EncounterError` (with
``err_msg``) before anything is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from yibao.encounter import model, store
from yibao.encounter.amounts import (
    add_counters,
    amounts_of,
    check_identities,
    negate_setldetail,
    negate_setlinfo,
)
from yibao.encounter.fees import FeeLine, LineSplit, check_lines
from yibao.encounter.ids import KIND_LETTER, SETTLEMENT_LETTER, format_id
from yibao.encounter.model import Encounter, EncounterError, Kind
from yibao.encounter.reconcile import (
    DetailResult,
    DetailRow,
    Totals,
    TotalsResult,
    compare_details,
    compare_totals,
)
from yibao.encounter.records import SettlementRecord as SettlementRecord  # re-export
from yibao.encounter.records import business_day as business_day  # re-export
from yibao.encounter.records import jsonable, settlement_row
from yibao.encounter.store import lock_accumulators as lock_accumulators  # re-export


def new_mdtrt_id(conn: sa.Connection, kind: Kind, admdvs: str, day: dt.date) -> str:
    """A fresh ``mdtrt_id`` (format in :mod:`yibao.encounter.ids`)."""
    return format_id(admdvs, KIND_LETTER[kind], day, store.next_seq(conn, "encounter_mdtrt_seq"))


def new_setl_id(conn: sa.Connection, admdvs: str, day: dt.date) -> str:
    """A fresh ``setl_id``."""
    return setl_id_of(admdvs, day, store.next_seq(conn, "encounter_setl_seq"))


def setl_id_of(admdvs: str, day: dt.date, seq: int) -> str:
    """The ``setl_id`` of an ``encounter_setl_seq`` value drawn already (e.g. with the lock)."""
    return format_id(admdvs, SETTLEMENT_LETTER, day, seq)


def load(
    conn: sa.Connection,
    mdtrt_id: str,
    *,
    fixmedins_code: str | None = None,
    psn_no: str | None = None,
) -> Encounter:
    """The visit, checked to belong to the institution (and person) when given."""
    return store.load_encounter(conn, mdtrt_id, fixmedins_code=fixmedins_code, psn_no=psn_no)


# ------------------------------------------------------------------------------ outpatient


def register_outpatient(
    conn: sa.Connection,
    *,
    psn_no: str,
    insutype: str,
    fixmedins_code: str,
    insuplc_admdvs: str,
    mdtrtarea_admvs: str,
    begntime: dt.datetime,
    ipt_otp_no: str,
    msgid: str,
    info: Mapping[str, object] | None = None,
) -> Encounter:
    """2201 门诊挂号: creates the visit and returns it (``mdtrt_id`` is new)."""
    mdtrt_id = new_mdtrt_id(conn, Kind.OUTPATIENT, mdtrtarea_admvs, business_day(begntime))
    enc = model.register_outpatient(
        mdtrt_id=mdtrt_id,
        psn_no=psn_no,
        insutype=insutype,
        fixmedins_code=fixmedins_code,
        insuplc_admdvs=insuplc_admdvs,
        mdtrtarea_admvs=mdtrtarea_admvs,
    )
    store.insert_encounter(
        conn, enc, msgid=msgid, ipt_otp_no=ipt_otp_no, begntime=begntime, info=info
    )
    return enc


def cancel_registration(
    conn: sa.Connection, mdtrt_id: str, *, psn_no: str, fixmedins_code: str
) -> Encounter:
    """2202 门诊挂号撤销."""
    enc = load(conn, mdtrt_id, fixmedins_code=fixmedins_code, psn_no=psn_no)
    after = model.cancel_registration(enc)
    store.save_encounter(conn, enc, after)
    return after


def upload_visit_info(
    conn: sa.Connection,
    mdtrt_id: str,
    *,
    psn_no: str,
    fixmedins_code: str,
    med_type: str,
    dise_codg: str = "",
    dise_name: str = "",
    begntime: dt.datetime | None = None,
    info: Mapping[str, object] | None = None,
) -> Encounter:
    """2203 门诊就诊信息上传 (mdtrtinfo + diseinfo kept in ``info``)."""
    enc = load(conn, mdtrt_id, fixmedins_code=fixmedins_code, psn_no=psn_no)
    after = model.upload_visit_info(enc, med_type)
    cols: dict[str, object] = {"dise_codg": dise_codg, "dise_name": dise_name}
    if begntime is not None:
        cols["begntime"] = begntime
    if info:
        cols["info"] = _merge_info(info)
    store.save_encounter(conn, enc, after, **cols)
    return after


def upload_fee_batch(
    conn: sa.Connection,
    mdtrt_id: str,
    *,
    psn_no: str,
    fixmedins_code: str,
    chrg_bchno: str,
    lines: Sequence[FeeLine],
    splits: Sequence[LineSplit],
    msgid: str,
) -> Encounter:
    """2204 门诊费用明细信息上传: stores the lines and the caller's split (2204 ``result``)."""
    enc = load(conn, mdtrt_id, fixmedins_code=fixmedins_code, psn_no=psn_no)
    for ln in lines:
        if ln.chrg_bchno != chrg_bchno:
            raise EncounterError(
                f"{ln.feedetl_sn}: chrg_bchno（收费批次号）须与本批次一致（{chrg_bchno}）"
            )
    by_sn = check_lines(lines, splits)
    after = model.upload_fee_batch(enc, chrg_bchno, len(lines))
    store.save_encounter(conn, enc, after)
    store.insert_fee_lines(conn, mdtrt_id, lines, by_sn, msgid=msgid)
    return after


def remove_fee_batch(
    conn: sa.Connection, mdtrt_id: str, *, psn_no: str, fixmedins_code: str, chrg_bchno: str
) -> tuple[Encounter, int]:
    """2205 门诊费用明细信息撤销 ("0000" = every unsettled batch); returns lines removed."""
    enc = load(conn, mdtrt_id, fixmedins_code=fixmedins_code, psn_no=psn_no)
    model.remove_fee_batch(enc, chrg_bchno, 0)  # state check before any write
    gone = model.batches_to_remove(enc, chrg_bchno)
    removed = store.delete_unsettled_lines(conn, mdtrt_id, batches=sorted(gone))
    after = model.remove_fee_batch(enc, chrg_bchno, removed)
    store.save_encounter(conn, enc, after)
    return after, removed


def pre_settle(
    conn: sa.Connection,
    mdtrt_id: str,
    *,
    psn_no: str,
    fixmedins_code: str,
    chrg_bchno: str | None = None,
    mid_setl: bool = False,
) -> Encounter:
    """2206 门诊预结算 / 2303 住院预结算: checks the state and records 已预结算; reserves nothing."""
    enc = load(conn, mdtrt_id, fixmedins_code=fixmedins_code, psn_no=psn_no)
    if enc.kind is Kind.OUTPATIENT:
        after = model.pre_settle_outpatient(enc, chrg_bchno)
    elif enc.kind is Kind.INPATIENT:
        after = model.pre_settle_inpatient(enc, mid_setl)
    else:
        raise model.IllegalTransition(enc, "2206", "药店购药请使用【2101】")
    if after.state is not enc.state:
        store.save_encounter(conn, enc, after)
    return after if after.state is not enc.state else enc


def lines_to_settle(
    conn: sa.Connection, enc: Encounter, *, chrg_bchno: str | None = None
) -> list[store.StoredFeeLine]:
    """The unsettled lines a 2206/2207 (one batch or all) or 2303/2304 would settle."""
    if enc.kind is Kind.OUTPATIENT:
        batches = model.batches_to_settle(enc, "2207", chrg_bchno)
        return [
            s
            for s in store.fee_lines(conn, enc.mdtrt_id, unsettled_only=True)
            if s.line.chrg_bchno in batches
        ]
    return store.fee_lines(conn, enc.mdtrt_id, unsettled_only=True)


# ------------------------------------------------------------------------------ inpatient


def admit(
    conn: sa.Connection,
    *,
    psn_no: str,
    insutype: str,
    med_type: str,
    fixmedins_code: str,
    insuplc_admdvs: str,
    mdtrtarea_admvs: str,
    begntime: dt.datetime,
    ipt_no: str,
    msgid: str,
    dise_codg: str = "",
    dise_name: str = "",
    info: Mapping[str, object] | None = None,
) -> Encounter:
    """2401 入院办理: creates the stay (mdtrtinfo + diseinfo kept in ``info``)."""
    mdtrt_id = new_mdtrt_id(conn, Kind.INPATIENT, mdtrtarea_admvs, business_day(begntime))
    enc = model.admit(
        mdtrt_id=mdtrt_id,
        psn_no=psn_no,
        insutype=insutype,
        med_type=med_type,
        fixmedins_code=fixmedins_code,
        insuplc_admdvs=insuplc_admdvs,
        mdtrtarea_admvs=mdtrtarea_admvs,
    )
    store.insert_encounter(
        conn,
        enc,
        msgid=msgid,
        ipt_otp_no=ipt_no,
        begntime=begntime,
        info=info,
        dise_codg=dise_codg,
        dise_name=dise_name,
    )
    return enc


def update_admission(
    conn: sa.Connection,
    mdtrt_id: str,
    *,
    psn_no: str,
    fixmedins_code: str,
    med_type: str | None = None,
    info: Mapping[str, object] | None = None,
) -> Encounter:
    """2403 住院信息变更."""
    enc = load(conn, mdtrt_id, fixmedins_code=fixmedins_code, psn_no=psn_no)
    after = model.update_admission(enc, med_type)
    cols: dict[str, object] = {}
    if info:
        cols["info"] = _merge_info(info)
    store.save_encounter(conn, enc, after, **cols)
    return after


def upload_inpatient_fees(
    conn: sa.Connection,
    mdtrt_id: str,
    *,
    psn_no: str,
    fixmedins_code: str,
    lines: Sequence[FeeLine],
    splits: Sequence[LineSplit],
    msgid: str,
) -> Encounter:
    """2301 住院费用明细上传 (refund lines 退单 may be negative)."""
    enc = load(conn, mdtrt_id, fixmedins_code=fixmedins_code, psn_no=psn_no)
    by_sn = check_lines(lines, splits, allow_negative=True)
    after = model.upload_inpatient_fees(enc, len(lines))
    store.save_encounter(conn, enc, after)
    store.insert_fee_lines(conn, mdtrt_id, lines, by_sn, msgid=msgid)
    return after


def remove_inpatient_fees(
    conn: sa.Connection, mdtrt_id: str, *, psn_no: str, fixmedins_code: str, feedetl_sn: str
) -> tuple[Encounter, int]:
    """2302 住院费用明细撤销 ("0000" = all unsettled lines)."""
    enc = load(conn, mdtrt_id, fixmedins_code=fixmedins_code, psn_no=psn_no)
    model.remove_inpatient_fees(enc, 1, feedetl_sn)  # state check before any write
    removed = store.delete_unsettled_lines(conn, mdtrt_id, feedetl_sn=feedetl_sn)
    after = model.remove_inpatient_fees(enc, removed, feedetl_sn)
    store.save_encounter(conn, enc, after)
    return after, removed


def discharge(
    conn: sa.Connection,
    mdtrt_id: str,
    *,
    psn_no: str,
    fixmedins_code: str,
    endtime: dt.datetime,
    dise_codg: str = "",
    dise_name: str = "",
    info: Mapping[str, object] | None = None,
) -> Encounter:
    """2402 出院办理 (dscginfo + diseinfo kept in ``info``)."""
    enc = load(conn, mdtrt_id, fixmedins_code=fixmedins_code, psn_no=psn_no)
    after = model.discharge(enc)
    cols: dict[str, object] = {"endtime": endtime}
    if dise_codg:
        cols.update(dise_codg=dise_codg, dise_name=dise_name)
    if info:
        cols["info"] = _merge_info({"dscginfo": dict(info)})
    store.save_encounter(conn, enc, after, **cols)
    return after


def undo_discharge(
    conn: sa.Connection, mdtrt_id: str, *, psn_no: str, fixmedins_code: str
) -> Encounter:
    """2405 出院撤销."""
    enc = load(conn, mdtrt_id, fixmedins_code=fixmedins_code, psn_no=psn_no)
    after = model.undo_discharge(enc)
    store.save_encounter(conn, enc, after, endtime=None)
    return after


def cancel_admission(
    conn: sa.Connection, mdtrt_id: str, *, psn_no: str, fixmedins_code: str
) -> Encounter:
    """2404 入院撤销."""
    enc = load(conn, mdtrt_id, fixmedins_code=fixmedins_code, psn_no=psn_no)
    after = model.cancel_admission(enc)
    store.save_encounter(conn, enc, after)
    return after


# ------------------------------------------------------------------------------ pharmacy


def open_pharmacy_sale(
    conn: sa.Connection,
    *,
    psn_no: str,
    insutype: str,
    med_type: str,
    fixmedins_code: str,
    insuplc_admdvs: str,
    mdtrtarea_admvs: str,
    begntime: dt.datetime,
    lines: Sequence[FeeLine],
    splits: Sequence[LineSplit],
    msgid: str,
    info: Mapping[str, object] | None = None,
) -> Encounter:
    """2102 药店结算, first half: the visit (购药中) and its drug lines; then
    :func:`record_settlement` in the same transaction."""
    by_sn = check_lines(lines, splits)
    mdtrt_id = new_mdtrt_id(conn, Kind.PHARMACY, mdtrtarea_admvs, business_day(begntime))
    enc = model.open_pharmacy_sale(
        mdtrt_id=mdtrt_id,
        psn_no=psn_no,
        insutype=insutype,
        med_type=med_type,
        fixmedins_code=fixmedins_code,
        insuplc_admdvs=insuplc_admdvs,
        mdtrtarea_admvs=mdtrtarea_admvs,
        line_count=len(lines),
    )
    store.insert_encounter(conn, enc, msgid=msgid, begntime=begntime, info=info)
    store.insert_fee_lines(conn, mdtrt_id, lines, by_sn, msgid=msgid)
    return enc


# ------------------------------------------------------------------------------ settlements


def record_settlement(
    conn: sa.Connection,
    enc: Encounter,
    *,
    msgid: str,
    setlinfo: Mapping[str, object],
    setldetail: Sequence[Mapping[str, object]],
    trace: object,
    accumulator_deltas: Mapping[str, int],
    acc_year: int,
    setl_time: dt.datetime,
    clr_type: str,
    clr_way: str = "",
    clr_optins: str = "",
    chrg_bchno: str | None = None,
    mid_setl: bool = False,
    setl_id: str | None = None,
) -> SettlementRecord:
    """2207 / 2304 / 2102: store the engine's result, settle the lines, add the accumulators.

    ``enc`` is the visit as loaded before the engine ran (its ``version`` guards against a
    concurrent change). ``setlinfo`` amounts are fen and must satisfy the identities of
    DESIGN §5. The deltas are added to the accumulator row (``psn_no`` × ``insuplc_admdvs`` ×
    ``acc_year``) by one row-locking upsert; lock it with :func:`lock_accumulators` *before*
    running the engine so the counters read are the ones updated. Every check (amounts, deltas,
    state) runs before the first write. Returns the record with the new ``setl_id``.
    """
    amounts = amounts_of(setlinfo)
    check_identities(amounts)
    add_counters({}, accumulator_deltas)  # integers only
    if enc.kind is Kind.OUTPATIENT:
        batches: list[str] | None = sorted(model.batches_to_settle(enc, "2207", chrg_bchno))
    else:
        batches = None
    if setl_id is None:  # the state check before a sequence value is drawn
        model.settle(enc, setl_id="-", chrg_bchno=chrg_bchno, mid_setl=mid_setl)
        setl_id = new_setl_id(conn, enc.mdtrtarea_admvs, business_day(setl_time))
    stored = model.settle(enc, setl_id=setl_id, chrg_bchno=chrg_bchno, mid_setl=mid_setl)
    info = {**dict(setlinfo), "setl_id": setl_id, "mdtrt_id": enc.mdtrt_id}
    row = settlement_row(
        enc,
        setl_id,
        "settle",
        msgid,
        info,
        setldetail,
        trace,
        accumulator_deltas,
        acc_year,
        None,
        setl_time,
        clr_type,
        clr_way,
        clr_optins,
        mid_setl,
        chrg_bchno or "",
        (),
    )
    sns = store.record_settlement_rows(
        conn,
        enc,
        stored,
        setl_id=setl_id,
        batches=batches,
        acc_year=acc_year,
        deltas=dict(accumulator_deltas),
        row=row,
    )
    after = model.settle(
        enc, setl_id=setl_id, chrg_bchno=chrg_bchno, mid_setl=mid_setl, settled_lines=len(sns)
    )
    return SettlementRecord(
        setl_id,
        enc.mdtrt_id,
        "settle",
        msgid,
        info,
        list(setldetail),
        dict(accumulator_deltas),
        acc_year,
        None,
        setl_time,
        after,
        sns,
    )


def record_cancellation(
    conn: sa.Connection,
    enc: Encounter,
    *,
    original_setl_id: str,
    msgid: str,
    setl_time: dt.datetime,
    setl_id: str | None = None,
    trace: object = None,
) -> SettlementRecord:
    """2208 / 2305 / 2103 (and 2601 of a settlement): a new negative record, never an edit.

    Negates every amount of the original, subtracts its accumulator deltas from the same
    accumulator row, releases its fee lines and returns the record (new ``setl_id``).
    """
    original = store.load_settlement(conn, original_setl_id)
    if original is None or original["mdtrt_id"] != enc.mdtrt_id or original["kind"] != "settle":
        raise model.IllegalTransition(
            enc, model.CANCEL_INFNO[enc.kind], f"结算ID {original_setl_id} 不存在或不属于本次就诊"
        )
    model.cancel(enc, setl_id=original_setl_id)  # state check before any write
    setl_id = setl_id or new_setl_id(conn, enc.mdtrtarea_admvs, business_day(setl_time))
    released = store.release_lines(conn, original_setl_id)
    after = model.cancel(enc, setl_id=original_setl_id, released_lines=released)
    store.save_encounter(conn, enc, after)
    deltas: dict[str, int] = {k: -int(v) for k, v in original["accumulator_deltas"].items()}
    store.add_to_accumulators(
        conn, original["psn_no"], original["insuplc_admdvs"], original["acc_year"], deltas
    )
    info = negate_setlinfo(original["setlinfo"])
    info.update(setl_id=setl_id, mdtrt_id=enc.mdtrt_id, medins_setl_id=msgid)
    detail = negate_setldetail(original["setldetail"])
    store.insert_settlement(
        conn,
        settlement_row(
            enc,
            setl_id,
            "cancel",
            msgid,
            info,
            detail,
            trace if trace is not None else {"reverses": original_setl_id},
            deltas,
            original["acc_year"],
            original_setl_id,
            setl_time,
            original["clr_type"],
            original["clr_way"],
            original["clr_optins"],
            original["mid_setl_flag"],
            original["chrg_bchno"],
            list(original["feedetl_sns"]),
        ),
    )
    return SettlementRecord(
        setl_id,
        enc.mdtrt_id,
        "cancel",
        msgid,
        info,
        detail,
        deltas,
        original["acc_year"],
        original_setl_id,
        setl_time,
        after,
        list(original["feedetl_sns"]),
    )


def _merge_info(info: Mapping[str, object]) -> sa.ColumnElement[Any]:
    """``info || :new`` (JSONB merge) for the visit's request details."""
    return store.encounter.c.info.op("||")(sa.cast(jsonable(info), JSONB))


def settlement(conn: sa.Connection, setl_id: str) -> dict[str, Any] | None:
    """A stored settlement record (for 5203 and the msgid log), or None."""
    return store.load_settlement(conn, setl_id)


# ------------------------------------------------------------------------------ reconciliation


def reconcile_totals(
    conn: sa.Connection,
    *,
    fixmedins_code: str,
    insutype: str,
    clr_type: str,
    setl_optins: str,
    begndate: dt.date,
    enddate: dt.date,
    claimed: Totals,
    refd_setl_flag: str | None = None,
) -> TotalsResult:
    """3201 医药机构费用结算对总账."""
    ours = store.settlement_totals(
        conn,
        fixmedins_code=fixmedins_code,
        insutype=insutype,
        clr_type=clr_type,
        setl_optins=setl_optins,
        begndate=begndate,
        enddate=enddate,
        refd_setl_flag=refd_setl_flag,
    )
    return compare_totals(setl_optins, ours, claimed)


def reconcile_details(
    conn: sa.Connection,
    *,
    fixmedins_code: str,
    setl_optins: str,
    begndate: dt.date,
    enddate: dt.date,
    rows: Sequence[DetailRow],
    clr_type: str | None = None,
    refd_setl_flag: str | None = None,
) -> list[DetailResult]:
    """3202 医药机构费用结算对明细账: one result row per ``setl_id`` on either side."""
    ours = store.settlement_details(
        conn,
        fixmedins_code=fixmedins_code,
        setl_optins=setl_optins,
        begndate=begndate,
        enddate=enddate,
        clr_type=clr_type,
        refd_setl_flag=refd_setl_flag,
    )
    return compare_details(ours, rows)


def rollup_settlements(conn: sa.Connection) -> int:
    """Fold finished settlement records into the daily roll-ups (结算日汇总,
    :mod:`yibao.encounter.daily`); returns how many records were folded. Safe to run any time;
    run by ``yibao ledger rollup`` and the app's periodic roll-up."""
    from yibao.encounter import daily

    return daily.rollup(conn)
