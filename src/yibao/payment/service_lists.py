"""Settlement lists (医疗保障基金结算清单): 4101 upload, 4102 status, 4103 query, QC, grouping.

Runs inside the caller's transaction (the gateway's request transaction). A list is accepted
for an inpatient settlement of the uploading institution that was not cancelled; it is checked
(named rules), grouped with the region's tables in force on the settlement date (DRG or DIP by
``payment.method``) and quality-checked (质控) at once; the results are kept with the list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from yibao.institutions.model import Institution
from yibao.payment import params, store, tables
from yibao.payment.errors import PaymentInputError, PaymentRefused
from yibao.payment.model import dip, drg, qc
from yibao.payment.model import setl_list as model
from yibao.payment.model.case import GroupCase, Status, age_on
from yibao.registry import service as registry


def _facts(conn: sa.Connection, inst: Institution, lst: model.SettlementList) -> dict[str, Any]:
    s = store.settlement_facts(conn, lst.setl_id)
    where = "input.setlinfo"
    if s is None or s["fixmedins_code"] != inst.fixmedins_code or s["kind"] != "settle":
        raise PaymentRefused(f"{where}.setl_id: 本机构无结算ID为 {lst.setl_id} 的结算记录")
    if s["encounter_kind"] != "inpatient":
        raise PaymentRefused(f"{where}.setl_id: 结算 {lst.setl_id} 不是住院结算，无需上传结算清单")
    if s["cancelled"]:
        raise PaymentRefused(f"{where}.setl_id: 结算 {lst.setl_id} 已撤销")
    if s["psn_no"] != lst.psn_no:
        raise PaymentRefused(f"{where}.psn_no: 与结算 {lst.setl_id} 的人员编号不一致")
    if s["mdtrt_id"] != lst.mdtrt_id:
        raise PaymentRefused(f"{where}.mdtrt_id: 与结算 {lst.setl_id} 的就诊ID不一致")
    return s


def group_case(lst: model.SettlementList, gend: str, brdy: date) -> GroupCase:
    """The grouper's view of a list (age at admission, newborn weight, codes in order)."""
    adm = lst.setlinfo.get("adm_time", "")[:10] or lst.setlinfo["setl_begn_date"]
    years, days = age_on(brdy, date.fromisoformat(adm))
    main_dx, other_dx = lst.diagnoses()
    main_proc, other_procs = lst.procedures()
    return GroupCase(
        principal_dx=main_dx,
        other_dx=other_dx,
        main_proc=main_proc,
        other_procs=other_procs,
        sex=gend,
        age_years=years,
        age_days=days,
        weight_g=lst.weight_g,
        stay_days=lst.stay_days(),
        dscg_way=lst.setlinfo.get("dscg_way", ""),
    )


def group(method: str, admdvs: str, on: date, case: GroupCase) -> dict[str, Any]:
    """Group a case with the region's tables in force (a JSON-ready result)."""
    if method not in ("drg", "dip"):
        return {"status": "", "status_label": "按项目付费（未实行DRG/DIP）", "method": method}
    found = tables.library().find(method, admdvs, on)
    if found is None:
        return {"status": Status.INVALID.value, "status_label": "无在用分组方案", "method": method}
    if isinstance(found, drg.DrgTables):
        r = drg.group(found, case)
        names = found.names
        return {
            "status": r.status.value,
            "status_label": r.status.label,
            "method": method,
            "version": r.version,
            "scheme": found.manifest.scheme,
            "code": r.drg,
            "name": names.get(r.drg, ""),
            "mdc": r.mdc,
            "mdc_name": names.get(r.mdc, ""),
            "adrg": r.adrg,
            "adrg_name": names.get(r.adrg, ""),
            "cc_level": r.cc_level,
            "cc_code": r.cc_code,
            "units": str(r.weight) if r.weight is not None else "",
            "steps": list(r.steps),
        }
    assert isinstance(found, dip.DipTables)
    d = dip.group(found, case)
    g = found.groups.get(d.code)
    return {
        "status": d.status.value,
        "status_label": d.status.label,
        "method": method,
        "version": d.version,
        "scheme": found.manifest.scheme,
        "code": d.code,
        "name": g.name if g else "",
        "kind": d.kind,
        "treat_type": d.treat_type,
        "grp_diag_code": d.grp_diag_code,
        "oprn_grp_code": d.oprn_grp_code,
        "units": str(d.score) if d.score is not None else "",
        "avg_cost": dict(g.avg_cost) if g else {},
        "steps": list(d.steps),
    }


def upload(
    conn: sa.Connection, inst: Institution, payload: Mapping[str, Any], *, msgid: str, now: datetime
) -> tuple[str, tuple[str, ...]]:
    """4101: check, group, quality-check and store one patient's list; ``(setl_list_id, warnings)``."""
    try:
        lst = model.parse(payload)
    except model.ListRuleError as exc:
        raise PaymentInputError(
            exc.path, f"[{exc.rule} {model.RULES[exc.rule]}] {exc.message}"
        ) from exc
    s = _facts(conn, inst, lst)
    existing = store.load_list(conn, lst.setl_id, lock=True)
    if existing is not None and not model.editable(existing["state"]):
        state = model.STATES[existing["state"]]
        raise PaymentRefused(f"input.setlinfo.setl_id: 清单状态为「{state}」，不能修改（须先退回）")
    person = registry.person_view(conn, lst.psn_no)
    brdy = date.fromisoformat(str(person["brdy"]))
    setl_date: date = s["setl_date"]
    method = params.method_of(inst.admdvs, setl_date)
    result = group(method, inst.admdvs, setl_date, group_case(lst, str(person["gend"]), brdy))
    status = Status(result["status"]) if result.get("status") else None
    lines = {
        str(d.get("fund_pay_type")): int(d.get("fund_payamt") or 0) for d in s["setldetail"] or []
    }
    check = qc.run(lst, status, qc.SettlementFacts(setl_date.isoformat(), lines))
    state = lst.setlinfo.get("stas_type", "0")
    event = {
        "at": now.isoformat(),
        "state": state,
        "by": "institution",
        "msgid": msgid,
        "action": "4101",
    }
    history = [*(existing["history"] if existing else []), event]
    store.save_list(
        conn,
        {
            "setl_id": lst.setl_id,
            "setl_list_id": existing["setl_list_id"] if existing else store.next_list_id(conn),
            "fixmedins_code": inst.fixmedins_code,
            "admdvs": inst.admdvs,
            "psn_no": lst.psn_no,
            "mdtrt_id": lst.mdtrt_id,
            "state": state,
            "setl_date": setl_date,
            "setl_ym": f"{setl_date:%Y%m}",
            "content": {
                "input": _plain(payload),
                "weight_g": lst.weight_g,
                "stay_days": lst.stay_days(),
            },
            "method": method,
            "grp_status": result.get("status", ""),
            "grp_code": result.get("code", ""),
            "grp_result": result,
            "grp_time": now,
            "qc_result": check.result,
            "qc_err_lv": check.err_lv,
            "qc_retn_flag": check.retn_flag,
            "qc_version": qc.QC_VERSION,
            "qc_findings": [_finding(f) for f in check.findings],
            "qc_time": now,
            "msgid": msgid,
            "history": history,
        },
    )
    row = store.load_list(conn, lst.setl_id)
    assert row is not None
    return str(row["setl_list_id"]), lst.warnings


def _finding(f: qc.QcFinding) -> dict[str, str]:
    r = f.rule
    return {
        "rule": r.rule_id,
        "exam_data_fld": r.field,
        "qltctrl_chk_rslt": r.message,
        "err_lv": r.err_lv,
        "retn_flag": r.retn_flag,
        "init_val": f.init_val,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def change_status(
    conn: sa.Connection,
    fixmedins_code: str,
    rows: Sequence[tuple[str, str, str]],
    *,
    msgid: str,
    now: datetime,
    by_bureau: bool = False,
    actor: str = "",
) -> None:
    """4102 (institution) or the bureau's review: ``(psn_no, setl_id, stas_type)`` rows, all or none."""
    if not rows:
        raise PaymentInputError("input.data.stastinfo", "至少一行")
    for i, (psn_no, setl_id, target) in enumerate(rows):
        where = f"input.data.stastinfo[{i}]"
        cur = store.load_list(conn, setl_id, lock=True)
        if cur is None or (not by_bureau and cur["fixmedins_code"] != fixmedins_code):
            raise PaymentRefused(f"{where}.setl_id: 无结算ID为 {setl_id} 的结算清单")
        if psn_no and psn_no != cur["psn_no"]:
            raise PaymentRefused(f"{where}.psn_no: 与清单的人员编号不一致")
        problem = model.transition_problem(cur["state"], target, by_bureau=by_bureau)
        if problem:
            raise PaymentRefused(f"{where}.stas_type: {problem}")
        event = {
            "at": now.isoformat(),
            "state": target,
            "msgid": msgid,
            "by": actor or ("bureau" if by_bureau else "institution"),
            "action": "4102",
        }
        store.set_state(conn, setl_id, target, event)


def query(conn: sa.Connection, fixmedins_code: str, psn_no: str, setl_id: str) -> dict[str, Any]:
    """4103: the stored list with the settlement, the person (masked ID) and its items by type."""
    row = store.load_list(conn, setl_id)
    if row is None or row["fixmedins_code"] != fixmedins_code or row["psn_no"] != psn_no:
        raise PaymentRefused(f"input.data.setl_id: 无人员 {psn_no} 结算ID为 {setl_id} 的结算清单")
    s = store.settlement_facts(conn, setl_id)
    assert s is not None
    return {
        "list": row,
        "settlement": s,
        "person": registry.person_view(conn, psn_no),
        "items": store.item_totals(conn, s["mdtrt_id"], setl_id),
    }


def lists(
    conn: sa.Connection,
    fixmedins_code: str,
    *,
    setl_ym: str,
    setl_id: str = "",
    psn_no: str = "",
    page_num: int = 1,
    page_size: int = 100,
) -> list[dict[str, Any]]:
    """Lists of a month for 4104/3605/3606/3607, paged (with the person's name)."""
    rows = store.lists_of(
        conn,
        fixmedins_code=fixmedins_code,
        setl_ym=setl_ym,
        setl_id=setl_id or None,
        psn_no=psn_no or None,
        limit=page_size,
        offset=(page_num - 1) * page_size,
    )
    names: dict[str, Any] = {}
    for r in rows:
        if r["psn_no"] not in names:
            names[r["psn_no"]] = registry.person_view(conn, r["psn_no"])
        r["person"] = names[r["psn_no"]]
    return rows
