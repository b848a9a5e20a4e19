"""Filing use cases (异地就医备案): file, cancel, end, and the status the engine needs.

Every function runs in the caller's transaction (``conn``); state changes are idempotent on the
caller's request id (``source`` + ``request_id``: the HIS ``msgid``, or the app's request id).

For settlement (helper G's checkout)::

    from yibao.filing.service import filing_status
    enc_filing = filing_status(conn, psn_no, insuplc_admdvs, mdtrtarea_admvs, begndate,
                               emergency=med_type == "13" or ipt_type == "2")

returns one of the engine's codes ``long_term``/``referral``/``emergency``/``temporary``/
``unfiled`` (``yibao.settlement.model.FILINGS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa

from yibao.filing import store
from yibao.filing.model import (
    BIZ_APPY_FILING,
    FilingError,
    FilingType,
    Status,
    check_cancel,
    check_end,
    check_new,
    status_for,
)
from yibao.filing.store import FilingRow as FilingRow  # the row type callers receive
from yibao.registry import store as registry_store


def insured_region(conn: sa.Connection, psn_no: str, on_date: date) -> str:
    """The person's 参保地 on ``on_date`` from the registry (the active enrolment's region)."""
    enrolments = registry_store.enrolments(conn, psn_no)
    if not enrolments:
        raise FilingError("psn_no", f"人员 {psn_no} 不存在或无参保记录")
    active = [e for e in enrolments if e.active_on(on_date)]
    chosen = (active or enrolments)[0]
    return chosen.insuplc_admdvs


def _existing(conn: sa.Connection, source: str, request_id: str) -> FilingRow | None:
    if not request_id:
        raise FilingError("request_id", "请求流水号不能为空（用于幂等）")
    return store.by_request(conn, source, request_id)


def file_crossregion(
    conn: sa.Connection,
    *,
    psn_no: str,
    mdtrtarea_admdvs: str,
    filing_type: FilingType | str,
    begndate: date,
    enddate: date | None,
    source: str,
    request_id: str,
    today: date,
    filed_by: str = "",
    insuplc_admdvs: str | None = None,
    fixmedins_code: str = "",
    detail: Mapping[str, Any] | None = None,
) -> FilingRow:
    """Record a cross-region filing (异地就医备案) after checking the rules; idempotent."""
    done = _existing(conn, source, request_id)
    if done is not None:
        return done
    try:
        ftype = FilingType(filing_type)
    except ValueError:
        raise FilingError(
            "filing_type",
            f"{filing_type!r} 不是备案类型 ({', '.join(t.value for t in FilingType)})",
        ) from None
    insuplc = insuplc_admdvs or insured_region(conn, psn_no, begndate)
    store.lock_person(conn, psn_no)
    existing = [r.as_filing() for r in store.of_person(conn, psn_no, "crossregion")]
    end = check_new(ftype, insuplc, mdtrtarea_admdvs, begndate, enddate, existing)
    return _insert(
        conn, "crossregion", psn_no, insuplc, mdtrtarea_admdvs, ftype.value, fixmedins_code,
        begndate, end, source, request_id, filed_by, detail, today,
    )  # fmt: skip


def _insert(
    conn: sa.Connection,
    kind: str,
    psn_no: str,
    insuplc: str,
    mdtrtarea: str,
    ftype: str,
    fixmedins_code: str,
    begndate: date,
    enddate: date | None,
    source: str,
    request_id: str,
    filed_by: str,
    detail: Mapping[str, Any] | None,
    today: date,
) -> FilingRow:
    filing_id = store.next_id(conn, insuplc, today)
    store.insert(
        conn,
        {
            "filing_id": filing_id,
            "kind": kind,
            "psn_no": psn_no,
            "insuplc_admdvs": insuplc,
            "mdtrtarea_admdvs": mdtrtarea,
            "filing_type": ftype,
            "fixmedins_code": fixmedins_code,
            "begndate": begndate,
            "enddate": enddate,
            "status": Status.ACTIVE.value,
            "source": source,
            "request_id": request_id,
            "filed_by": filed_by,
            "detail": dict(detail or {}),
            "created_at": sa.func.now(),
            "updated_at": sa.func.now(),
        },
    )
    row = store.get(conn, filing_id)
    assert row is not None
    return row


def register_chronic(
    conn: sa.Connection,
    *,
    psn_no: str,
    opsp_dise_code: str,
    opsp_dise_name: str,
    begndate: date,
    enddate: date | None,
    source: str,
    request_id: str,
    today: date,
    fixmedins_code: str = "",
    filed_by: str = "",
    detail: Mapping[str, Any] | None = None,
) -> FilingRow:
    """2503 人员慢特病备案: the person's 门诊慢特病 disease, valid from ``begndate``; idempotent."""
    done = _existing(conn, source, request_id)
    if done is not None:
        return done
    if not opsp_dise_code:
        raise FilingError("opsp_dise_code", "门慢门特病种目录代码不能为空")
    if enddate is not None and enddate < begndate:
        raise FilingError("enddate", f"结束日期 {enddate} 早于开始日期 {begndate}")
    insuplc = insured_region(conn, psn_no, begndate)
    store.lock_person(conn, psn_no)
    for r in store.of_person(conn, psn_no, "chronic"):
        same = r.status == "active" and r.detail.get("opsp_dise_code") == opsp_dise_code
        if same and (r.enddate is None or r.enddate >= begndate):
            raise FilingError("opsp_dise_code", f"病种 {opsp_dise_code} 已有有效备案 {r.filing_id}")
    info = {**(detail or {}), "opsp_dise_code": opsp_dise_code, "opsp_dise_name": opsp_dise_name}
    return _insert(
        conn, "chronic", psn_no, insuplc, "", "", fixmedins_code, begndate, enddate, source,
        request_id, filed_by, info, today,
    )  # fmt: skip


def register_designation(
    conn: sa.Connection,
    *,
    psn_no: str,
    biz_appy_type: str,
    fixmedins_code: str,
    mdtrtarea_admdvs: str,
    begndate: date,
    enddate: date | None,
    source: str,
    request_id: str,
    today: date,
    filed_by: str = "",
    detail: Mapping[str, Any] | None = None,
    crossregion: bool = True,
) -> FilingRow:
    """2505 人员定点备案. ``biz_appy_type`` 06/07/08 are cross-region filings (转诊转院 /
    异地急诊住院 / 异地安置, nhsa-interface.md §5.3) and are filed as such for the institution's
    region; other types (and ``crossregion=False``, e.g. 2501 市内转院) record the designated
    institution only."""
    ftype = BIZ_APPY_FILING.get(biz_appy_type) if crossregion else None
    info = {**(detail or {}), "biz_appy_type": biz_appy_type}
    if ftype is not None:
        return file_crossregion(
            conn, psn_no=psn_no, mdtrtarea_admdvs=mdtrtarea_admdvs, filing_type=ftype,
            begndate=begndate, enddate=enddate, source=source, request_id=request_id,
            today=today, filed_by=filed_by, fixmedins_code=fixmedins_code, detail=info,
        )  # fmt: skip
    done = _existing(conn, source, request_id)
    if done is not None:
        return done
    if not (len(biz_appy_type) == 2 and biz_appy_type.isdigit()):
        raise FilingError("biz_appy_type", f"{biz_appy_type!r} 不是两位业务申请类型代码")
    if enddate is not None and enddate < begndate:
        raise FilingError("enddate", f"结束日期 {enddate} 早于开始日期 {begndate}")
    insuplc = insured_region(conn, psn_no, begndate)
    return _insert(
        conn, "designation", psn_no, insuplc, mdtrtarea_admdvs, "", fixmedins_code, begndate,
        enddate, source, request_id, filed_by, info, today,
    )  # fmt: skip


def cancel(
    conn: sa.Connection,
    filing_id: str,
    *,
    today: date,
    by: str,
    reason: str = "",
    psn_no: str | None = None,
    only_source: str | None = None,
) -> FilingRow:
    """撤销 a record (void from the start); idempotent (an already cancelled one is returned).

    ``psn_no``: the caller's person must own it; ``only_source``: only the filer may undo it (an
    institution undoes its own 2501/2503/2505). A cross-region filing already relied on by a
    settlement cannot be voided (use :func:`end`).
    """
    row = store.get(conn, filing_id, lock=True)
    if row is None or (psn_no is not None and row.psn_no != psn_no):
        raise FilingError("trt_dcla_detl_sn", f"备案 {filing_id} 不存在")
    if only_source is not None and row.source != only_source:
        raise FilingError("trt_dcla_detl_sn", f"备案 {filing_id} 不是本机构办理的，不能撤销")
    if row.status == Status.CANCELLED.value:
        return row
    if row.kind == "crossregion":
        f = row.as_filing()
        check_cancel(f, used_by=[s for s, _ in store.uses(conn, f)], today=today)
    elif row.status != Status.ACTIVE.value:
        raise FilingError("trt_dcla_detl_sn", f"备案 {filing_id} 状态为 {row.status}，不能撤销")
    store.update(
        conn, filing_id, status=Status.CANCELLED.value, cancel_reason=reason, cancelled_by=by
    )
    out = store.get(conn, filing_id)
    assert out is not None
    return out


def end(
    conn: sa.Connection,
    filing_id: str,
    end_date: date,
    *,
    today: date,
    by: str,
    psn_no: str | None = None,
) -> FilingRow:
    """终止 a cross-region filing on ``end_date`` (settlements it covered stay covered)."""
    row = store.get(conn, filing_id, lock=True)
    if row is None or row.kind != "crossregion" or (psn_no is not None and row.psn_no != psn_no):
        raise FilingError("trt_dcla_detl_sn", f"异地备案 {filing_id} 不存在")
    if row.status == Status.ENDED.value and row.enddate == end_date:
        return row
    f = row.as_filing()
    used = store.uses(conn, f)
    check_end(f, end_date, last_use=max((d for _, d in used), default=None), today=today)
    store.update(conn, filing_id, status=Status.ENDED.value, enddate=end_date, cancelled_by=by)
    out = store.get(conn, filing_id)
    assert out is not None
    return out


def filings_of(conn: sa.Connection, psn_no: str, kind: str | None = None) -> list[FilingRow]:
    """A person's records, oldest first."""
    return store.of_person(conn, psn_no, kind)


def filing_status(
    conn: sa.Connection,
    psn_no: str,
    insuplc_admdvs: str,
    mdtrtarea_admvs: str,
    on_date: date,
    emergency: bool,
    *,
    settle_date: date | None = None,
) -> str:
    """The engine's filing code (``Encounter.filing``) for a visit starting ``on_date``.

    ``emergency``: 急诊抢救 (med_type 13, IPT_TYPE 2 …) — deemed filed (视同备案).
    ``settle_date``: the discharge settlement date of a stay; a filing made before it covers the
    stay (policy-rules.md §4). Local care returns ``unfiled`` (ignored by the engine).
    """
    rows = store.of_person(conn, psn_no, "crossregion")
    return status_for(
        (r.as_filing() for r in rows), insuplc_admdvs, mdtrtarea_admvs, on_date,
        emergency=emergency, settle_date=settle_date,
    )  # fmt: skip


def chronic_diseases(conn: sa.Connection, psn_no: str, on_date: date) -> list[str]:
    """The person's 门诊慢特病 disease codes filed (2503) and valid on ``on_date``."""
    out: list[str] = []
    for r in store.of_person(conn, psn_no, "chronic"):
        if r.status == "cancelled" or r.begndate > on_date:
            continue
        if r.enddate is not None and r.enddate < on_date:
            continue
        out.append(str(r.detail.get("opsp_dise_code", "")))
    return out
