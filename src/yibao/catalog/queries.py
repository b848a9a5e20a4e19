"""Read-only queries over the loaded catalogue (医保目录查询) for the console."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from yibao.catalog.store import catalog_item
from yibao.db.probe import tables_exist


def item_names(conn: sa.Connection, codes: Sequence[str]) -> dict[str, str]:
    """Catalogue names (目录名称) of ``codes``: for each code the name of the layer with the
    highest region code that names it (empty when the catalogue is not loaded)."""
    if not codes or not tables_exist(conn, "catalog_item"):
        return {}
    ci = catalog_item
    rows = conn.execute(
        sa.select(ci.c.med_list_codg, ci.c.name)
        .where(ci.c.med_list_codg.in_(codes), ci.c.name.is_not(None))
        .order_by(ci.c.med_list_codg, ci.c.admdvs.desc())
    )
    out: dict[str, str] = {}
    for code, name in rows:
        out.setdefault(code, name)
    return out
