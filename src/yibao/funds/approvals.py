"""Relief and deferral approvals (阶段性减征、缓缴审批) of an insured unit, one transaction each:
checked against the policy in force (reduced rate, unit types, maximum months), never overlapping
another approval, relief only for months not yet assessed; audited with who approved."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from yibao.db.tables import audit
from yibao.funds import benefits, rules, store
from yibao.funds.model import (
    FundsError,
    months_in,
    period_text,
)
from yibao.funds.query import pooled_months


def approve(
    engine: sa.Engine,
    kind: str,
    emp_no: str,
    period_from: date,
    period_to: date,
    *,
    approved_by: str,
    reference: str,
    today: date,
) -> store.Approval:
    """Record a per-unit approval of relief (阶段性减征) or deferral (缓缴) with who approved.

    Relief needs the policy's reduced rate in force for every month and the unit's type listed,
    and months not yet assessed (an assessed bill is never re-rated). Deferral needs the unit's
    type listed and at most the policy's maximum months; it may cover assessed, unpaid months.
    """
    if kind not in ("relief", "deferral"):
        raise FundsError("KIND_INVALID", "审批类型应为relief(减征)或deferral(缓缴)", "kind")
    if period_to < period_from:
        raise FundsError("PERIOD_ORDER", "结束月份早于开始月份", "period_to")
    if not reference.strip() or not approved_by.strip():
        raise FundsError("APPROVAL_INCOMPLETE", "须填写审批依据(文号)和审批人", "reference")
    months = months_in(period_from, period_to)
    with engine.begin() as conn:
        unit = conn.execute(
            sa.text("SELECT emp_no, emp_type, admdvs, emp_name FROM unit WHERE emp_no = :e"),
            {"e": emp_no},
        ).first()
        if unit is None:
            raise FundsError("UNIT_NOT_FOUND", f"未找到参保单位{emp_no}", "emp_no")
        _check_approval(conn, kind, unit.emp_type, unit.admdvs, emp_no, months)
        months_now = pooled_months(conn, unit.admdvs, today)
        approval_id = store.insert_approval(
            conn,
            {"kind": kind, "emp_no": emp_no, "period_from": months[0], "period_to": months[-1],
             "approved_by": approved_by, "reference": reference.strip(),
             "fund_months": "" if months_now is None else str(months_now)},
        )  # fmt: skip
        audit(conn, approved_by, f"funds.approve_{kind}", emp_no, approval_id=approval_id,
              period_from=period_text(months[0]), period_to=period_text(months[-1]),
              reference=reference)  # fmt: skip
        if kind == "deferral":
            benefits.refresh_unit(conn, emp_no)
        return next(
            a for a in store.approvals(conn, emp_nos=[emp_no]) if a.approval_id == approval_id
        )


def _check_approval(
    conn: sa.Connection, kind: str, emp_type: str, region: str, emp_no: str, months: list[date]
) -> None:
    for other in store.approvals(conn, emp_nos=[emp_no], kind=kind):
        if other.period_from <= months[-1] and months[0] <= other.period_to:
            raise FundsError(
                "APPROVAL_OVERLAP",
                f"与已批准的{period_text(other.period_from)}至{period_text(other.period_to)}重叠",
                "period_from",
            )
    if kind == "deferral":
        r = rules.employee_rules(region, months[0])
        if emp_type not in r.deferral_unit_types or r.deferral_max_months <= 0:
            raise FundsError("NOT_ELIGIBLE", "该类型单位不在政策规定的缓缴范围内", "emp_no")
        if len(months) > r.deferral_max_months:
            raise FundsError(
                "DEFERRAL_TOO_LONG",
                f"缓缴{len(months)}个月，超过政策规定的最长{r.deferral_max_months}个月",
                "period_to",
            )
        return
    for m in months:
        r = rules.employee_rules(region, m)
        if r.relief_for(emp_type) is None:
            raise FundsError(
                "NO_RELIEF_POLICY",
                f"{period_text(m)}无适用于该类型单位的阶段性减征政策",
                "period_from",
            )
    assessed = conn.execute(
        sa.text("SELECT MIN(period) FROM funds_bill WHERE payer_kind = 'unit' AND payer_id = :e"
                " AND period BETWEEN :a AND :b"),
        {"e": emp_no, "a": months[0], "b": months[-1]},
    ).scalar()  # fmt: skip
    if assessed is not None:
        raise FundsError(
            "ALREADY_ASSESSED",
            f"{period_text(assessed)}已核定，核定单不再调整；请在核定前批准减征",
            "period_from",
        )
