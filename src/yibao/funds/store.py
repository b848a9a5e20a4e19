"""Funds SQL (缴费存储): bills, payments, approvals, tax files, postings.

Every function runs in the caller's transaction. The assessment runs that create bills are in
:mod:`yibao.funds.store_assess`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from yibao.db import hot

# ------------------------------------------------------------------------------ bills, payments


@dataclass(frozen=True, slots=True)
class BillRow:
    bill_no: str
    region: str
    scheme: str
    payer_kind: str
    payer_id: str
    payer_name: str
    emp_type: str
    period: date
    due_date: date
    employer: int
    employee: int
    large_amount: int
    amount: int
    persons: int
    paid_date: date | None
    late_fee: int | None


_BILLS = """
SELECT b.bill_no, b.region, b.scheme, b.payer_kind, b.payer_id,
       COALESCE(u.emp_name, p.psn_name, '') AS payer_name, COALESCE(u.emp_type, '') AS emp_type,
       b.period, b.due_date, b.employer, b.employee, b.large_amount, b.amount, b.persons,
       pay.paid_date, pay.late_fee
  FROM funds_bill b
  LEFT JOIN unit u ON b.payer_kind = 'unit' AND u.emp_no = b.payer_id
  LEFT JOIN person p ON b.payer_kind = 'person' AND p.psn_no = b.payer_id
  LEFT JOIN funds_payment pay ON pay.bill_no = b.bill_no
"""


def bills(conn: sa.Connection, where: str, params: dict[str, Any]) -> list[BillRow]:
    """Bills with payer names and payment (``where`` is a fixed SQL condition on ``b``/``pay``)."""
    return [
        BillRow(*r)
        for r in hot.rows(conn, f"{_BILLS} WHERE {where} ORDER BY b.period, b.bill_no", params)
    ]


def bills_by_no(conn: sa.Connection, bill_nos: Sequence[str]) -> dict[str, BillRow]:
    return {b.bill_no: b for b in bills(conn, "b.bill_no = ANY(%(b)s)", {"b": list(bill_nos)})}


def insert_payments(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    hot.executemany(
        conn,
        "INSERT INTO funds_payment (bill_no, paid_date, principal, late_fee, channel, source,"
        " voucher_no, chain_id) VALUES (%(bill_no)s, %(paid_date)s, %(principal)s, %(late_fee)s,"
        " %(channel)s, %(source)s, %(voucher_no)s, %(chain_id)s)",
        rows,
    )


def account_credits(conn: sa.Connection, bill_nos: Sequence[str]) -> list[tuple[str, str, int]]:
    """(bill_no, psn_no, account credit) of the employees on these bills."""
    return [
        (str(r[0]), str(r[1]), int(r[2]))
        for r in hot.rows(
            conn,
            "SELECT bill_no, psn_no, account FROM funds_assessment"
            " WHERE bill_no = ANY(%(b)s) AND account > 0 ORDER BY bill_no, psn_no",
            {"b": list(bill_nos)},
        )
    ]


def pooled_totals(conn: sa.Connection, bill_nos: Sequence[str]) -> dict[str, int]:
    """Pooled part (统筹) per bill: employer + employee − account credits."""
    return {
        str(r[0]): int(r[1])
        for r in hot.rows(
            conn,
            "SELECT bill_no, SUM(pooled) FROM funds_assessment WHERE bill_no = ANY(%(b)s)"
            " GROUP BY bill_no",
            {"b": list(bill_nos)},
        )
    }


def resident_rows(conn: sa.Connection, bill_nos: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {
        str(r["bill_no"]): r
        for r in hot.rows_dict(
            conn,
            "SELECT * FROM funds_resident_assessment WHERE bill_no = ANY(%(b)s)",
            {"b": list(bill_nos)},
        )
    }


# ------------------------------------------------------------------------------ approvals


@dataclass(frozen=True, slots=True)
class Approval:
    approval_id: int
    kind: str
    emp_no: str
    period_from: date
    period_to: date
    approved_by: str
    reference: str
    fund_months: str
    approved_at: Any


def approvals(
    conn: sa.Connection, *, emp_nos: Sequence[str] | None = None, kind: str | None = None
) -> list[Approval]:
    rows = hot.rows(
        conn,
        "SELECT approval_id, kind, emp_no, period_from, period_to, approved_by, reference,"
        " fund_months, approved_at FROM funds_approval"
        " WHERE (CAST(%(e)s AS text[]) IS NULL OR emp_no = ANY(%(e)s))"
        " AND (CAST(%(k)s AS text) IS NULL OR kind = %(k)s) ORDER BY emp_no, period_from",
        {"e": list(emp_nos) if emp_nos is not None else None, "k": kind},
    )
    return [Approval(*r) for r in rows]


def insert_approval(conn: sa.Connection, row: dict[str, Any]) -> int:
    return int(
        hot.scalar(
            conn,
            "INSERT INTO funds_approval (kind, emp_no, period_from, period_to, approved_by,"
            " reference, fund_months) VALUES (%(kind)s, %(emp_no)s, %(period_from)s,"
            " %(period_to)s, %(approved_by)s, %(reference)s, %(fund_months)s)"
            " RETURNING approval_id",
            row,
        )
    )


# ------------------------------------------------------------------------------ tax files


def tax_file(conn: sa.Connection, file_id: str) -> dict[str, Any] | None:
    rows = hot.rows_dict(conn, "SELECT * FROM funds_tax_file WHERE file_id = %(f)s", {"f": file_id})
    return rows[0] if rows else None


def insert_tax_file(conn: sa.Connection, row: dict[str, Any], bill_nos: Sequence[str]) -> None:
    hot.execute(
        conn,
        "INSERT INTO funds_tax_file (file_id, direction, region, sha256, rows, principal,"
        " late_fee, body, actor) VALUES (%(file_id)s, %(direction)s, %(region)s, %(sha256)s,"
        " %(rows)s, %(principal)s, %(late_fee)s, %(body)s, %(actor)s)",
        row,
    )
    if bill_nos:
        hot.execute(
            conn,
            "INSERT INTO funds_tax_export_bill (file_id, bill_no)"
            " SELECT %(f)s, unnest(CAST(%(b)s AS text[]))",
            {"f": row["file_id"], "b": list(bill_nos)},
        )


def tax_files(conn: sa.Connection, region: str | None, limit: int = 50) -> list[dict[str, Any]]:
    return hot.rows_dict(
        conn,
        "SELECT file_id, direction, region, rows, principal, late_fee, actor, created_at"
        " FROM funds_tax_file WHERE (CAST(%(r)s AS text) IS NULL OR region = %(r)s)"
        " ORDER BY created_at DESC, file_id LIMIT %(n)s",
        {"r": region, "n": limit},
    )


# ------------------------------------------------------------------------------ postings


def posting_exists(conn: sa.Connection, ref: str) -> dict[str, Any] | None:
    rows = hot.rows_dict(conn, "SELECT * FROM funds_posting WHERE ref = %(r)s", {"r": ref})
    return rows[0] if rows else None


def insert_posting(conn: sa.Connection, row: dict[str, Any]) -> None:
    hot.execute(
        conn,
        "INSERT INTO funds_posting (ref, region, kind, fund_pay_type, amount, value_date,"
        " chain_id, memo, actor) VALUES (%(ref)s, %(region)s, %(kind)s, %(fund_pay_type)s,"
        " %(amount)s, %(value_date)s, %(chain_id)s, CAST(%(memo)s AS jsonb), %(actor)s)",
        {**row, "memo": json.dumps(row.get("memo") or {}, ensure_ascii=False, default=str)},
    )
