"""特例单议 (special-case review): apply (3602), change or withdraw (3603), review, apply result.

The institution applies for one of its DRG/DIP cases with reasons and items; the cap
(``payment.special.cap_ratio`` of its DRG/DIP cases of the year) is checked at submission. Two
different bureau experts review in the console; when both approve, the case is revalued — by
item (cost less what the experts removed) or at the raised weight/score — and, if it was already
advanced, the change is posted (``psc:{appy_id}``) at the provisional rate; the year-end
clearing settles it at the final one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from yibao.institutions import service as institutions
from yibao.ledger import service as ledger
from yibao.payment import params, store, store_runs, store_special, valuation
from yibao.payment.errors import PaymentInputError, PaymentRefused
from yibao.payment.model import pay, postings, special
from yibao.payment.params import LEVEL_OF


def _case_list(
    conn: sa.Connection, fixmedins_code: str, setl_id: str, where: str
) -> dict[str, Any]:
    row = store.load_list(conn, setl_id)
    if row is None or row["fixmedins_code"] != fixmedins_code:
        raise PaymentRefused(
            f"{where}.setl_id: 本机构无结算ID为 {setl_id} 的结算清单（须先上传【4101】）"
        )
    if row["method"] not in ("drg", "dip"):
        raise PaymentRefused(f"{where}.setl_id: 该病例不按DRG/DIP付费，无需特例单议")
    return row


def _cases_in_year(conn: sa.Connection, fixmedins_code: str, year: int) -> int:
    return sum(
        1
        for r in store.lists_of(conn, fixmedins_code=fixmedins_code, year=year, limit=1_000_000)
        if r["method"] in ("drg", "dip")
    )


def submit(
    conn: sa.Connection,
    fixmedins_code: str,
    *,
    setl_id: str,
    exit_type: str,
    reason: str,
    units: Decimal,
    deducted: int,
    items: list[dict[str, Any]],
    memo: str,
    msgid: str,
    where: str = "input.data",
) -> str:
    """3602: a new application; refused above the institution's cap."""
    if exit_type not in special.EXIT_LABELS:
        raise PaymentInputError(
            f"{where}.appy_exit_type", "退出类型须为 1 按项目付费 或 2 提高支付标准"
        )
    if not reason.strip():
        raise PaymentInputError(f"{where}.exit_rea", "特例单议须填写申请原因(exit_rea)")
    if exit_type == special.EXIT_RAISED and units <= 0:
        raise PaymentInputError(
            f"{where}.spcas_exit_wt", "提高支付标准须填写申请的权重或分值(大于0)"
        )
    lst = _case_list(conn, fixmedins_code, setl_id, where)
    year = int(lst["setl_ym"][:4])
    store_runs.lock_region_year(conn, lst["admdvs"], year)
    if store_runs.load_region_year(conn, lst["admdvs"], year) is not None:
        raise PaymentRefused(f"{where}.setl_id: {year}年度已清算，不能再申请特例单议")
    if store_special.live_for_setl(conn, setl_id) is not None:
        raise PaymentRefused(f"{where}.setl_id: 该病例已有有效的特例单议申请")
    rp = params.region(lst["admdvs"], year)
    try:
        special.check_cap(
            store_special.count_live(conn, fixmedins_code, year),
            _cases_in_year(conn, fixmedins_code, year),
            rp.ratio("payment.special.cap_ratio"),
        )
    except special.SpecialError as exc:
        raise PaymentRefused(f"{where}.setl_id: {exc}") from exc
    appy_id = store.next_special_id(conn, lst["admdvs"])
    store_special.insert(
        conn,
        {
            "appy_id": appy_id,
            "setl_id": setl_id,
            "fixmedins_code": fixmedins_code,
            "admdvs": lst["admdvs"],
            "year": year,
            "psn_no": lst["psn_no"],
            "mdtrt_id": lst["mdtrt_id"],
            "state": special.SUBMITTED,
            "exit_type": exit_type,
            "reason": reason.strip(),
            "requested_units": units,
            "deducted": deducted,
            "items": items,
            "memo": memo,
            "msgid": msgid,
        },
    )
    return appy_id


def change(
    conn: sa.Connection,
    fixmedins_code: str,
    appy_id: str,
    *,
    withdraw: bool,
    values: dict[str, Any],
    where: str = "input.data",
) -> None:
    """3603: change an unreviewed application, or withdraw it (``vali_flag=0``)."""
    app = store_special.load(conn, appy_id, lock=True)
    if app is None or app["fixmedins_code"] != fixmedins_code:
        raise PaymentRefused(f"{where}.appy_chk_setl_list_id: 无此特例单议申请 {appy_id}")
    try:
        special.check_editable(app["state"])
    except special.SpecialError as exc:
        raise PaymentRefused(f"{where}.appy_chk_setl_list_id: {exc}") from exc
    if withdraw:
        store_special.update(conn, appy_id, {"state": special.WITHDRAWN})
        return
    store_special.update(conn, appy_id, {k: v for k, v in values.items() if v is not None})


def review(
    conn: sa.Connection,
    appy_id: str,
    *,
    reviewer: str,
    reviewer_name: str,
    approve: bool,
    opinion: str,
    now: datetime,
    deducted: int = 0,
    allowed: Callable[[str], bool] | None = None,
) -> str:
    """One expert's opinion (with an optional 核减 amount for by-item payment); the second decides.

    ``allowed(admdvs)`` checks the reviewer's scope. Returns the new state; on approval the case's
    payment is recomputed (and the change posted if the case was already advanced).
    """
    app = store_special.load(conn, appy_id, lock=True)
    if app is None or (allowed is not None and not allowed(app["admdvs"])):
        raise PaymentRefused("未找到该特例单议申请，或不在您的管辖范围内")
    if deducted < 0:
        raise PaymentInputError("deducted", "核减金额不能为负数")
    previous = store_special.opinions(conn, [appy_id])[appy_id]
    ops = [special.Opinion(o["reviewer"], bool(o["approve"]), o["opinion"]) for o in previous]
    try:
        state = special.add_opinion(app["state"], ops, special.Opinion(reviewer, approve, opinion))
    except special.SpecialError as exc:
        raise PaymentRefused(str(exc)) from exc
    store_runs.lock_region_year(conn, app["admdvs"], int(app["year"]))
    if store_runs.load_region_year(conn, app["admdvs"], int(app["year"])) is not None:
        raise PaymentRefused(f"{app['year']}年度已清算，不能再评审")
    store_special.add_opinion(
        conn,
        {
            "appy_id": appy_id,
            "reviewer": reviewer,
            "reviewer_name": reviewer_name,
            "approve": approve,
            "deducted": deducted,
            "opinion": opinion.strip(),
            "at": now,
        },
    )
    values: dict[str, Any] = {"state": state}
    if state in (special.APPROVED, special.REFUSED):
        values["decided_at"] = now
    if state == special.APPROVED:
        # the larger of the experts' 核减 amounts applies to by-item payment
        values["deducted"] = max([deducted, *(int(o["deducted"] or 0) for o in previous)])
        store_special.update(conn, appy_id, values)
        values = {"chain_id": _apply(conn, {**app, **values}, now.date())}
    store_special.update(conn, appy_id, values)
    return state


def _value(
    conn: sa.Connection, row: dict[str, Any], app: dict[str, Any] | None, unit: Decimal
) -> pay.CaseValue:
    inst = institutions.get(conn, row["fixmedins_code"])
    level = inst.dedc_hosp_lv if inst is not None else "9"
    rp = params.region(row["admdvs"], int(row["setl_ym"][:4]))
    return pay.value_case(
        rp.for_level(level),
        valuation.facts(row),
        valuation.grouping(row, LEVEL_OF.get(level, "1")),
        unit_value=unit,
        classify_value=unit,
        special=valuation.special_of(app),
    )


def _apply(conn: sa.Connection, app: dict[str, Any], day: date) -> str:
    """Revalue an approved case already in a monthly advance and post the change."""
    row = store.case_input(conn, app["setl_id"])
    if row is None or not row["run_month"]:
        return ""  # not advanced yet: the next run (or the year end) values it with the result
    v = _value(conn, row, app, Decimal(row["unit_value"]))
    delta = v.fund_due - int(row["posted_fund_due"])
    store.update_case(
        conn,
        app["setl_id"],
        {
            "mode": v.mode,
            "units": v.units,
            "value": v.value,
            "by_item": v.by_item,
            "deductions": v.deductions,
            "fund_due": v.fund_due,
            "trace": [t.as_dict() for t in v.trace],
            "special_appy_id": app["appy_id"],
        },
    )
    chain = postings.special_adjust(
        region=app["admdvs"],
        inst=app["fixmedins_code"],
        appy_id=app["appy_id"],
        day=day,
        adjustments={row["fund_pay_type"]: delta},
    )
    if not chain.transfers:
        return ""
    ledger.post_chain(conn, chain)
    return chain.chain_id


def preview(conn: sa.Connection, app: dict[str, Any]) -> dict[str, Any]:
    """3604 预结算基金分项: the fund's payment under the group price and after the exit."""
    row = store.case_input(conn, app["setl_id"])
    if row is None:
        return {}
    rp = params.region(row["admdvs"], int(row["setl_ym"][:4]))
    unit = (
        Decimal(row["unit_value"]) if row["unit_value"] is not None else rp.provisional_unit_value
    )
    group = _value(conn, row, None, unit)
    exit_ = _value(conn, row, app, unit)
    return {
        "fund_pay_type": row["fund_pay_type"] or valuation.fund_type(row),
        "group_value": group.value,
        "group_fund_due": group.fund_due,
        "exit_value": exit_.value,
        "exit_fund_due": exit_.fund_due,
        "unit_value": unit,
        "trace": [t.as_dict() for t in exit_.trace],
    }


def search(conn: sa.Connection, **filters: Any) -> list[dict[str, Any]]:
    """Applications with their opinions (3601/3604 and the console queue)."""
    rows = store_special.search(conn, **filters)
    ops = store_special.opinions(conn, [r["appy_id"] for r in rows])
    for r in rows:
        r["opinions"] = ops[r["appy_id"]]
        r["case"] = store.load_case(conn, r["setl_id"])
    return rows
