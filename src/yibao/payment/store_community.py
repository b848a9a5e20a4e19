"""SQL of county medical communities (医共体): members, budgets, months, years, and spending.

:func:`spending` reads the stored settlements (``encounter_settlement``, read only): the fund
lines of one fund type paid for the community's insured (insured region = the county) in a
period, split by where they were treated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from yibao.payment.store import metadata

community = sa.Table(
    "payment_community",
    metadata,
    sa.Column("ycm_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("admdvs", sa.Text),
    sa.Column("lead_fixmedins_code", sa.Text),
    sa.Column("fund_pay_type", sa.Text),
    sa.Column("population", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)
member = sa.Table(
    "payment_community_member",
    metadata,
    sa.Column("ycm_id", sa.Text, primary_key=True),
    sa.Column("fixmedins_code", sa.Text, primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)
cbudget = sa.Table(
    "payment_community_budget",
    metadata,
    sa.Column("ycm_id", sa.Text, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("amount", sa.BigInteger),
    sa.Column("basis", sa.Text),
    sa.Column("set_by", sa.Text),
    sa.Column("set_at", sa.DateTime(timezone=True)),
)
month = sa.Table(
    "payment_community_month",
    metadata,
    sa.Column("ycm_id", sa.Text, primary_key=True),
    sa.Column("month", sa.Text, primary_key=True),
    sa.Column("allocation", sa.BigInteger),
    sa.Column("spending", sa.BigInteger),
    sa.Column("inside", sa.BigInteger),
    sa.Column("outside", sa.BigInteger),
    sa.Column("out_of_county", sa.BigInteger),
    sa.Column("chain_id", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)
cyear = sa.Table(
    "payment_community_year",
    metadata,
    sa.Column("ycm_id", sa.Text, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("budget", sa.BigInteger),
    sa.Column("spending", sa.BigInteger),
    sa.Column("retained", sa.BigInteger),
    sa.Column("returned", sa.BigInteger),
    sa.Column("fund_overrun", sa.BigInteger),
    sa.Column("community_overrun", sa.BigInteger),
    sa.Column("final", sa.BigInteger),
    sa.Column("lines", pg.JSONB),
    sa.Column("chain_id", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)


def upsert_community(conn: sa.Connection, row: Mapping[str, Any], members: Sequence[str]) -> None:
    ins = pg.insert(community).values(**dict(row))
    keys = [k for k in row if k != "ycm_id"]
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=["ycm_id"], set_={k: ins.excluded[k] for k in keys}
        )
    )
    conn.execute(member.delete().where(member.c.ycm_id == row["ycm_id"]))
    if members:
        conn.execute(
            member.insert(), [{"ycm_id": row["ycm_id"], "fixmedins_code": m} for m in members]
        )


def communities(conn: sa.Connection, ycm_id: str | None = None) -> list[dict[str, Any]]:
    q = sa.select(community).order_by(community.c.ycm_id)
    if ycm_id:
        q = q.where(community.c.ycm_id == ycm_id)
    out = [dict(r) for r in conn.execute(q).mappings()]
    for c in out:
        c["members"] = list(
            conn.execute(
                sa.select(member.c.fixmedins_code)
                .where(member.c.ycm_id == c["ycm_id"])
                .order_by(member.c.fixmedins_code)
            ).scalars()
        )
    return out


def set_budget(
    conn: sa.Connection, ycm_id: str, year: int, amount: int, basis: str, by: str
) -> None:
    ins = pg.insert(cbudget).values(ycm_id=ycm_id, year=year, amount=amount, basis=basis, set_by=by)
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=["ycm_id", "year"],
            set_={"amount": amount, "basis": basis, "set_by": by, "set_at": sa.func.now()},
        )
    )


def budget_of(conn: sa.Connection, ycm_id: str, year: int) -> dict[str, Any] | None:
    row = (
        conn.execute(sa.select(cbudget).where(cbudget.c.ycm_id == ycm_id, cbudget.c.year == year))
        .mappings()
        .one_or_none()
    )
    return dict(row) if row is not None else None


def months(conn: sa.Connection, ycm_id: str, year: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(month)
        .where(month.c.ycm_id == ycm_id, month.c.month.like(f"{year}%"))
        .order_by(month.c.month)
    ).mappings()
    return [dict(r) for r in rows]


def insert_month(conn: sa.Connection, row: Mapping[str, Any]) -> None:
    conn.execute(month.insert().values(**dict(row)))


def year_of(conn: sa.Connection, ycm_id: str, year: int) -> dict[str, Any] | None:
    row = (
        conn.execute(sa.select(cyear).where(cyear.c.ycm_id == ycm_id, cyear.c.year == year))
        .mappings()
        .one_or_none()
    )
    return dict(row) if row is not None else None


def insert_year(conn: sa.Connection, row: Mapping[str, Any]) -> None:
    conn.execute(cyear.insert().values(**dict(row)))


def spending(
    conn: sa.Connection,
    *,
    county: str,
    fund_pay_type: str,
    members: Sequence[str],
    begin: date,
    end: date,
) -> dict[str, int]:
    """Fund spending (fen) on the county's insured between ``begin`` and ``end`` (inclusive):
    ``inside`` member institutions, ``outside`` other institutions in the county,
    ``out_of_county`` treated elsewhere. Cancellations count negatively (their lines are)."""
    row = (
        conn.execute(
            sa.text(
                """
                SELECT
                  COALESCE(SUM(f.amt) FILTER (WHERE s.mdtrtarea_admvs = :county
                                              AND s.fixmedins_code = ANY(:members)), 0) AS inside,
                  COALESCE(SUM(f.amt) FILTER (WHERE s.mdtrtarea_admvs = :county
                                              AND NOT s.fixmedins_code = ANY(:members)), 0) AS outside,
                  COALESCE(SUM(f.amt) FILTER (WHERE s.mdtrtarea_admvs <> :county), 0) AS out_of_county
                  FROM encounter_settlement s
                  CROSS JOIN LATERAL (
                    SELECT COALESCE(SUM((d->>'fund_payamt')::bigint), 0) AS amt
                      FROM jsonb_array_elements(s.setldetail) d
                     WHERE d->>'fund_pay_type' = :fpt
                  ) f
                 WHERE s.insuplc_admdvs = :county AND s.setl_date BETWEEN :begin AND :end
                """
            ),
            {
                "county": county,
                "members": list(members),
                "fpt": fund_pay_type,
                "begin": begin,
                "end": end,
            },
        )
        .mappings()
        .one()
    )
    return {k: int(row[k]) for k in ("inside", "outside", "out_of_county")}
