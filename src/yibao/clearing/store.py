"""SQL of clearing (清算): statements, lines, and the cross-region settlements they are built from.

Runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from yibao.clearing.model import Line, clearing_amount
from yibao.encounter.store import encounter_settlement

metadata = sa.MetaData()

statement = sa.Table(
    "clearing_statement",
    metadata,
    sa.Column("stmt_id", sa.Text, primary_key=True),
    sa.Column("period", sa.Text),
    sa.Column("region_a", sa.Text),
    sa.Column("region_b", sa.Text),
    sa.Column("state", sa.Text),
    sa.Column("line_count", sa.Integer),
    sa.Column("totals", pg.JSONB),
    sa.Column("payer", sa.Text),
    sa.Column("payee", sa.Text),
    sa.Column("net_amount", sa.BigInteger),
    sa.Column("version", sa.Integer),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("confirmed_by", sa.Text),
    sa.Column("confirmed_at", sa.DateTime(timezone=True)),
    sa.Column("approved_by", sa.Text),
    sa.Column("approved_at", sa.DateTime(timezone=True)),
    sa.Column("ledger_chain_id", sa.Text),
    sa.Column("history", pg.JSONB),
)

line = sa.Table(
    "clearing_line",
    metadata,
    sa.Column("stmt_id", sa.Text),
    sa.Column("setl_id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text),
    sa.Column("reverses", sa.Text),
    sa.Column("psn_no", sa.Text),
    sa.Column("fixmedins_code", sa.Text),
    sa.Column("insuplc_admdvs", sa.Text),
    sa.Column("mdtrtarea_admvs", sa.Text),
    sa.Column("med_type", sa.Text),
    sa.Column("clr_type", sa.Text),
    sa.Column("setl_date", sa.Date),
    sa.Column("medfee_sumamt", sa.BigInteger),
    sa.Column("fund_pay_sumamt", sa.BigInteger),
    sa.Column("acct_pay", sa.BigInteger),
    sa.Column("psn_cash_pay", sa.BigInteger),
    sa.Column("clearing_amt", sa.BigInteger),
)

_LINE_COLS = [c.name for c in line.columns if c.name != "stmt_id"]


def cross_region_settlements(
    conn: sa.Connection, first: date, last: date, pair: tuple[str, str] | None = None
) -> list[Line]:
    """Every cross-region settlement and cancellation with a settlement date in the period
    (``insuplc_admdvs`` ≠ ``mdtrtarea_admvs``), optionally of one pair, in ``setl_id`` order."""
    s = encounter_settlement
    q = sa.select(
        s.c.setl_id, s.c.kind, s.c.reverses, s.c.psn_no, s.c.fixmedins_code, s.c.insuplc_admdvs,
        s.c.mdtrtarea_admvs, s.c.med_type, s.c.clr_type, s.c.setl_date, s.c.medfee_sumamt,
        s.c.fund_pay_sumamt, s.c.acct_pay, s.c.psn_cash_pay, s.c.setldetail,
    ).where(
        s.c.setl_date >= first,
        s.c.setl_date <= last,
        s.c.insuplc_admdvs != s.c.mdtrtarea_admvs,
    )  # fmt: skip
    if pair is not None:
        a, b = pair
        q = q.where(
            sa.or_(
                sa.and_(s.c.insuplc_admdvs == a, s.c.mdtrtarea_admvs == b),
                sa.and_(s.c.insuplc_admdvs == b, s.c.mdtrtarea_admvs == a),
            )
        )
    out = []
    for r in conn.execute(q.order_by(s.c.setl_id)):
        acct = int(r.acct_pay or 0)
        out.append(
            Line(
                r.setl_id,
                r.kind,
                r.reverses,
                r.psn_no,
                r.fixmedins_code,
                r.insuplc_admdvs,
                r.mdtrtarea_admvs,
                r.med_type or "",
                r.clr_type or "",
                r.setl_date,
                int(r.medfee_sumamt or 0),
                int(r.fund_pay_sumamt or 0),
                acct,
                int(r.psn_cash_pay or 0),
                clearing_amount(r.setldetail or [], acct),
            )
        )
    return out


def get(conn: sa.Connection, stmt_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    q = sa.select(statement).where(statement.c.stmt_id == stmt_id)
    if lock:
        q = q.with_for_update()
    r = conn.execute(q).mappings().first()
    return dict(r) if r else None


def of_period(conn: sa.Connection, period: str | None = None) -> list[dict[str, Any]]:
    q = sa.select(statement)
    if period:
        q = q.where(statement.c.period == period)
    q = q.order_by(statement.c.period, statement.c.region_a, statement.c.region_b)
    return [dict(r) for r in conn.execute(q).mappings()]


def lines(conn: sa.Connection, stmt_id: str) -> list[Line]:
    q = sa.select(*[line.c[n] for n in _LINE_COLS]).where(line.c.stmt_id == stmt_id)
    return [Line(*r) for r in conn.execute(q.order_by(line.c.setl_id))]


def insert_statement(conn: sa.Connection, values: Mapping[str, Any]) -> None:
    conn.execute(pg.insert(statement).values(**values))


def update_statement(conn: sa.Connection, stmt_id: str, **values: Any) -> None:
    conn.execute(statement.update().where(statement.c.stmt_id == stmt_id).values(**values))


def replace_lines(conn: sa.Connection, stmt_id: str, rows: Sequence[Line]) -> None:
    conn.execute(line.delete().where(line.c.stmt_id == stmt_id))
    if rows:
        conn.execute(
            line.insert(),
            [{"stmt_id": stmt_id, **{n: getattr(r, n) for n in _LINE_COLS}} for r in rows],
        )
