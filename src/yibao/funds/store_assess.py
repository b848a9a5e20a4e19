"""Funds SQL of assessment (核定存储): runs, the employees' monthly assessment and residents' yearly
bills.

Every function runs in the caller's transaction. The monthly assessment is one set-based
``INSERT … SELECT`` over the registry's employment, enrolment and unit tables (read only) with the
rates passed as parameters — no row-at-a-time Python (bench/contributions.py measures it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from yibao.db import hot
from yibao.funds.model import RETIRED_PSN_TYPES, EmployeeRules


def next_run_no(conn: sa.Connection, region: str, scheme: str, period: date) -> int:
    n = hot.scalar(
        conn,
        "SELECT COALESCE(MAX(run_no), 0) + 1 FROM funds_assessment_run"
        " WHERE region = %(r)s AND scheme = %(s)s AND period = %(p)s",
        {"r": region, "s": scheme, "p": period},
    )
    return int(n)


def insert_run(
    conn: sa.Connection, region: str, scheme: str, period: date, run_no: int, actor: str
) -> int:
    return int(
        hot.scalar(
            conn,
            "INSERT INTO funds_assessment_run (region, scheme, period, run_no, rows, bills,"
            " amount, actor) VALUES (%(r)s, %(s)s, %(p)s, %(n)s, 0, 0, 0, %(a)s) RETURNING run_id",
            {"r": region, "s": scheme, "p": period, "n": run_no, "a": actor},
        )
    )


def finish_run(conn: sa.Connection, run_id: int, rows: int, bills: int, amount: int) -> None:
    hot.execute(
        conn,
        "UPDATE funds_assessment_run SET rows = %(r)s, bills = %(b)s, amount = %(a)s"
        " WHERE run_id = %(id)s",
        {"r": rows, "b": bills, "a": amount, "id": run_id},
    )


# Employees and flexible workers of the region insured in the month and not assessed yet. The
# rates come as parameters; relief applies to units with an approval covering the month whose
# type the policy lists. Amounts: x × rate, rounded half up (x * u + 5000) / 10000.
_ASSESS_EMPLOYEES = """
WITH relief_units AS (
  SELECT DISTINCT emp_no FROM funds_approval
   WHERE kind = 'relief' AND %(period)s::date BETWEEN period_from AND period_to
), src AS (
  SELECT e.psn_no, e.flexible, e.wage_base,
         CASE WHEN e.flexible THEN 'F' || e.psn_no ELSE 'E' || e.emp_no END AS payer,
         n.cvlserv_flag,
         (NOT e.flexible AND %(relief_rate)s::int IS NOT NULL
          AND u.emp_type = ANY(%(relief_types)s::text[]) AND r.emp_no IS NOT NULL) AS relief
    FROM employment e
    JOIN enrolment n ON n.psn_no = e.psn_no AND n.insutype = '310'
    LEFT JOIN unit u ON u.emp_no = e.emp_no
    LEFT JOIN relief_units r ON r.emp_no = e.emp_no
   WHERE e.begin_date <= %(mend)s AND (e.end_date IS NULL OR e.end_date >= %(period)s)
     AND n.psn_insu_stas NOT IN ('0', '3') AND n.psn_insu_date <= %(mend)s
     AND (n.paus_insu_date IS NULL OR n.paus_insu_date > %(period)s)
     AND NOT (n.psn_type = ANY(%(retired)s::text[]))
     AND COALESCE(u.admdvs, n.insuplc_admdvs) = %(region)s
), b AS (
  SELECT src.*, LEAST(GREATEST(wage_base, %(floor)s::bigint), %(ceiling)s::bigint) AS base,
         CASE WHEN flexible THEN %(flex_er_rate)s::int
              WHEN relief THEN %(relief_rate)s::int ELSE %(er_rate)s::int END AS er_rate
    FROM src
), c AS (
  SELECT b.*, (base * er_rate + 5000) / 10000 AS employer,
         (base * %(ee_rate)s::int + 5000) / 10000 AS employee,
         %(large_monthly)s::bigint + (base * %(large_rate)s::int + 5000) / 10000 AS large_amount,
         CASE WHEN cvlserv_flag THEN (base * %(civil_rate)s::int + 5000) / 10000 ELSE 0 END
           AS civil_servant
    FROM b
), d AS (
  SELECT c.*, LEAST(
           (employee * %(acct_ee)s::int + 5000) / 10000 + (employer * %(acct_er)s::int + 5000) / 10000,
           COALESCE((base * %(acct_cap)s::int + 5000) / 10000, employee + employer),
           employee + employer) AS account
    FROM c
), ins AS (
  INSERT INTO funds_assessment (period, psn_no, insutype, region, bill_no, run_id, flexible,
         relief, base, employer_rate, employer, employee, account, pooled, large_amount,
         civil_servant)
  SELECT %(period)s, psn_no, '310', %(region)s, %(bill_prefix)s || payer || %(bill_suffix)s,
         %(run_id)s, flexible, relief, base, er_rate, employer, employee, account,
         employer + employee - account, large_amount, civil_servant
    FROM d
  ON CONFLICT (psn_no, insutype, period) DO NOTHING
  RETURNING bill_no, flexible, employer, employee, large_amount, civil_servant
), bills AS (
  INSERT INTO funds_bill (bill_no, region, scheme, payer_kind, payer_id, period, due_date,
         employer, employee, large_amount, amount, persons, run_id)
  SELECT bill_no, %(region)s, CASE WHEN bool_and(flexible) THEN 'flexible' ELSE 'employee' END,
         CASE WHEN bool_and(flexible) THEN 'person' ELSE 'unit' END,
         substr(split_part(bill_no, '-', 1), %(payer_at)s), %(period)s, %(due)s,
         SUM(employer), SUM(employee), SUM(large_amount),
         SUM(employer) + SUM(employee) + SUM(large_amount), COUNT(*), %(run_id)s
    FROM ins GROUP BY bill_no
  RETURNING amount, persons
)
SELECT COALESCE(SUM(persons), 0), COUNT(*), COALESCE(SUM(amount), 0),
       (SELECT COALESCE(SUM(civil_servant), 0) FROM ins)
  FROM bills
"""


def assess_employees(
    conn: sa.Connection,
    *,
    region: str,
    period: date,
    period_end: date,
    due: date,
    run_id: int,
    run_no: int,
    rules: EmployeeRules,
) -> tuple[int, int, int, int]:
    """Assess the month for everyone not assessed yet, and make the run's bills, in one statement;
    (rows, bills, amount payable, 公务员补助 by the budget), fen."""
    flex_total = rules.flexible_rate
    flex_er = (
        rules.employer_rate if flex_total is None else max(flex_total - rules.employee_rate, 0)
    )
    prefix = f"{region}{period:%Y%m}"
    params: dict[str, Any] = {
        "period": period,
        "mend": period_end,
        "region": region,
        "retired": list(RETIRED_PSN_TYPES),
        "floor": rules.base_floor,
        "ceiling": rules.base_ceiling,
        "er_rate": rules.employer_rate,
        "flex_er_rate": flex_er,
        "relief_rate": rules.relief_rate,
        "relief_types": list(rules.relief_unit_types),
        "ee_rate": rules.employee_rate,
        "large_monthly": rules.large_amount_monthly,
        "large_rate": rules.large_amount_rate,
        "civil_rate": rules.civil_servant_rate,
        "acct_ee": rules.account_employee_share,
        "acct_er": rules.account_employer_share,
        "acct_cap": rules.account_cap_rate,
        "bill_prefix": prefix,
        "bill_suffix": f"-{run_no}",
        "run_id": run_id,
    }
    hot.execute(conn, "SET LOCAL work_mem = '256MB'")  # hash joins and the grouping in memory
    row = hot.one(conn, _ASSESS_EMPLOYEES, {**params, "due": due, "payer_at": len(prefix) + 2})
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


# ------------------------------------------------------------------------------ residents

_RESIDENT_CANDIDATES = """
SELECT e.psn_no, GREATEST(e.psn_insu_date, %(y1)s::date) AS cover_from,
       (SELECT array_agg(i.psn_idet_type) FROM person_identity i
         WHERE i.psn_no = e.psn_no AND i.begntime <= %(on)s
           AND (i.endtime IS NULL OR i.endtime >= %(on)s)) AS identities
  FROM enrolment e
 WHERE e.insutype = '390' AND e.insuplc_admdvs = %(region)s
   AND e.psn_insu_stas NOT IN ('0', '3') AND e.psn_insu_date <= %(yend)s
   AND (e.paus_insu_date IS NULL OR e.paus_insu_date > %(y1)s)
   AND (CAST(%(psn_no)s AS text) IS NULL OR e.psn_no = %(psn_no)s)
   AND NOT EXISTS (SELECT 1 FROM funds_resident_assessment r
                    WHERE r.year = %(year)s AND r.psn_no = e.psn_no)
 ORDER BY e.psn_no
"""


def resident_candidates(
    conn: sa.Connection, region: str, year: int, on: date, psn_no: str | None
) -> list[tuple[str, date, tuple[str, ...]]]:
    """(psn_no, cover_from, identity codes valid on ``on``) of residents not assessed for ``year``."""
    rows = hot.rows(
        conn,
        _RESIDENT_CANDIDATES,
        {"region": region, "year": year, "y1": date(year, 1, 1), "yend": date(year, 12, 31),
         "on": on, "psn_no": psn_no},
    )  # fmt: skip
    return [(str(r[0]), r[1], tuple(r[2] or ())) for r in rows]


def insert_residents(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(sa.text(_INSERT_RESIDENT), list(rows))


_INSERT_RESIDENT = """
INSERT INTO funds_resident_assessment (year, psn_no, region, bill_no, run_id, cover_from, personal,
       assisted, own, subsidy, serious, assist_class, assist_chain, settled_on)
VALUES (:year, :psn_no, :region, :bill_no, :run_id, :cover_from, :personal, :assisted, :own,
        :subsidy, :serious, :assist_class, :assist_chain, :settled_on)
"""


def insert_bills(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(
            sa.text(
                "INSERT INTO funds_bill (bill_no, region, scheme, payer_kind, payer_id, period,"
                " due_date, employer, employee, large_amount, amount, persons, run_id) VALUES"
                " (:bill_no, :region, :scheme, :payer_kind, :payer_id, :period, :due_date,"
                " :employer, :employee, :large_amount, :amount, :persons, :run_id)"
            ),
            list(rows),
        )
