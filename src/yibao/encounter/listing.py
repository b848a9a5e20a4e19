"""The settlements list at province scale (结算记录分页): keyset paging, true totals, sorts, filters.

- **Scope by stored, indexed region columns.** A settlement is visible from its insured place
  (参保地) and its place of treatment (就医地). A city scope reads two ordered index scans — rows
  whose ``insuplc_city`` is in scope, and cross-region rows whose ``mdtrtarea_city`` is (a
  partial index) — merged, instead of ``LIKE '4401%' OR …`` over the whole table.
- **Keyset paging.** A page is "the next ``size`` rows after (sort value, ``setl_id``)", never an
  ``OFFSET``: page 1 000 costs what page 1 costs. :class:`Cursor` travels in the URL.
- **Totals** come from the daily roll-ups (:mod:`yibao.encounter.daily`, exact: rolled part plus
  live tail) when every filter is a roll-up dimension; a filter on ``setl_id`` or ``psn_no``
  narrows to a handful of rows and is counted directly.

Nothing here writes. Person-level data: refused to aggregate-only roles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from yibao.clock import CHINA
from yibao.console.model import Scope
from yibao.console.scoping import require_person_data
from yibao.encounter import daily

#: sort key → (column, descending)
SORTS: dict[str, tuple[str, bool]] = {
    "time_desc": ("setl_time", True),
    "time_asc": ("setl_time", False),
    "medfee_desc": ("medfee_sumamt", True),
    "medfee_asc": ("medfee_sumamt", False),
}

COLUMNS = (
    "setl_id",
    "setl_time",
    "kind",
    "psn_no",
    "fixmedins_code",
    "insutype",
    "med_type",
    "clr_type",
    "insuplc_admdvs",
    "mdtrtarea_admvs",
    "medfee_sumamt",
    "fund_pay_sumamt",
    "acct_pay",
    "psn_cash_pay",
)
# (stored 6-digit column, stored 4-digit city column) of each end of a settlement
INSURED = ("insuplc_admdvs", "insuplc_city")
TREATED = ("mdtrtarea_admvs", "mdtrtarea_city")


@dataclass(frozen=True, slots=True)
class Filter:
    setl_id: str = ""
    psn_no: str = ""
    fixmedins_code: str = ""
    admdvs: str = ""  # a region prefix: 参保地 or 就医地 in it
    insutype: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page starts: after (or, going back, before) this row in the sort order."""

    value: str  # the sort column's value (ISO time or integer fen) as text
    setl_id: str
    before: bool = False

    def encode(self) -> str:
        return ("b" if self.before else "a") + "~" + self.value + "~" + self.setl_id

    @staticmethod
    def decode(raw: str) -> Cursor | None:
        parts = raw.split("~")
        if len(parts) != 3 or parts[0] not in ("a", "b") or not parts[2]:
            return None
        return Cursor(parts[1], parts[2], before=parts[0] == "b")


@dataclass(slots=True)
class Page:
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    next: Cursor | None = None
    prev: Cursor | None = None


def region_sql(
    sides: Sequence[tuple[str, str]], prefixes: Sequence[str], params: dict[str, Any], tag: str
) -> str:
    """SQL: any side's region starts with one of ``prefixes``, on the stored columns — the
    6-digit code or the 4-digit city column by equality (``= ANY``), other lengths by ``left()``."""
    by_len: dict[int, list[str]] = {}
    for p in prefixes:
        by_len.setdefault(len(p), []).append(p)
    terms = []
    for n, group in sorted(by_len.items()):
        key = f"{tag}{n}"
        params[key] = group
        if n == 6:  # the city column too, so the city's index serves a county or a code
            params[key + "c"] = sorted({p[:4] for p in group})
        for full, city in sides:
            if n == 6:
                terms.append(f"({city} = ANY(:{key}c) AND {full} = ANY(:{key}))")
            else:
                col = city if n == 4 else f"left({full}, {n})"
                terms.append(f"{col} = ANY(:{key})")
    return "(" + " OR ".join(terms) + ")" if terms else "FALSE"


def _common(scope: Scope, f: Filter, params: dict[str, Any], *, rolled: bool) -> list[str]:
    """Conditions shared by every branch (and by the roll-up totals when ``rolled``)."""
    where: list[str] = []
    if scope.fixmedins_code is not None:
        params["scope_inst"] = scope.fixmedins_code
        where.append("fixmedins_code = :scope_inst")
    if f.fixmedins_code:
        params["f_inst"] = f.fixmedins_code
        where.append("fixmedins_code = :f_inst")
    if f.insutype:
        params["f_insutype"] = f.insutype
        where.append("insutype = :f_insutype")
    if f.admdvs:
        where.append(region_sql((INSURED, TREATED), [f.admdvs], params, "f_region"))
    where += daily.day_range(f.date_from, f.date_to, params)
    if not rolled:
        if f.date_from is not None:
            params["t_first"] = datetime.combine(f.date_from, time(0), tzinfo=CHINA)
            where.append("setl_time >= :t_first")
        if f.date_to is not None:
            params["t_last"] = datetime.combine(f.date_to + timedelta(days=1), time(0), CHINA)
            where.append("setl_time < :t_last")
        if f.setl_id:
            params["f_setl"] = f.setl_id
            where.append("setl_id = :f_setl")
        if f.psn_no:
            params["f_psn"] = f.psn_no
            where.append("psn_no = :f_psn")
    return where


def _branches(scope: Scope, params: dict[str, Any], f: Filter | None = None) -> list[str]:
    """The scope as disjoint conditions, each served by one ordered index scan. For the whole
    province a region filter (``f.admdvs``) is split the same way."""
    if scope.fixmedins_code is not None:
        return ["TRUE"]
    if scope.all_regions:
        if f is None or not f.admdvs:
            return ["TRUE"]
        p = [f.admdvs]
    else:
        p = list(scope.prefixes)
    if not p:
        return ["FALSE"]
    insured = region_sql((INSURED,), p, params, "s_region")
    treated = region_sql((TREATED,), p, params, "s_region")
    # treated here and insured elsewhere: always a row whose two codes differ, which is what the
    # partial index on the treatment city holds (said explicitly so the planner uses it)
    second = f"{treated} AND NOT {insured} AND insuplc_admdvs <> mdtrtarea_admvs"
    return [insured, second]


def page(
    conn: sa.Connection,
    scope: Scope,
    f: Filter,
    *,
    sort: str = "time_desc",
    cursor: Cursor | None = None,
    size: int = 50,
    counted: bool = True,
) -> Page:
    """One page of settlement records in scope, in ``sort`` order, starting at ``cursor``."""
    require_person_data(scope)
    col, desc = SORTS.get(sort, SORTS["time_desc"])
    params: dict[str, Any] = {"lim": size + 1}
    common = _common(scope, f, params, rolled=False)
    if cursor is not None:
        try:
            params["k_val"] = (
                datetime.fromisoformat(cursor.value) if col == "setl_time" else int(cursor.value)
            )
        except ValueError:  # a cursor edited by hand, or from another sort: start over
            cursor = None
    backward = cursor is not None and cursor.before
    walk_desc = desc != backward
    if cursor is not None:
        params["k_id"] = cursor.setl_id
        common.append(f"({col}, setl_id) {'<' if walk_desc else '>'} (:k_val, :k_id)")
    order = f"{col} {'DESC' if walk_desc else 'ASC'}, setl_id {'DESC' if walk_desc else 'ASC'}"
    cols = ", ".join(COLUMNS)
    parts = [
        f"(SELECT {cols} FROM encounter_settlement WHERE {' AND '.join([*common, b])}"
        f" ORDER BY {order} LIMIT :lim)"
        for b in _branches(scope, params, f)
    ]
    sql = f"SELECT * FROM ({' UNION ALL '.join(parts)}) u ORDER BY {order} LIMIT :lim"
    rows = [dict(m) for m in conn.execute(sa.text(sql), params).mappings()]
    more = len(rows) > size
    rows = rows[:size]
    if backward:
        rows.reverse()
    out = Page(rows=rows, total=count(conn, scope, f) if counted else 0)
    if rows:
        first = Cursor(_key(rows[0][col]), rows[0]["setl_id"], before=True)
        last = Cursor(_key(rows[-1][col]), rows[-1]["setl_id"])
        # going forward, rows lie behind us whenever we started at a cursor; going back, the
        # page we came from lies ahead
        out.next = last if (more or backward) else None
        out.prev = first if (more if backward else cursor is not None) else None
    _mark_cancelled(conn, out.rows)
    return out


def _key(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _mark_cancelled(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """``is_cancelled``: a cancellation record reverses the row (unique index on ``reverses``)."""
    ids = [r["setl_id"] for r in rows]
    gone = (
        set(
            conn.execute(
                sa.text("SELECT reverses FROM encounter_settlement WHERE reverses = ANY(:ids)"),
                {"ids": ids},
            ).scalars()
        )
        if ids
        else set()
    )
    for r in rows:
        r["is_cancelled"] = r["setl_id"] in gone


def count(conn: sa.Connection, scope: Scope, f: Filter) -> int:
    """How many records match: from the roll-ups unless a per-record filter narrows it."""
    params: dict[str, Any] = {}
    if f.setl_id or f.psn_no:
        where = _common(scope, f, params, rolled=False)
        branches = _branches(scope, params)
        scope_sql = "(" + " OR ".join(f"({b})" for b in branches) + ")"
        sql = f"SELECT COUNT(*) FROM encounter_settlement WHERE {' AND '.join([*where, scope_sql])}"
        return int(conn.execute(sa.text(sql), params).scalar_one())
    where = _common(scope, f, params, rolled=True)
    where.append(scope_where(scope, params))
    got = daily.totals(conn, " AND ".join(where), params)
    return int(got[0]["records"]) if got else 0


def scope_where(
    scope: Scope, params: dict[str, Any], sides: Sequence[tuple[str, str]] = (INSURED, TREATED)
) -> str:
    """The scope over roll-up rows (or settlement rows): institution, or either end's region."""
    if scope.fixmedins_code is not None:
        params["scope_inst"] = scope.fixmedins_code
        return "fixmedins_code = :scope_inst"
    if scope.all_regions:
        return "TRUE"
    return region_sql(sides, list(scope.prefixes), params, "s_region")
