"""SQL of monthly advances (月度预结算), year-end clearing (年度清算) and institution budgets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from yibao.payment.store import metadata

advance = sa.Table(
    "payment_advance",
    metadata,
    sa.Column("fixmedins_code", sa.Text, primary_key=True),
    sa.Column("month", sa.Text, primary_key=True),
    sa.Column("admdvs", sa.Text),
    sa.Column("method", sa.Text),
    sa.Column("cases", sa.Integer),
    sa.Column("fund_due", sa.BigInteger),
    sa.Column("item_fund", sa.BigInteger),
    sa.Column("adjustments", pg.JSONB),
    sa.Column("advance", sa.BigInteger),
    sa.Column("hold", sa.BigInteger),
    sa.Column("unit_value", sa.Numeric(20, 4)),
    sa.Column("chain_id", sa.Text),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

region_year = sa.Table(
    "payment_region_year",
    metadata,
    sa.Column("admdvs", sa.Text, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("method", sa.Text),
    sa.Column("cost_budget", sa.BigInteger),
    sa.Column("by_item", sa.BigInteger),
    sa.Column("total_units", sa.Numeric(24, 4)),
    sa.Column("provisional_unit_value", sa.Numeric(20, 4)),
    sa.Column("final_unit_value", sa.Numeric(20, 4)),
    sa.Column("cases", sa.Integer),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

year_end = sa.Table(
    "payment_year_end",
    metadata,
    sa.Column("fixmedins_code", sa.Text, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("admdvs", sa.Text),
    sa.Column("cases", sa.Integer),
    sa.Column("final_fund_due", sa.BigInteger),
    sa.Column("posted_fund_due", sa.BigInteger),
    sa.Column("advanced", sa.BigInteger),
    sa.Column("held", sa.BigInteger),
    sa.Column("released", sa.BigInteger),
    sa.Column("forfeited", sa.BigInteger),
    sa.Column("offset", sa.BigInteger),
    sa.Column("final_payment", sa.BigInteger),
    sa.Column("receivable", sa.BigInteger),
    sa.Column("adjustments", pg.JSONB),
    sa.Column("chain_id", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

budget = sa.Table(
    "payment_budget",
    metadata,
    sa.Column("fixmedins_code", sa.Text, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("amount", sa.BigInteger),
    sa.Column("set_by", sa.Text),
    sa.Column("set_at", sa.DateTime(timezone=True)),
)


def lock_region_year(conn: sa.Connection, admdvs: str, year: int) -> None:
    """Serialise runs of one region and year (transaction-scoped advisory lock)."""
    conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"payment:{admdvs}:{year}"}
    )


def advance_exists(conn: sa.Connection, fixmedins_code: str, month: str) -> bool:
    return (
        conn.execute(
            sa.select(advance.c.month).where(
                advance.c.fixmedins_code == fixmedins_code, advance.c.month == month
            )
        ).first()
        is not None
    )


def insert_advance(conn: sa.Connection, row: Mapping[str, Any]) -> None:
    conn.execute(advance.insert().values(**dict(row)))


def advances(
    conn: sa.Connection,
    *,
    admdvs: str | None = None,
    year: int | None = None,
    fixmedins_code: str | None = None,
) -> list[dict[str, Any]]:
    q = sa.select(advance).order_by(advance.c.month, advance.c.fixmedins_code)
    if admdvs:
        q = q.where(advance.c.admdvs == admdvs)
    if year is not None:
        q = q.where(advance.c.month.like(f"{year}%"))
    if fixmedins_code:
        q = q.where(advance.c.fixmedins_code == fixmedins_code)
    return [dict(r) for r in conn.execute(q).mappings()]


def load_region_year(conn: sa.Connection, admdvs: str, year: int) -> dict[str, Any] | None:
    row = (
        conn.execute(
            sa.select(region_year).where(region_year.c.admdvs == admdvs, region_year.c.year == year)
        )
        .mappings()
        .one_or_none()
    )
    return dict(row) if row is not None else None


def insert_region_year(conn: sa.Connection, row: Mapping[str, Any]) -> None:
    conn.execute(region_year.insert().values(**dict(row)))


def insert_year_end(conn: sa.Connection, row: Mapping[str, Any]) -> None:
    conn.execute(year_end.insert().values(**dict(row)))


def year_ends(
    conn: sa.Connection, *, admdvs: str | None = None, year: int | None = None
) -> list[dict[str, Any]]:
    q = sa.select(year_end).order_by(year_end.c.year, year_end.c.fixmedins_code)
    if admdvs:
        q = q.where(year_end.c.admdvs == admdvs)
    if year is not None:
        q = q.where(year_end.c.year == year)
    return [dict(r) for r in conn.execute(q).mappings()]


def set_budget(conn: sa.Connection, fixmedins_code: str, year: int, amount: int, by: str) -> None:
    ins = pg.insert(budget).values(
        fixmedins_code=fixmedins_code, year=year, amount=amount, set_by=by
    )
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=["fixmedins_code", "year"],
            set_={"amount": amount, "set_by": by, "set_at": sa.func.now()},
        )
    )


def budgets(conn: sa.Connection, year: int) -> dict[str, int]:
    return {
        r.fixmedins_code: int(r.amount)
        for r in conn.execute(sa.select(budget).where(budget.c.year == year))
    }
