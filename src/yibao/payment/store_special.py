"""SQL of 特例单议 applications (申请) and expert opinions (专家意见)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from yibao.payment.store import metadata

special = sa.Table(
    "payment_special",
    metadata,
    sa.Column("appy_id", sa.Text, primary_key=True),
    sa.Column("setl_id", sa.Text),
    sa.Column("fixmedins_code", sa.Text),
    sa.Column("admdvs", sa.Text),
    sa.Column("year", sa.Integer),
    sa.Column("psn_no", sa.Text),
    sa.Column("mdtrt_id", sa.Text),
    sa.Column("state", sa.Text),
    sa.Column("exit_type", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("requested_units", sa.Numeric(20, 6)),
    sa.Column("deducted", sa.BigInteger),
    sa.Column("items", pg.JSONB),
    sa.Column("memo", sa.Text),
    sa.Column("msgid", sa.Text),
    sa.Column("chain_id", sa.Text),
    sa.Column("version", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
)

opinion = sa.Table(
    "payment_special_opinion",
    metadata,
    sa.Column("appy_id", sa.Text, primary_key=True),
    sa.Column("reviewer", sa.Text, primary_key=True),
    sa.Column("reviewer_name", sa.Text),
    sa.Column("approve", sa.Boolean),
    sa.Column("deducted", sa.BigInteger),
    sa.Column("opinion", sa.Text),
    sa.Column("at", sa.DateTime(timezone=True)),
)

LIVE = ("submitted", "in_review", "approved")


def insert(conn: sa.Connection, row: Mapping[str, Any]) -> None:
    conn.execute(special.insert().values(**dict(row)))


def load(conn: sa.Connection, appy_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    q = sa.select(special).where(special.c.appy_id == appy_id)
    if lock:
        q = q.with_for_update()
    row = conn.execute(q).mappings().one_or_none()
    return dict(row) if row is not None else None


def update(conn: sa.Connection, appy_id: str, values: Mapping[str, Any]) -> None:
    conn.execute(
        special.update()
        .where(special.c.appy_id == appy_id)
        .values(**dict(values), version=special.c.version + 1, updated_at=sa.func.now())
    )


def live_for_setl(conn: sa.Connection, setl_id: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            sa.select(special).where(special.c.setl_id == setl_id, special.c.state.in_(LIVE))
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def approved_for(conn: sa.Connection, setl_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not setl_ids:
        return {}
    rows = conn.execute(
        sa.select(special).where(special.c.setl_id.in_(setl_ids), special.c.state == "approved")
    ).mappings()
    return {r["setl_id"]: dict(r) for r in rows}


def count_live(conn: sa.Connection, fixmedins_code: str, year: int) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count()).where(
                special.c.fixmedins_code == fixmedins_code,
                special.c.year == year,
                special.c.state.in_(LIVE),
            )
        ).scalar_one()
    )


def search(
    conn: sa.Connection,
    *,
    fixmedins_code: str | None = None,
    setl_id: str | None = None,
    psn_no: str | None = None,
    appy_id: str | None = None,
    states: tuple[str, ...] = (),
    admdvs_prefixes: tuple[str, ...] | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[dict[str, Any]]:
    q = sa.select(special).order_by(special.c.created_at.desc(), special.c.appy_id)
    for col, value in (
        (special.c.fixmedins_code, fixmedins_code),
        (special.c.setl_id, setl_id),
        (special.c.psn_no, psn_no),
        (special.c.appy_id, appy_id),
    ):
        if value:
            q = q.where(col == value)
    if states:
        q = q.where(special.c.state.in_(states))
    if admdvs_prefixes is not None:
        q = q.where(sa.or_(sa.false(), *(special.c.admdvs.startswith(p) for p in admdvs_prefixes)))
    return [dict(r) for r in conn.execute(q.limit(limit).offset(offset)).mappings()]


def add_opinion(conn: sa.Connection, row: Mapping[str, Any]) -> None:
    conn.execute(opinion.insert().values(**dict(row)))


def opinions(conn: sa.Connection, appy_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {a: [] for a in appy_ids}
    if not appy_ids:
        return out
    rows = conn.execute(
        sa.select(opinion).where(opinion.c.appy_id.in_(appy_ids)).order_by(opinion.c.at)
    ).mappings()
    for r in rows:
        out[r["appy_id"]].append(dict(r))
    return out
