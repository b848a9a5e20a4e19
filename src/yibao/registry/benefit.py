"""Benefit blocks (待遇限制期): the periods without benefits that the settlement snapshot reads.

The funds capability derives them from contributions and payments (waiting periods, suspension
for arrears, unpaid resident years) and replaces a person's set here; the registry only stores
them and :func:`yibao.registry.model.build_snapshot` refuses a date inside one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from yibao.registry.model import BLOCK_REASONS
from yibao.registry.store import benefit_block


@dataclass(frozen=True, slots=True)
class BlockRow:
    """One block of one person's insurance type (``end`` exclusive, None = open)."""

    psn_no: str
    insutype: str
    begin: date
    end: date | None
    reason: str
    detail: str = ""


def replace_blocks(
    conn: sa.Connection, psn_nos: Sequence[str], insutype: str, blocks: Iterable[BlockRow]
) -> int:
    """Make ``blocks`` the complete set of ``insutype`` blocks of ``psn_nos``; return the count.

    Runs in the caller's transaction: a settlement reading the snapshot sees the old set or the
    new one, never a mixture.
    """
    persons = set(psn_nos)
    rows = []
    for b in blocks:
        if b.reason not in BLOCK_REASONS:
            raise ValueError(f"reason: {b.reason!r} is not one of {', '.join(BLOCK_REASONS)}")
        if b.insutype != insutype or b.psn_no not in persons:
            raise ValueError(f"block of {b.psn_no}/{b.insutype} outside the replaced set")
        if b.end is not None and b.end <= b.begin:
            continue  # an empty period blocks nothing
        rows.append(
            {
                "psn_no": b.psn_no,
                "insutype": b.insutype,
                "begin_date": b.begin,
                "end_date": b.end,
                "reason": b.reason,
                "detail": b.detail,
            }
        )
    conn.execute(
        benefit_block.delete().where(
            benefit_block.c.psn_no.in_(list(psn_nos)), benefit_block.c.insutype == insutype
        )
    )
    if rows:
        conn.execute(benefit_block.insert(), rows)
    return len(rows)


def blocks_of(conn: sa.Connection, psn_no: str) -> list[BlockRow]:
    """Every block of a person, by insurance type and start."""
    return [
        BlockRow(r.psn_no, r.insutype, r.begin_date, r.end_date, r.reason, r.detail or "")
        for r in conn.execute(
            sa.select(benefit_block)
            .where(benefit_block.c.psn_no == psn_no)
            .order_by(benefit_block.c.insutype, benefit_block.c.begin_date)
        )
    ]
