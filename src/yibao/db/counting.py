"""Totals for console lists (列表总数): exact while cheap, the planner's estimate beyond.

:func:`capped_count` counts at most ``cap`` + 1 matching rows (an index-only walk that stops
there); when there are more it answers the planner's row estimate for the query and says so, and
the page shows "约 …" (an estimate, labelled as one) instead of scanning millions of rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

CAP = 100_000


@dataclass(frozen=True, slots=True)
class Total:
    n: int
    estimated: bool = False


def capped_count(conn: sa.Connection, stmt: sa.Select[Any], cap: int = CAP) -> Total:
    """How many rows ``stmt`` returns: exact up to ``cap``, else the planner's estimate."""
    inner = stmt.order_by(None).limit(cap + 1).subquery()
    n = int(conn.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one())
    if n <= cap:
        return Total(n)
    compiled = stmt.order_by(None).compile(conn, compile_kwargs={"render_postcompile": True})
    plan = conn.execute(sa.text("EXPLAIN (FORMAT JSON) " + str(compiled)), compiled.params)
    raw = plan.scalar_one()
    doc = json.loads(raw) if isinstance(raw, str) else raw
    return Total(max(n, int(doc[0]["Plan"]["Plan Rows"])), estimated=True)
