"""SQL of the export (测算数据导出): settlements, their fee lines and the insured, read-only.

Reads the tables of other capabilities (encounter, registry, institutions) without changing
them; one query per partition (region × year × hash bucket of the person), so the export streams.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

_COUNTS = sa.text(
    """
    SELECT s.insuplc_admdvs, s.acc_year, COUNT(*)
    FROM encounter_settlement s
    WHERE s.reverses IS NULL
      AND NOT EXISTS (SELECT 1 FROM encounter_settlement c WHERE c.reverses = s.setl_id)
      AND s.acc_year BETWEEN :y0 AND :y1
    GROUP BY 1, 2 ORDER BY 1, 2
    """
)

_BILLS = sa.text(
    """
    SELECT s.setl_id, s.psn_no, s.insutype, s.med_type, s.insuplc_admdvs, s.mdtrtarea_admvs,
           s.fixmedins_code, s.setl_time, s.acc_year, s.hifp_pay, s.fund_pay_sumamt,
           s.psn_part_amt, s.acct_pay, s.acct_mulaid_pay, s.balc,
           s.setlinfo ->> 'psn_type' AS psn_type,
           COALESCE(e.begntime, s.setl_time) AS begntime, e.endtime, e.dise_codg,
           i.hosp_lv
    FROM encounter_settlement s
    LEFT JOIN encounter e ON e.mdtrt_id = s.mdtrt_id
    LEFT JOIN institution i ON i.fixmedins_code = s.fixmedins_code
    WHERE s.reverses IS NULL
      AND NOT EXISTS (SELECT 1 FROM encounter_settlement c WHERE c.reverses = s.setl_id)
      AND s.insuplc_admdvs = :region AND s.acc_year = :year
      AND (hashtext(s.psn_no) & 2147483647) % :buckets = :bucket
    ORDER BY s.psn_no, s.setl_time, s.setl_id
    """
)

_LINES = sa.text(
    """
    SELECT settled_setl_id AS setl_id, feedetl_sn, det_item_fee_sumamt, cnt, pric, pric_uplmt_amt,
           selfpay_prop, chrgitm_lv, split_flags, med_list_codg
    FROM encounter_fee_line
    WHERE settled_setl_id = ANY(:ids)
    ORDER BY settled_setl_id, feedetl_sn
    """
)

_PERSONS = sa.text(
    """
    SELECT p.psn_no, p.brdy, e.insutype, e.psn_insu_date, e.cvlserv_flag, e.pool_only
    FROM person p JOIN enrolment e ON e.psn_no = p.psn_no
    WHERE p.psn_no = ANY(:psn)
    """
)

_IDENTITIES = sa.text(
    """
    SELECT psn_no, psn_idet_type, begntime, endtime
    FROM person_identity WHERE psn_no = ANY(:psn)
    """
)


def settlement_counts(conn: sa.Connection, y0: int, y1: int) -> list[tuple[str, int, int]]:
    """(insured region, year, settlements) with settlements in force (not reversed)."""
    return [(str(r[0]), int(r[1]), int(r[2])) for r in conn.execute(_COUNTS, {"y0": y0, "y1": y1})]


def bills(
    conn: sa.Connection, region: str, year: int, buckets: int, bucket: int
) -> list[dict[str, Any]]:
    params = {"region": region, "year": year, "buckets": buckets, "bucket": bucket}
    return [dict(r._mapping) for r in conn.execute(_BILLS, params)]


def lines(conn: sa.Connection, setl_ids: Sequence[str]) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(_LINES, {"ids": list(setl_ids)})]


def persons(
    conn: sa.Connection, psn_nos: Sequence[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Enrolments (with birth date) and identities (人员身份) of the persons."""
    psn = list(psn_nos)
    enr = [dict(r._mapping) for r in conn.execute(_PERSONS, {"psn": psn})]
    ids = [dict(r._mapping) for r in conn.execute(_IDENTITIES, {"psn": psn})]
    return enr, ids


# --------------------------------------------------------------------------- console runs

metadata = sa.MetaData()
simulation_run = sa.Table(
    "simulation_run",
    metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("dataset", sa.Text),
    sa.Column("params", sa.JSON),
    sa.Column("state", sa.Text),
    sa.Column("bills_total", sa.BigInteger),
    sa.Column("bills_done", sa.BigInteger),
    sa.Column("error", sa.Text),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
)


def insert_run(conn: sa.Connection, row: dict[str, Any]) -> None:
    conn.execute(simulation_run.insert().values(**row))


def update_run(conn: sa.Connection, run_id: str, **values: Any) -> None:
    conn.execute(simulation_run.update().where(simulation_run.c.run_id == run_id).values(**values))


def get_run(conn: sa.Connection, run_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(simulation_run).where(simulation_run.c.run_id == run_id)).first()
    return None if row is None else dict(row._mapping)


def list_runs(conn: sa.Connection, limit: int) -> list[dict[str, Any]]:
    q = sa.select(simulation_run).order_by(simulation_run.c.created_at.desc()).limit(limit)
    return [dict(r._mapping) for r in conn.execute(q)]
