"""Retention (数据保留): move old months of an append-only table into the ``archive`` schema.

One mechanism for every table that only grows (ledger transfers today, the gateway message log
next): a month of rows is **moved**, never edited —

1. ``archive.<table>_<yyyymm>`` is created like the table and the month's rows are copied into it
   (with the table's lookup indexes, e.g. ``chain_id`` for a dispute about one settlement);
2. the copy is checked against the source (row count and an MD5 over the rows in key order);
3. the month's rows are deleted from the live table inside the same transaction, under
   ``SET LOCAL yibao.retention = 'archive'`` — the one setting an append-only guard trigger may
   honour (``ledger_refuse_change`` does; see ``ledger_0002``);
4. ``retention_archive`` records source, period, table, rows, checksum, who and when, and the view
   ``<table>_all`` is rebuilt as the live table ``UNION ALL`` every archived month still present.

Readers that must see the whole history (a dispute, a reversal of an old settlement, the ledger's
checks) read ``<table>_all``; the hot path keeps reading and writing the small live table.
After ``pg_dump -t archive.<table>_<yyyymm>`` to long-term storage, :func:`drop_archive` removes
the archive table and records it (``dropped_at``); its checksum stays in the catalogue so a
restored dump can be verified. Names: ``archive.<table>_<yyyymm>``, ``<table>_all``,
``retention_archive`` — the same for every source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

ARCHIVE_SCHEMA = "archive"
GUARD_SETTING = "yibao.retention"
_PERIOD = re.compile(r"^(\d{4})(0[1-9]|1[0-2])$")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


class RetentionError(ValueError):
    """A refused archive or drop (Chinese reason)."""


@dataclass(frozen=True, slots=True)
class Source:
    """An append-only table archived by month of ``date_column``."""

    table: str
    date_column: str
    order_by: tuple[str, ...]  # a unique key: the checksum's row order
    indexes: tuple[str, ...] = ()  # columns the archive is searched by

    def __post_init__(self) -> None:
        for name in (self.table, self.date_column, *self.order_by, *self.indexes):
            if not _IDENT.match(name):
                raise ValueError(f"not a plain SQL identifier: {name!r}")

    def archive_table(self, period: str) -> str:
        return f"{self.table}_{period}"

    @property
    def all_view(self) -> str:
        return f"{self.table}_all"


@dataclass(frozen=True, slots=True)
class Archived:
    source: str
    period: str
    table_name: str
    rows: int
    checksum: str


def period_of(day: date) -> str:
    """``YYYYMM`` of a date."""
    return f"{day.year:04d}{day.month:02d}"


def month_bounds(period: str) -> tuple[date, date]:
    """First day of the month and first day of the next one."""
    m = _PERIOD.match(period)
    if not m:
        raise RetentionError(f"月份须为 YYYYMM，收到 {period!r}")
    year, month = int(m.group(1)), int(m.group(2))
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)


def months_before(period: str, count: int) -> str:
    """The period ``count`` months before ``period``."""
    start, _ = month_bounds(period)
    index = start.year * 12 + start.month - 1 - count
    return f"{index // 12:04d}{index % 12 + 1:02d}"


def _checksum(conn: sa.Connection, relation: str, source: Source, where: str = "") -> str:
    order = ", ".join(f"t.{c}" for c in source.order_by)
    sql = (
        f"SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY {order}), '')) FROM {relation} t"
    )
    return str(conn.execute(sa.text(sql + where)).scalar_one())


def catalogue(conn: sa.Connection, source: Source) -> list[sa.RowMapping]:
    """Every archived month of ``source``, oldest first."""
    return list(
        conn.execute(
            sa.text("SELECT * FROM retention_archive WHERE source = :s ORDER BY period"),
            {"s": source.table},
        ).mappings()
    )


def rebuild_view(conn: sa.Connection, source: Source) -> None:
    """``<table>_all`` = the live table and every archived month still in the database."""
    present = [r["table_name"] for r in catalogue(conn, source) if r["dropped_at"] is None]
    parts = [f"SELECT * FROM {source.table}"]
    parts += [f"SELECT * FROM {ARCHIVE_SCHEMA}.{name}" for name in present]
    conn.execute(
        sa.text(f"CREATE OR REPLACE VIEW {source.all_view} AS " + " UNION ALL ".join(parts))
    )


def archive_month(
    conn: sa.Connection, source: Source, period: str, *, actor: str, now: datetime
) -> Archived:
    """Move ``period``'s rows of ``source`` to ``archive.<table>_<period>`` (one transaction:
    the caller's). Refused if the month is already archived."""
    start, end = month_bounds(period)
    if any(r["period"] == period for r in catalogue(conn, source)):
        raise RetentionError(f"{source.table} {period} 已归档")
    target = f"{ARCHIVE_SCHEMA}.{source.archive_table(period)}"
    in_month = f" WHERE t.{source.date_column} >= '{start}' AND t.{source.date_column} < '{end}'"
    conn.execute(sa.text(f"CREATE TABLE {target} (LIKE {source.table} INCLUDING DEFAULTS)"))
    conn.execute(sa.text(f"INSERT INTO {target} SELECT t.* FROM {source.table} t" + in_month))
    for column in source.indexes:
        conn.execute(sa.text(f"CREATE INDEX ON {target} ({column})"))
    rows = int(conn.execute(sa.text(f"SELECT count(*) FROM {target}")).scalar_one())
    checksum = _checksum(conn, target, source)
    if checksum != _checksum(conn, source.table, source, in_month):
        raise RetentionError(f"{source.table} {period}: 归档副本与原表校验不一致，未删除任何数据")
    conn.execute(sa.text(f"SET LOCAL {GUARD_SETTING} = 'archive'"))
    deleted = conn.execute(sa.text(f"DELETE FROM {source.table} t" + in_month)).rowcount
    conn.execute(sa.text(f"SET LOCAL {GUARD_SETTING} = ''"))
    if deleted != rows:
        raise RetentionError(f"{source.table} {period}: 删除{deleted}行，归档{rows}行，已回滚")
    conn.execute(
        sa.text(
            "INSERT INTO retention_archive (source, period, table_name, rows, checksum, "
            "archived_at, archived_by) VALUES (:s, :p, :t, :r, :c, :at, :by)"
        ),
        {"s": source.table, "p": period, "t": source.archive_table(period), "r": rows,
         "c": checksum, "at": now, "by": actor},
    )  # fmt: skip
    rebuild_view(conn, source)
    return Archived(source.table, period, source.archive_table(period), rows, checksum)


def drop_archive(
    conn: sa.Connection, source: Source, period: str, *, actor: str, now: datetime, note: str
) -> None:
    """Drop an archived month after it was dumped to long-term storage (``note`` says where);
    the catalogue keeps its row count and checksum."""
    row = next((r for r in catalogue(conn, source) if r["period"] == period), None)
    if row is None or row["dropped_at"] is not None:
        raise RetentionError(f"{source.table} {period} 未归档或已删除")
    if not note.strip():
        raise RetentionError("删除归档表前须注明其导出副本的存放位置(note)")
    conn.execute(
        sa.text(
            "UPDATE retention_archive SET dropped_at = :at, dropped_by = :by, dump_note = :n "
            "WHERE source = :s AND period = :p"
        ),
        {"at": now, "by": actor, "n": note.strip(), "s": source.table, "p": period},
    )
    rebuild_view(conn, source)
    conn.execute(sa.text(f"DROP TABLE {ARCHIVE_SCHEMA}.{source.archive_table(period)}"))
