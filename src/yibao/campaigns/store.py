"""Campaign store (推广方案存储): the plan table and the cohort query (SQLAlchemy Core)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import insert

from yibao.campaigns.model import Cohort

metadata = sa.MetaData()

campaign = sa.Table(
    "campaign",
    metadata,
    sa.Column("campaign_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("admdvs", sa.Text),
    sa.Column("start_date", sa.Date),
    sa.Column("end_date", sa.Date),
    sa.Column("plan", pg.JSONB),
    sa.Column("source_file", sa.Text),
    sa.Column("fingerprint", sa.Text),
    sa.Column("loaded_by", sa.Text),
    sa.Column("loaded_at", sa.DateTime(timezone=True)),
)


def upsert(conn: sa.Connection, row: dict[str, Any]) -> bool:
    """Insert or replace a plan; False when the same content was already stored."""
    same = conn.execute(
        sa.select(campaign.c.fingerprint).where(campaign.c.campaign_id == row["campaign_id"])
    ).scalar()
    if same == row["fingerprint"]:
        return False
    update = {k: v for k, v in row.items() if k != "campaign_id"}
    conn.execute(
        insert(campaign)
        .values(**row)
        .on_conflict_do_update(index_elements=["campaign_id"], set_=update)
    )
    return True


def get(conn: sa.Connection, campaign_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(campaign).where(campaign.c.campaign_id == campaign_id)).mappings()
    first = row.first()
    return dict(first) if first else None


def listing(conn: sa.Connection, prefixes: list[str] | None) -> list[dict[str, Any]]:
    """Campaigns, newest period first; ``prefixes`` limits the regions (None: all)."""
    q = sa.select(campaign).order_by(campaign.c.end_date.desc(), campaign.c.campaign_id)
    if prefixes is not None:
        q = q.where(sa.or_(*[campaign.c.admdvs.startswith(p) for p in prefixes], sa.false()))
    return [dict(r) for r in conn.execute(q).mappings()]


# The region's insured (a normal 310/390 enrolment today, the main one per person) with the
# facts the plan's categories test, and each person's FIRST activation (day in China time and
# channel) before :until — grouped, so a city of 720,000 insured is a few thousand rows.
_COHORTS = """
WITH m AS (
  SELECT DISTINCT ON (e.psn_no) e.psn_no, e.insutype, coalesce(e.psn_type, '') AS psn_type,
         coalesce(e.emp_no, '') AS emp_no, coalesce(u.emp_name, e.emp_name, '') AS emp_name,
         coalesce(u.emp_type, '') AS emp_type, coalesce(p.town, '') AS town
    FROM enrolment e JOIN person p ON p.psn_no = e.psn_no
    LEFT JOIN unit u ON u.emp_no = e.emp_no
   WHERE e.psn_insu_stas = '1' AND e.insutype IN ('310', '390') AND e.insuplc_admdvs = :admdvs
   ORDER BY e.psn_no, e.insutype),
a AS (
  SELECT DISTINCT ON (v.psn_no) v.psn_no,
         (v.at AT TIME ZONE 'Asia/Shanghai')::date AS day, v.chnl_id
    FROM ec_activation_event v
   WHERE v.kind = 'activate' AND v.at < :until
     AND v.psn_no IN (SELECT psn_no FROM m)
   ORDER BY v.psn_no, v.at)
SELECT m.insutype, m.psn_type, m.emp_type, m.emp_no, max(m.emp_name) AS emp_name, m.town,
       a.day, coalesce(a.chnl_id, '') AS chnl_id, count(*) AS n
  FROM m LEFT JOIN a ON a.psn_no = m.psn_no
 GROUP BY m.insutype, m.psn_type, m.emp_type, m.emp_no, m.town, a.day, a.chnl_id
"""


def cohorts(conn: sa.Connection, admdvs: str, until: datetime) -> list[Cohort]:
    """The region's insured grouped for :func:`yibao.campaigns.progress.compute`."""
    rows = conn.execute(sa.text(_COHORTS), {"admdvs": admdvs, "until": until})
    return [
        Cohort(r.insutype, r.psn_type, r.emp_type, r.emp_no, r.emp_name, r.town,
               r.day if isinstance(r.day, date) else None, r.chnl_id, int(r.n))
        for r in rows
    ]  # fmt: skip


def channel_names(conn: sa.Connection) -> dict[str, str]:
    rows = conn.execute(sa.text("SELECT chnl_id, name FROM ec_channel"))
    return {str(r.chnl_id): str(r.name) for r in rows}
