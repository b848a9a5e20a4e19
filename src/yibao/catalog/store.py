"""SQL for the catalogue (目录存储): SQLAlchemy Core tables and queries, no rules."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import ARRAY

from yibao.catalog.model import CatalogRow, Region, SelfpayDefault
from yibao.db import hot

metadata = sa.MetaData()

catalog_version = sa.Table(
    "catalog_version",
    metadata,
    sa.Column("ver", sa.Integer, primary_key=True),
    sa.Column("loaded_at", sa.DateTime(timezone=True)),
    sa.Column("source", sa.Text),
    sa.Column("actor", sa.Text),
    sa.Column("inserted", sa.Integer),
    sa.Column("updated", sa.Integer),
    sa.Column("invalidated", sa.Integer),
    sa.Column("regions_changed", sa.Integer),
)

catalog_region = sa.Table(
    "catalog_region",
    metadata,
    sa.Column("admdvs", sa.String(6), primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("parent_admdvs", sa.String(6)),
    sa.Column("notice", sa.Text),
    sa.Column("demo", sa.Boolean),
    sa.Column("reference", sa.Text),
    sa.Column("source_file", sa.Text),
    sa.Column("digest", sa.Text),
    sa.Column("ver", sa.Integer),
    sa.Column("updt_time", sa.DateTime(timezone=True)),
)

catalog_selfpay_default = sa.Table(
    "catalog_selfpay_default",
    metadata,
    sa.Column("admdvs", sa.String(6), primary_key=True),
    sa.Column("begndate", sa.Date, primary_key=True),
    sa.Column("enddate", sa.Date),
    sa.Column("selfpay_prop", sa.Numeric(5, 4)),
    sa.Column("reference", sa.Text),
    sa.Column("assumed", sa.Boolean),
    sa.Column("reason", sa.Text),
)

catalog_item = sa.Table(
    "catalog_item",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("admdvs", sa.String(6)),
    sa.Column("med_list_codg", sa.String(50)),
    sa.Column("begndate", sa.Date),
    sa.Column("enddate", sa.Date),
    sa.Column("action", sa.String(6)),
    sa.Column("name", sa.Text),
    sa.Column("list_type", sa.String(3)),
    sa.Column("chrgitm_lv", sa.String(3)),
    sa.Column("med_chrgitm_type", sa.String(6)),
    sa.Column("selfpay_prop", sa.Numeric(5, 4)),
    sa.Column("pric", sa.BigInteger),
    sa.Column("pric_uplmt_amt", sa.BigInteger),
    sa.Column("clear_pric_uplmt", sa.Boolean),
    sa.Column("prcunt", sa.Text),
    sa.Column("drug_dosform", sa.Text),
    sa.Column("drug_spec", sa.Text),
    sa.Column("prodentp_name", sa.Text),
    sa.Column("lmt_used_flag", sa.String(1)),
    sa.Column("lmt_usescp", sa.Text),
    sa.Column("hi_nego_drug_flag", sa.String(1)),
    sa.Column("vol_procurement_flag", sa.String(1)),
    sa.Column("memo", sa.Text),
    sa.Column("source_file", sa.Text),
    sa.Column("row_digest", sa.Text),
    sa.Column("vali_flag", sa.String(1)),
    sa.Column("ver", sa.Integer),
    sa.Column("updt_time", sa.DateTime(timezone=True)),
)

ROW_COLUMNS: tuple[str, ...] = (
    "admdvs",
    "med_list_codg",
    "begndate",
    "enddate",
    "action",
    "name",
    "list_type",
    "chrgitm_lv",
    "med_chrgitm_type",
    "selfpay_prop",
    "pric",
    "pric_uplmt_amt",
    "clear_pric_uplmt",
    "prcunt",
    "drug_dosform",
    "drug_spec",
    "prodentp_name",
    "lmt_used_flag",
    "lmt_usescp",
    "hi_nego_drug_flag",
    "vol_procurement_flag",
    "memo",
)


def _any(column: sa.ColumnElement[Any], values: Collection[str]) -> sa.ColumnElement[bool]:
    """``column = ANY(:array)``: one statement shape for any number of values (cached plan)."""
    return column == sa.any_(sa.literal(list(values), ARRAY(sa.Text)))




@dataclass(frozen=True, slots=True)
class StoredRow:
    """A stored row's identity and fingerprint."""

    id: int
    row_digest: str
    vali_flag: str



def regions(conn: Connection) -> dict[str, Region]:
    """Every catalogue region (read on each classification: plain SQL)."""
    rows = hot.rows(conn, "SELECT admdvs, name, parent_admdvs FROM catalog_region")
    return {r[0]: Region(r[0], r[1], r[2]) for r in rows}


def region_info(conn: Connection, admdvs: str) -> Mapping[str, Any] | None:
    row = conn.execute(sa.select(catalog_region).where(catalog_region.c.admdvs == admdvs)).first()
    return None if row is None else dict(row._mapping)


def region_digests(conn: Connection) -> dict[str, str]:
    rows = conn.execute(sa.select(catalog_region.c.admdvs, catalog_region.c.digest))
    return {r.admdvs: r.digest for r in rows}


def selfpay_defaults(conn: Connection, admdvs: Collection[str]) -> list[SelfpayDefault]:
    rows = hot.rows(
        conn,
        "SELECT admdvs, begndate, enddate, selfpay_prop, reference, assumed, reason"
        " FROM catalog_selfpay_default WHERE admdvs = ANY(%(admdvs)s) ORDER BY admdvs, begndate",
        {"admdvs": list(admdvs)},
    )
    return [SelfpayDefault(r[0], r[1], r[2], Decimal(r[3]), r[4], r[5], r[6]) for r in rows]


def add_codes_by_region(conn: Connection, exclude: Collection[str]) -> dict[str, set[str]]:
    """Codes with a valid ``add`` row, per region (regions in ``exclude`` left out)."""
    t = catalog_item
    q = sa.select(t.c.admdvs, t.c.med_list_codg).where(t.c.action == "add", t.c.vali_flag == "1")
    if exclude:
        q = q.where(t.c.admdvs.not_in(list(exclude)))
    out: dict[str, set[str]] = {}
    for r in conn.execute(q.distinct()):
        out.setdefault(r.admdvs, set()).add(r.med_list_codg)
    return out


def stored_rows(
    conn: Connection, admdvs: Collection[str]
) -> dict[tuple[str, str, date], StoredRow]:
    t = catalog_item
    rows = conn.execute(
        sa.select(
            t.c.id, t.c.admdvs, t.c.med_list_codg, t.c.begndate, t.c.row_digest, t.c.vali_flag
        ).where(_any(t.c.admdvs, admdvs))
    )
    return {
        (r.admdvs, r.med_list_codg, r.begndate): StoredRow(r.id, r.row_digest, r.vali_flag)
        for r in rows
    }



def to_row(r: Any) -> CatalogRow:
    m = r if isinstance(r, dict) else r._mapping
    return CatalogRow(
        admdvs=m["admdvs"],
        med_list_codg=m["med_list_codg"],
        begndate=m["begndate"],
        enddate=m["enddate"],
        action=m["action"],
        name=m["name"],
        list_type=m["list_type"],
        chrgitm_lv=m["chrgitm_lv"],
        med_chrgitm_type=m["med_chrgitm_type"],
        selfpay_prop=None if m["selfpay_prop"] is None else Decimal(m["selfpay_prop"]),
        pric=m["pric"],
        pric_uplmt_amt=m["pric_uplmt_amt"],
        clear_pric_uplmt=bool(m["clear_pric_uplmt"]),
        prcunt=m["prcunt"],
        drug_dosform=m["drug_dosform"],
        drug_spec=m["drug_spec"],
        prodentp_name=m["prodentp_name"],
        lmt_used_flag=m["lmt_used_flag"],
        lmt_usescp=m["lmt_usescp"],
        hi_nego_drug_flag=m["hi_nego_drug_flag"],
        vol_procurement_flag=m["vol_procurement_flag"],
        memo=m["memo"],
    )


def _in_force(on: date) -> sa.ColumnElement[bool]:
    t = catalog_item
    return sa.and_(
        t.c.vali_flag == "1",
        t.c.begndate <= on,
        sa.or_(t.c.enddate.is_(None), t.c.enddate >= on),
    )


def rows_for_codes(
    conn: Connection, chain: Sequence[str], codes: Collection[str], on: date
) -> list[CatalogRow]:
    """The valid rows of the chain's layers for ``codes`` in force on ``on``."""
    if not chain or not codes:
        return []
    # every fee upload and settlement classifies its lines: plain SQL (yibao.db.hot)
    found = hot.rows_dict(
        conn, _ROWS_FOR_CODES, {"chain": list(chain), "codes": list(codes), "on": on}
    )
    return [to_row(r) for r in found]


_ROWS_FOR_CODES = (
    "SELECT * FROM catalog_item WHERE admdvs = ANY(%(chain)s) AND med_list_codg = ANY(%(codes)s)"
    " AND vali_flag = '1' AND begndate <= %(on)s AND (enddate IS NULL OR enddate >= %(on)s)"
)


def candidate_codes(
    conn: Connection,
    chain: Sequence[str],
    on: date | None,
    *,
    text: str | None = None,
    list_type: str | None = None,
    updated_since: datetime | None = None,
    since_ver: int | None = None,
) -> list[str]:
    """Codes that any layer of ``chain`` mentions, filtered; sorted. ``on=None``: any period.

    ``text`` matches a code prefix or a name substring (on ``add`` rows); ``updated_since`` /
    ``since_ver`` keep codes with a row (valid or invalidated) changed after that time/version.
    """
    if not chain:
        return []
    t = catalog_item
    q = sa.select(t.c.med_list_codg).where(_any(t.c.admdvs, chain))
    if on is not None and updated_since is None and since_ver is None:
        q = q.where(_in_force(on))
    if text:
        like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = q.where(
            sa.or_(
                t.c.med_list_codg.ilike(like + "%", escape="\\"),
                t.c.name.ilike("%" + like + "%", escape="\\"),
            )
        )
    if list_type:
        q = q.where(t.c.list_type == list_type)
    if updated_since is not None:
        q = q.where(t.c.updt_time > updated_since)
    if since_ver is not None:
        q = q.where(t.c.ver > since_ver)
    return [r[0] for r in conn.execute(q.distinct().order_by(t.c.med_list_codg))]


def row_versions(
    conn: Connection, chain: Sequence[str], codes: Collection[str]
) -> dict[str, tuple[int, datetime]]:
    """Per code: the newest ``ver`` and ``updt_time`` among its rows in the chain (any period,
    valid or not, so a withdrawal counts as an update)."""
    if not chain or not codes:
        return {}
    t = catalog_item
    q = (
        sa.select(t.c.med_list_codg, sa.func.max(t.c.ver), sa.func.max(t.c.updt_time))
        .where(_any(t.c.admdvs, chain), _any(t.c.med_list_codg, codes))
        .group_by(t.c.med_list_codg)
    )
    return {r[0]: (int(r[1]), r[2]) for r in conn.execute(q)}


def list_types(conn: Connection, chain: Sequence[str], codes: Collection[str]) -> dict[str, str]:
    """The list type (目录类别) of each code, from its ``add`` rows in the chain (any period)."""
    if not chain or not codes:
        return {}
    t = catalog_item
    q = sa.select(t.c.med_list_codg, sa.func.max(t.c.list_type)).where(
        _any(t.c.admdvs, chain), _any(t.c.med_list_codg, codes), t.c.action == "add"
    )
    return {r[0]: r[1] for r in conn.execute(q.group_by(t.c.med_list_codg))}


def region_versions(conn: Connection, chain: Sequence[str]) -> tuple[int, datetime | None]:
    """The newest ``ver``/``updt_time`` of the chain's region settings (乙类 defaults …)."""
    if not chain:
        return 0, None
    r = catalog_region
    row = conn.execute(
        sa.select(sa.func.max(r.c.ver), sa.func.max(r.c.updt_time)).where(_any(r.c.admdvs, chain))
    ).one()
    return int(row[0] or 0), row[1]


def latest_version(conn: Connection) -> int:
    ver: int | None = conn.execute(sa.select(sa.func.max(catalog_version.c.ver))).scalar()
    return ver or 0


def row_meta(conn: Connection, chain: Sequence[str], code: str) -> list[Mapping[str, Any]]:
    """Every stored row (all periods, valid or not) of ``code`` in the chain, for display."""
    t = catalog_item
    q = (
        sa.select(t)
        .where(_any(t.c.admdvs, chain), t.c.med_list_codg == code)
        .order_by(t.c.begndate, t.c.admdvs)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


def counts(conn: Connection) -> dict[str, int]:
    """Valid rows per region."""
    t = catalog_item
    q = sa.select(t.c.admdvs, sa.func.count()).where(t.c.vali_flag == "1").group_by(t.c.admdvs)
    return {r[0]: int(r[1]) for r in conn.execute(q)}
