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


def _net_count() -> sa.ColumnElement[Any]:
    """Settlements minus cancellations."""
    s = encounter_settlement
    return sa.func.sum(sa.case((s.c.kind == "cancel", -1), else_=1))


def daily_totals(
    conn: sa.Connection, scope: Scope, since: date, today: date, limit: int = 300
) -> list[Row]:
    """The centre's totals per day, institution, 险种 and 清算类别 (net of cancellations): ``n``,
    ``medfee``, ``fund``, ``acct`` — what an institution's 3201 is compared against."""
    s = encounter_settlement
    stmt = (
        sa.select(
            s.c.setl_date,
            s.c.fixmedins_code,
            s.c.insutype,
            s.c.clr_type,
            _net_count().label("n"),
            sa.func.sum(s.c.medfee_sumamt).label("medfee"),
            sa.func.sum(s.c.fund_pay_sumamt).label("fund"),
            sa.func.sum(s.c.acct_pay).label("acct"),
        )
        .where(s.c.setl_date >= since, s.c.setl_date <= today)
        .group_by(s.c.setl_date, s.c.fixmedins_code, s.c.insutype, s.c.clr_type)
        .order_by(s.c.setl_date.desc(), s.c.fixmedins_code, s.c.insutype, s.c.clr_type)
        .limit(limit)
    )
    stmt = scoped(stmt, scope, regions=[s.c.mdtrtarea_admvs], institution=s.c.fixmedins_code)
    return [dict(m) for m in conn.execute(stmt).mappings()]


class Period:
    """Settlements of one period in the user's scope (net of cancellations), summed."""

    def __init__(self, conn: sa.Connection, scope: Scope, first: date, last: date) -> None:
        self.conn, self.scope, self.first, self.last = conn, scope, first, last

    def _select(self, *cols: Any) -> Any:
        s = encounter_settlement
        stmt = sa.select(*cols).where(s.c.setl_date >= self.first, s.c.setl_date <= self.last)
        return scoped(
            stmt,
            self.scope,
            regions=[s.c.insuplc_admdvs, s.c.mdtrtarea_admvs],
            institution=s.c.fixmedins_code,
        )

    @staticmethod
    def _sums(fields: Sequence[str]) -> list[Any]:
        s = encounter_settlement
        return [sa.func.coalesce(sa.func.sum(s.c[f]), 0).label(f) for f in fields]

    def totals(self, fields: Sequence[str] = (), *, on: date | None = None) -> Row:
        """``n`` (count), ``medfee``, and, unless ``on`` (one day) is given, ``fund`` and each of
        ``fields`` summed."""
        s = encounter_settlement
        cols = [
            sa.func.coalesce(_net_count(), 0).label("n"),
            sa.func.coalesce(sa.func.sum(s.c.medfee_sumamt), 0).label("medfee"),
        ]
        if on is None:
            cols.append(sa.func.coalesce(sa.func.sum(s.c.fund_pay_sumamt), 0).label("fund"))
            cols += self._sums(fields)
        stmt = self._select(*cols)
        if on is not None:
            stmt = stmt.where(s.c.setl_date == on)
        return dict(self.conn.execute(stmt).mappings().one())

    def by_treatment_region(self, fields: Sequence[str]) -> list[Row]:
        """``fields`` summed per place of treatment (``mdtrtarea_admvs``), in code order."""
        s = encounter_settlement
        stmt = (
            self._select(s.c.mdtrtarea_admvs, *self._sums(fields))
            .group_by(s.c.mdtrtarea_admvs)
            .order_by(s.c.mdtrtarea_admvs)
        )
        return [dict(m) for m in self.conn.execute(stmt).mappings()]

    def cross_region_flows(self) -> list[Row]:
        """Per (参保地, 就医地) pair that differ: ``n`` and ``fund`` (异地就医流向)."""
        s = encounter_settlement
        stmt = (
            self._select(
                s.c.insuplc_admdvs,
                s.c.mdtrtarea_admvs,
                sa.func.coalesce(_net_count(), 0).label("n"),
                sa.func.coalesce(sa.func.sum(s.c.fund_pay_sumamt), 0).label("fund"),
            )
            .where(s.c.insuplc_admdvs != s.c.mdtrtarea_admvs)
            .group_by(s.c.insuplc_admdvs, s.c.mdtrtarea_admvs)
            .order_by(s.c.insuplc_admdvs, s.c.mdtrtarea_admvs)
        )
        return [dict(m) for m in self.conn.execute(stmt).mappings()]
