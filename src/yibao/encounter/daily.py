"""Daily settlement roll-ups (结算日汇总): per day × (参保地, 就医地) × institution × 险种 × 清算类别.

:func:`rollup` folds into ``encounter_settlement_daily`` every settlement record whose writing
transaction id is below the oldest one still running (``pg_snapshot_xmin``), from the stored
watermark on — those rows are final, so each is folded exactly once, whatever the order of
commits; settlements never wait for it (the same scheme as the ledger's roll-up, docs/ledger.md).

:func:`totals` reads the rolled part plus the live tail above the watermark in one statement, so
its figures are exact at any moment; the console's overview, reconciliation and list totals read
here instead of scanning ``encounter_settlement`` (ADR 0018). Amounts in fen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from yibao.encounter.amounts import AMOUNT_FIELDS

#: the roll-up's dimensions (维度), in key order
DIMENSIONS = (
    "setl_date",
    "insuplc_admdvs",
    "mdtrtarea_admvs",
    "fixmedins_code",
    "insutype",
    "clr_type",
)
_SUMS = ", ".join(f"SUM({a})" for a in AMOUNT_FIELDS)
_NET = "SUM(CASE WHEN kind = 'cancel' THEN -1 ELSE 1 END)"

_FOLD = f"""
WITH moved AS (
  SELECT {", ".join(DIMENSIONS)}, COUNT(*) AS records, {_NET} AS n, {_SUMS}
    FROM encounter_settlement
   WHERE xid >= CAST(:wm AS text)::xid8 AND xid < CAST(:hz AS text)::xid8
   GROUP BY {", ".join(DIMENSIONS)}
), folded AS (
  INSERT INTO encounter_settlement_daily AS d
         ({", ".join(DIMENSIONS)}, records, n, {", ".join(AMOUNT_FIELDS)})
  SELECT * FROM moved
  ON CONFLICT ({", ".join(DIMENSIONS)}) DO UPDATE
     SET records = d.records + EXCLUDED.records, n = d.n + EXCLUDED.n,
         {", ".join(f"{a} = d.{a} + EXCLUDED.{a}" for a in AMOUNT_FIELDS)}
  RETURNING 1
)
SELECT COALESCE(SUM(records), 0) FROM moved
"""


def rollup(conn: sa.Connection) -> int:
    """Fold finished settlement records into the daily roll-up; return how many were folded.

    Takes the single roll-up lock (``FOR UPDATE`` on ``encounter_rollup_state``)."""
    watermark = conn.execute(
        sa.text("SELECT xid_watermark::text FROM encounter_rollup_state WHERE id = 1 FOR UPDATE")
    ).scalar_one()
    horizon = conn.execute(
        sa.text(
            "SELECT GREATEST(pg_snapshot_xmin(pg_current_snapshot()), "
            "CAST(:wm AS text)::xid8)::text"
        ),
        {"wm": watermark},
    ).scalar_one()
    folded = conn.execute(sa.text(_FOLD), {"wm": watermark, "hz": horizon}).scalar_one()
    conn.execute(
        sa.text(
            "UPDATE encounter_rollup_state SET xid_watermark = CAST(:hz AS text)::xid8, "
            "rolled_at = now() WHERE id = 1"
        ),
        {"hz": horizon},
    )
    return int(folded)


def _source(where: str) -> str:
    """The rolled rows plus the live tail (records above the watermark), one row shape."""
    return f"""
    WITH st AS (SELECT xid_watermark AS wm FROM encounter_rollup_state WHERE id = 1),
    src AS (
      SELECT {", ".join(DIMENSIONS)}, insuplc_city, mdtrtarea_city, records, n,
             {", ".join(AMOUNT_FIELDS)}
        FROM encounter_settlement_daily
      UNION ALL
      SELECT {", ".join(DIMENSIONS)}, insuplc_city, mdtrtarea_city, 1,
             CASE WHEN kind = 'cancel' THEN -1 ELSE 1 END, {", ".join(AMOUNT_FIELDS)}
        FROM encounter_settlement s, st WHERE s.xid >= st.wm
    )
    SELECT {{cols}} FROM src WHERE {where} {{tail}}
    """


def totals(
    conn: sa.Connection,
    where: str,
    params: dict[str, Any],
    *,
    group_by: Sequence[str] = (),
    fields: Sequence[str] = (),
    order_by: str = "",
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """``records``, ``n`` and each of ``fields`` summed over the roll-up (plus the live tail),
    filtered by ``where`` (SQL over the dimension columns and ``insuplc_city``/``mdtrtarea_city``,
    built by the caller from known column names with bound ``params``), grouped by ``group_by``."""
    unknown = [f for f in fields if f not in AMOUNT_FIELDS]
    unknown += [g for g in group_by if g not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown roll-up columns: {unknown}")
    cols = [
        *group_by,
        "COALESCE(SUM(records), 0) AS records",
        "COALESCE(SUM(n), 0) AS n",
        *(f"COALESCE(SUM({f}), 0) AS {f}" for f in fields),
    ]
    tail = ""
    if group_by:
        tail += " GROUP BY " + ", ".join(group_by)
    if order_by:
        tail += " ORDER BY " + order_by
    if limit is not None:
        tail += f" LIMIT {int(limit)}"
    sql = _source(where).format(cols=", ".join(cols), tail=tail)
    return [
        {k: (int(v) if k in ("records", "n", *fields) else v) for k, v in m.items()}
        for m in conn.execute(sa.text(sql), params).mappings()
    ]


def day_range(first: date | None, last: date | None, params: dict[str, Any]) -> list[str]:
    """SQL conditions on ``setl_date`` for an inclusive day range (parameters added)."""
    out = []
    if first is not None:
        params["d_first"] = first
        out.append("setl_date >= :d_first")
    if last is not None:
        params["d_last"] = last
        out.append("setl_date <= :d_last")
    return out
