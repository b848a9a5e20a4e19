"""Read-only queries over stored settlements (结算记录查询) for the console and reports.

Plain rows (``dict`` per row, amounts in fen) from ``encounter_settlement`` and
``encounter_fee_line``, each list filtered by the user's scope through
:mod:`yibao.console.scoping`: a settlement is visible from its insured place (参保地) and its place
of treatment (就医地); an institution operator sees only its own institution's. Nothing here
writes; the caller's connection is used as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from yibao.console.model import Scope
from yibao.console.scoping import scoped
from yibao.db.probe import tables_exist
from yibao.encounter import daily, listing
from yibao.encounter.store import encounter_fee_line, encounter_settlement

Row = dict[str, Any]


def available(conn: sa.Connection) -> bool:
    """Whether settlements are stored here (the encounter migration has run)."""
    return tables_exist(conn, "encounter_settlement")


def search(
    conn: sa.Connection,
    scope: Scope,
    *,
    setl_id: str = "",
    psn_no: str = "",
    fixmedins_code: str = "",
    admdvs: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 100,
) -> list[Row]:
    """Settlement records in scope, newest first; each row also says ``is_cancelled`` (a
    cancellation record reverses it). Person-level data: refused to aggregate-only roles."""
    s = encounter_settlement
    rev = s.alias("rev")
    cancelled = sa.exists().where(rev.c.reverses == s.c.setl_id)
    stmt = (
        sa.select(s, cancelled.label("is_cancelled"))
        .order_by(s.c.setl_time.desc(), s.c.setl_id.desc())
        .limit(limit)
    )
    stmt = scoped(
        stmt,
        scope,
        regions=[s.c.insuplc_admdvs, s.c.mdtrtarea_admvs],
        institution=s.c.fixmedins_code,
        person_data=True,
    )
    if setl_id:
        stmt = stmt.where(s.c.setl_id == setl_id)
    if psn_no:
        stmt = stmt.where(s.c.psn_no == psn_no)
    if fixmedins_code:
        stmt = stmt.where(s.c.fixmedins_code == fixmedins_code)
    if admdvs:
        stmt = stmt.where(
            sa.or_(
                s.c.insuplc_admdvs.startswith(admdvs, autoescape=True),
                s.c.mdtrtarea_admvs.startswith(admdvs, autoescape=True),
            )
        )
    if date_from:
        stmt = stmt.where(s.c.setl_date >= date_from)
    if date_to:
        stmt = stmt.where(s.c.setl_date <= date_to)
    return [dict(m) for m in conn.execute(stmt).mappings()]


def settlement(conn: sa.Connection, setl_id: str) -> Row | None:
    """One stored settlement (or cancellation) record; the caller checks it is in scope."""
    s = encounter_settlement
    m = conn.execute(sa.select(s).where(s.c.setl_id == setl_id)).mappings().first()
    return None if m is None else dict(m)


def cancellation_of(conn: sa.Connection, setl_id: str) -> str | None:
    """The ``setl_id`` of the record that cancelled ``setl_id``, if any."""
    s = encounter_settlement
    got = conn.execute(sa.select(s.c.setl_id).where(s.c.reverses == setl_id)).scalar()
    return None if got is None else str(got)


def fee_lines(conn: sa.Connection, mdtrt_id: str, feedetl_sns: Sequence[str]) -> list[Row]:
    """The settled fee lines of a visit (with their split), by ``feedetl_sn``."""
    if not feedetl_sns:
        return []
    f = encounter_fee_line
    stmt = (
        sa.select(f)
        .where(f.c.mdtrt_id == mdtrt_id, f.c.feedetl_sn.in_(feedetl_sns))
        .order_by(f.c.feedetl_sn)
    )
    return [dict(m) for m in conn.execute(stmt).mappings()]


def settlement_count(conn: sa.Connection, fixmedins_code: str) -> int:
    """How many settlements an institution has made (cancellation records not counted)."""
    s = encounter_settlement
    stmt = sa.select(sa.func.count()).where(
        s.c.fixmedins_code == fixmedins_code, s.c.kind == "settle"
    )
    return int(conn.execute(stmt).scalar_one())


def daily_totals(
    conn: sa.Connection, scope: Scope, since: date, today: date, limit: int = 300
) -> list[Row]:
    """The centre's totals per day, institution, 险种 and 清算类别 (net of cancellations): ``n``,
    ``medfee``, ``fund``, ``acct`` — what an institution's 3201 is compared against. Read from
    the daily roll-ups (exact: rolled part plus live tail), scoped by the place of treatment."""
    params: dict[str, Any] = {}
    where = daily.day_range(since, today, params)
    where.append(listing.scope_where(scope, params, sides=(listing.TREATED,)))
    rows = daily.totals(
        conn,
        " AND ".join(where),
        params,
        group_by=("setl_date", "fixmedins_code", "insutype", "clr_type"),
        fields=("medfee_sumamt", "fund_pay_sumamt", "acct_pay"),
        order_by="setl_date DESC, fixmedins_code, insutype, clr_type",
        limit=limit,
    )
    return [
        {
            **{k: r[k] for k in ("setl_date", "fixmedins_code", "insutype", "clr_type", "n")},
            "medfee": r["medfee_sumamt"],
            "fund": r["fund_pay_sumamt"],
            "acct": r["acct_pay"],
        }
        for r in rows
    ]


class Period:
    """Settlements of one period in the user's scope (net of cancellations), summed from the
    daily roll-ups (:mod:`yibao.encounter.daily`; exact: rolled part plus live tail)."""

    def __init__(self, conn: sa.Connection, scope: Scope, first: date, last: date) -> None:
        self.conn, self.scope, self.first, self.last = conn, scope, first, last

    def _sum(
        self,
        fields: Sequence[str],
        *,
        on: date | None = None,
        extra: str = "",
        group_by: Sequence[str] = (),
    ) -> list[Row]:
        params: dict[str, Any] = {}
        first, last = (on, on) if on is not None else (self.first, self.last)
        where = daily.day_range(first, last, params)
        where.append(listing.scope_where(self.scope, params))
        if extra:
            where.append(extra)
        return daily.totals(
            self.conn,
            " AND ".join(where),
            params,
            group_by=group_by,
            fields=fields,
            order_by=", ".join(group_by),
        )

    def totals(self, fields: Sequence[str] = (), *, on: date | None = None) -> Row:
        """``n`` (count), ``medfee``, and, unless ``on`` (one day) is given, ``fund`` and each of
        ``fields`` summed."""
        wanted = ["medfee_sumamt"] if on is not None else ["medfee_sumamt", "fund_pay_sumamt"]
        wanted += [f for f in fields if f not in wanted] if on is None else []
        got = self._sum(wanted, on=on)[0]
        out: Row = {"n": got["n"], "medfee": got["medfee_sumamt"]}
        if on is None:
            out["fund"] = got["fund_pay_sumamt"]
            out.update({f: got[f] for f in fields})
        return out

    def by_treatment_region(self, fields: Sequence[str]) -> list[Row]:
        """``fields`` summed per place of treatment (``mdtrtarea_admvs``), in code order."""
        rows = self._sum(fields, group_by=("mdtrtarea_admvs",))
        return [{k: r[k] for k in ("mdtrtarea_admvs", *fields)} for r in rows]

    def cross_region_flows(self) -> list[Row]:
        """Per (参保地, 就医地) pair that differ: ``n`` and ``fund`` (异地就医流向)."""
        rows = self._sum(
            ["fund_pay_sumamt"],
            extra="insuplc_admdvs <> mdtrtarea_admvs",
            group_by=("insuplc_admdvs", "mdtrtarea_admvs"),
        )
        return [
            {
                "insuplc_admdvs": r["insuplc_admdvs"],
                "mdtrtarea_admvs": r["mdtrtarea_admvs"],
                "n": r["n"],
                "fund": r["fund_pay_sumamt"],
            }
            for r in rows
        ]
