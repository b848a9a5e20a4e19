"""SQL of payment reform (支付方式改革): tables, settlement lists, case valuations.

Every function runs in the caller's transaction. The settlement records themselves belong to the
encounter capability; :func:`settlement_facts` and :func:`eligible_cases` only *read*
``encounter_settlement`` / ``encounter`` (never write them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

metadata = sa.MetaData()

setl_list = sa.Table(
    "payment_setl_list",
    metadata,
    sa.Column("setl_id", sa.Text, primary_key=True),
    sa.Column("setl_list_id", sa.Text),
    sa.Column("fixmedins_code", sa.Text),
    sa.Column("admdvs", sa.Text),
    sa.Column("psn_no", sa.Text),
    sa.Column("mdtrt_id", sa.Text),
    sa.Column("state", sa.Text),
    sa.Column("setl_date", sa.Date),
    sa.Column("setl_ym", sa.Text),
    sa.Column("content", pg.JSONB),
    sa.Column("method", sa.Text),
    sa.Column("grp_status", sa.Text),
    sa.Column("grp_code", sa.Text),
    sa.Column("grp_result", pg.JSONB),
    sa.Column("grp_time", sa.DateTime(timezone=True)),
    sa.Column("qc_result", sa.Text),
    sa.Column("qc_err_lv", sa.Text),
    sa.Column("qc_retn_flag", sa.Text),
    sa.Column("qc_version", sa.Text),
    sa.Column("qc_findings", pg.JSONB),
    sa.Column("qc_time", sa.DateTime(timezone=True)),
    sa.Column("msgid", sa.Text),
    sa.Column("history", pg.JSONB),
    sa.Column("version", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

case = sa.Table(
    "payment_case",
    metadata,
    sa.Column("setl_id", sa.Text, primary_key=True),
    sa.Column("fixmedins_code", sa.Text),
    sa.Column("admdvs", sa.Text),
    sa.Column("year", sa.Integer),
    sa.Column("run_month", sa.Text),
    sa.Column("method", sa.Text),
    sa.Column("fund_pay_type", sa.Text),
    sa.Column("grp_code", sa.Text),
    sa.Column("mode", sa.Text),
    sa.Column("units", sa.Numeric(20, 4)),
    sa.Column("value", sa.BigInteger),
    sa.Column("by_item", sa.BigInteger),
    sa.Column("deductions", sa.BigInteger),
    sa.Column("fund_due", sa.BigInteger),
    sa.Column("item_fund", sa.BigInteger),
    sa.Column("medfee_sumamt", sa.BigInteger),
    sa.Column("unit_value", sa.Numeric(20, 4)),
    sa.Column("trace", pg.JSONB),
    sa.Column("special_appy_id", sa.Text),
    sa.Column("final_mode", sa.Text),
    sa.Column("final_units", sa.Numeric(20, 4)),
    sa.Column("final_value", sa.BigInteger),
    sa.Column("final_fund_due", sa.BigInteger),
    sa.Column("final_unit_value", sa.Numeric(20, 4)),
    sa.Column("final_trace", pg.JSONB),
    sa.Column("version", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)


def next_list_id(conn: sa.Connection) -> str:
    """清单流水号 (setl_list_id, C 9)."""
    seq = int(conn.execute(sa.text("SELECT nextval('payment_setl_list_seq')")).scalar_one())
    return f"{seq:09d}"


def next_special_id(conn: sa.Connection, admdvs: str) -> str:
    """申请审核结算清单ID (appy_chk_setl_list_id): region + sequence."""
    seq = int(conn.execute(sa.text("SELECT nextval('payment_special_seq')")).scalar_one())
    return f"TL{admdvs}{seq:08d}"


# ------------------------------------------------------------------------------ lists


def load_list(conn: sa.Connection, setl_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    q = sa.select(setl_list).where(setl_list.c.setl_id == setl_id)
    if lock:
        q = q.with_for_update()
    row = conn.execute(q).mappings().one_or_none()
    return dict(row) if row is not None else None


def save_list(conn: sa.Connection, row: Mapping[str, Any]) -> None:
    """Insert or replace a list (the caller checked it may be replaced)."""
    values = dict(row)
    ins = pg.insert(setl_list).values(**values)
    update: dict[str, Any] = {
        k: ins.excluded[k] for k in values if k not in ("setl_id", "setl_list_id", "created_at")
    }
    update["version"] = setl_list.c.version + 1
    update["updated_at"] = sa.func.now()
    conn.execute(ins.on_conflict_do_update(index_elements=["setl_id"], set_=update))


def set_state(conn: sa.Connection, setl_id: str, state: str, event: Mapping[str, Any]) -> None:
    conn.execute(
        setl_list.update()
        .where(setl_list.c.setl_id == setl_id)
        .values(
            state=state,
            history=setl_list.c.history.op("||")(sa.cast([dict(event)], pg.JSONB)),
            version=setl_list.c.version + 1,
            updated_at=sa.func.now(),
        )
    )


def lists_of(
    conn: sa.Connection,
    *,
    fixmedins_code: str | None = None,
    setl_ym: str | None = None,
    setl_id: str | None = None,
    psn_no: str | None = None,
    admdvs: str | None = None,
    year: int | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[dict[str, Any]]:
    q = sa.select(setl_list).order_by(setl_list.c.setl_date, setl_list.c.setl_id)
    for col, value in (
        (setl_list.c.fixmedins_code, fixmedins_code),
        (setl_list.c.setl_ym, setl_ym),
        (setl_list.c.setl_id, setl_id),
        (setl_list.c.psn_no, psn_no),
        (setl_list.c.admdvs, admdvs),
    ):
        if value:
            q = q.where(col == value)
    if year is not None:
        q = q.where(setl_list.c.setl_ym.like(f"{year}%"))
    return [dict(r) for r in conn.execute(q.limit(limit).offset(offset)).mappings()]


# ------------------------------------------------------------------------------ settlements (read)


def settlement_facts(conn: sa.Connection, setl_id: str) -> dict[str, Any] | None:
    """One settlement with its visit kind and whether it was cancelled (read only)."""
    row = (
        conn.execute(
            sa.text(
                """
                SELECT s.*, e.kind AS encounter_kind, e.begntime, e.endtime,
                       EXISTS (SELECT 1 FROM encounter_settlement c WHERE c.reverses = s.setl_id)
                         AS cancelled
                  FROM encounter_settlement s JOIN encounter e ON e.mdtrt_id = s.mdtrt_id
                 WHERE s.setl_id = :id
                """
            ),
            {"id": setl_id},
        )
        .mappings()
        .one_or_none()
    )
    return dict(row) if row is not None else None


def eligible_cases(
    conn: sa.Connection,
    admdvs: str,
    *,
    through: date,
    year: int,
    require_approval: bool,
) -> list[dict[str, Any]]:
    """Lists of ``admdvs`` settled in ``year`` up to ``through`` that may enter payment and have
    no valuation yet: list submitted (or approved when required) and QC passed, settlement not
    cancelled. Joined with the settlement amounts (read only)."""
    states = ("2",) if require_approval else ("1", "2")
    rows = conn.execute(
        sa.text(
            """
            SELECT l.setl_id, l.fixmedins_code, l.psn_no, l.method, l.grp_status, l.grp_code,
                   l.grp_result, l.setl_date, l.setl_ym, l.content, s.setlinfo, s.setldetail,
                   s.insutype, s.insuplc_admdvs, s.mdtrtarea_admvs
              FROM payment_setl_list l
              JOIN encounter_settlement s ON s.setl_id = l.setl_id
             WHERE l.admdvs = :admdvs AND l.state = ANY(:states) AND l.qc_result = '1'
               AND l.setl_date <= :through AND l.setl_date >= :begin
               AND NOT EXISTS (SELECT 1 FROM encounter_settlement c WHERE c.reverses = l.setl_id)
               AND NOT EXISTS (SELECT 1 FROM payment_case p WHERE p.setl_id = l.setl_id)
             ORDER BY l.fixmedins_code, l.setl_date, l.setl_id
            """
        ),
        {"admdvs": admdvs, "states": list(states), "through": through, "begin": date(year, 1, 1)},
    ).mappings()
    return [dict(r) for r in rows]


# ------------------------------------------------------------------------------ cases


def insert_cases(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        conn.execute(case.insert(), [dict(r) for r in rows])


def load_case(conn: sa.Connection, setl_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    q = sa.select(case).where(case.c.setl_id == setl_id)
    if lock:
        q = q.with_for_update()
    row = conn.execute(q).mappings().one_or_none()
    return dict(row) if row is not None else None


def update_case(conn: sa.Connection, setl_id: str, values: Mapping[str, Any]) -> None:
    conn.execute(
        case.update()
        .where(case.c.setl_id == setl_id)
        .values(**dict(values), version=case.c.version + 1)
    )


def cases_of(
    conn: sa.Connection,
    *,
    admdvs: str | None = None,
    year: int | None = None,
    fixmedins_code: str | None = None,
    run_month: str | None = None,
) -> list[dict[str, Any]]:
    q = sa.select(case).order_by(case.c.fixmedins_code, case.c.setl_id)
    if admdvs:
        q = q.where(case.c.admdvs == admdvs)
    if year is not None:
        q = q.where(case.c.year == year)
    if fixmedins_code:
        q = q.where(case.c.fixmedins_code == fixmedins_code)
    if run_month:
        q = q.where(case.c.run_month == run_month)
    return [dict(r) for r in conn.execute(q).mappings()]


def finalise_cases(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store the year-end valuation of each case (one UPDATE per case; a year runs once)."""
    for r in rows:
        conn.execute(
            case.update()
            .where(case.c.setl_id == r["setl_id"])
            .values(
                final_mode=r["final_mode"],
                final_units=r["final_units"],
                final_value=r["final_value"],
                final_fund_due=r["final_fund_due"],
                final_unit_value=r["final_unit_value"],
                final_trace=r["final_trace"],
            )
        )


def item_totals(conn: sa.Connection, mdtrt_id: str, setl_id: str) -> list[dict[str, Any]]:
    """The settled fee lines by 医疗收费项目类别 (4103 ``iteminfo``), fen (read only)."""
    rows = conn.execute(
        sa.text(
            """
            SELECT med_chrgitm_type,
                   SUM(det_item_fee_sumamt) AS item_sumamt,
                   SUM(det_item_fee_sumamt) FILTER (WHERE chrgitm_lv = '01') AS claa,
                   SUM(det_item_fee_sumamt) FILTER (WHERE chrgitm_lv = '02') AS clab,
                   SUM(fulamt_ownpay_amt) AS fulamt,
                   SUM(overlmt_amt + preselfpay_amt) AS other
              FROM encounter_fee_line
             WHERE mdtrt_id = :m AND settled_setl_id = :s
             GROUP BY med_chrgitm_type ORDER BY med_chrgitm_type
            """
        ),
        {"m": mdtrt_id, "s": setl_id},
    ).mappings()
    return [{k: (v if v is not None else 0) for k, v in r.items()} for r in rows]


def valued_inputs(
    conn: sa.Connection, admdvs: str, year: int, *, setl_id: str | None = None
) -> list[dict[str, Any]]:
    """Every valued case of a region and year (or one) with its list and settlement."""
    rows = conn.execute(
        sa.text(
            """
            SELECT p.setl_id, p.fixmedins_code, p.run_month, p.fund_due AS posted_fund_due,
                   p.item_fund, p.special_appy_id, l.grp_result, l.content, l.psn_no,
                   s.setlinfo, s.setldetail, s.insutype, s.insuplc_admdvs, s.mdtrtarea_admvs
              FROM payment_case p
              JOIN payment_setl_list l ON l.setl_id = p.setl_id
              JOIN encounter_settlement s ON s.setl_id = p.setl_id
             WHERE p.admdvs = :admdvs AND p.year = :year
               AND (CAST(:setl_id AS text) IS NULL OR p.setl_id = :setl_id)
             ORDER BY p.fixmedins_code, p.setl_id
            """
        ),
        {"admdvs": admdvs, "year": year, "setl_id": setl_id},
    ).mappings()
    return [dict(r) for r in rows]


def case_input(conn: sa.Connection, setl_id: str) -> dict[str, Any] | None:
    """One case's list and settlement (and valuation, if any) in the valuation row shape."""
    row = (
        conn.execute(
            sa.text(
                """
                SELECT l.setl_id, l.fixmedins_code, l.admdvs, l.psn_no, l.grp_result, l.content,
                       l.setl_ym, s.setlinfo, s.setldetail, s.insutype, s.insuplc_admdvs,
                       s.mdtrtarea_admvs, p.run_month, p.fund_due AS posted_fund_due,
                       p.item_fund, p.unit_value, p.fund_pay_type
                  FROM payment_setl_list l
                  JOIN encounter_settlement s ON s.setl_id = l.setl_id
                  LEFT JOIN payment_case p ON p.setl_id = l.setl_id
                 WHERE l.setl_id = :id
                """
            ),
            {"id": setl_id},
        )
        .mappings()
        .one_or_none()
    )
    return dict(row) if row is not None else None
