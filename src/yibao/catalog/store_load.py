"""SQL of loading the catalogue (目录装载): the load lock, versions, regions and row writes.

Used only by :func:`yibao.catalog.service.load`, in its one transaction; reads are in
:mod:`yibao.catalog.store`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert

from yibao.catalog.model import CatalogRow, Region, SelfpayDefault
from yibao.catalog.store import (
    ROW_COLUMNS,
    catalog_item,
    catalog_region,
    catalog_selfpay_default,
    catalog_version,
)

LOAD_LOCK_KEY = 0x6361_7461  # pg_advisory_xact_lock key serialising catalogue loads ("cata")


def lock_for_load(conn: Connection) -> None:
    """Serialise concurrent loads (one at a time, for the rest of the transaction)."""
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(LOAD_LOCK_KEY)))


def now(conn: Connection) -> datetime:
    """The transaction's timestamp (the same for every row written by one load)."""
    value: datetime = conn.execute(sa.select(sa.func.now())).scalar_one()
    return value


def _row_values(row: CatalogRow) -> dict[str, Any]:
    return {c: getattr(row, c) for c in ROW_COLUMNS}


def insert_version(conn: Connection, source: str, actor: str) -> int:
    ver: int = conn.execute(
        catalog_version.insert()
        .values(source=source, actor=actor, inserted=0, updated=0, invalidated=0, regions_changed=0)
        .returning(catalog_version.c.ver)
    ).scalar_one()
    return ver


def finish_version(
    conn: Connection,
    ver: int,
    *,
    inserted: int,
    updated: int,
    invalidated: int,
    regions_changed: int,
) -> None:
    conn.execute(
        catalog_version.update()
        .where(catalog_version.c.ver == ver)
        .values(
            inserted=inserted,
            updated=updated,
            invalidated=invalidated,
            regions_changed=regions_changed,
        )
    )


def upsert_region(
    conn: Connection,
    region: Region,
    *,
    notice: str,
    demo: bool,
    reference: str,
    source_file: str,
    digest: str,
    defaults: Iterable[SelfpayDefault],
    ver: int,
    at: datetime,
) -> None:
    values = {
        "name": region.name,
        "parent_admdvs": region.parent,
        "notice": notice,
        "demo": demo,
        "reference": reference,
        "source_file": source_file,
        "digest": digest,
        "ver": ver,
        "updt_time": at,
    }
    stmt = pg_insert(catalog_region).values(admdvs=region.admdvs, **values)
    conn.execute(stmt.on_conflict_do_update(index_elements=["admdvs"], set_=values))
    t = catalog_selfpay_default
    conn.execute(t.delete().where(t.c.admdvs == region.admdvs))
    rows = [
        {
            "admdvs": region.admdvs,
            "begndate": d.begndate,
            "enddate": d.enddate,
            "selfpay_prop": d.selfpay_prop,
            "reference": d.reference,
            "assumed": d.assumed,
            "reason": d.reason,
        }
        for d in defaults
    ]
    if rows:
        conn.execute(t.insert(), rows)


def insert_rows(
    conn: Connection, rows: Sequence[tuple[CatalogRow, str, str]], ver: int, at: datetime
) -> None:
    """Insert ``(row, digest, source_file)`` triples."""
    if not rows:
        return
    conn.execute(
        catalog_item.insert(),
        [
            {
                **_row_values(r),
                "row_digest": dg,
                "source_file": src,
                "vali_flag": "1",
                "ver": ver,
                "updt_time": at,
            }
            for r, dg, src in rows
        ],
    )


def update_row(
    conn: Connection,
    row_id: int,
    row: CatalogRow,
    digest: str,
    source_file: str,
    ver: int,
    at: datetime,
) -> None:
    conn.execute(
        catalog_item.update()
        .where(catalog_item.c.id == row_id)
        .values(
            **_row_values(row),
            row_digest=digest,
            source_file=source_file,
            vali_flag="1",
            ver=ver,
            updt_time=at,
        )
    )


def invalidate_rows(conn: Connection, ids: Collection[int], ver: int, at: datetime) -> None:
    """Mark rows no longer in the files as invalid (有效标志 vali_flag = 0); never deleted."""
    if ids:
        conn.execute(
            catalog_item.update()
            .where(catalog_item.c.id.in_(list(ids)))
            .values(vali_flag="0", ver=ver, updt_time=at)
        )
