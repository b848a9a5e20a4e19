"""SQL of filings (备案): the ``filing`` table and its queries. Runs in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from yibao.db.flow import Q
from yibao.encounter.store import encounter_settlement
from yibao.filing.model import Filing, FilingType, Status, covers

metadata = sa.MetaData()

filing = sa.Table(
    "filing",
    metadata,
    sa.Column("filing_id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text),
    sa.Column("psn_no", sa.Text),
    sa.Column("insuplc_admdvs", sa.Text),
    sa.Column("mdtrtarea_admdvs", sa.Text),
    sa.Column("filing_type", sa.Text),
    sa.Column("fixmedins_code", sa.Text),
    sa.Column("begndate", sa.Date),
    sa.Column("enddate", sa.Date),
    sa.Column("status", sa.Text),
    sa.Column("source", sa.Text),
    sa.Column("request_id", sa.Text),
    sa.Column("filed_by", sa.Text),
    sa.Column("detail", pg.JSONB),
    sa.Column("cancel_reason", sa.Text),
    sa.Column("cancelled_by", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)


@dataclass(frozen=True, slots=True)
class FilingRow:
    """A stored record of any kind (异地备案 / 慢特病备案 / 定点备案)."""

    filing_id: str
    kind: str
    psn_no: str
    insuplc_admdvs: str
    mdtrtarea_admdvs: str
    filing_type: str
    fixmedins_code: str
    begndate: date
    enddate: date | None
    status: str
    source: str
    request_id: str
    filed_by: str
    detail: Mapping[str, Any]
    cancel_reason: str
    created_at: datetime

    def as_filing(self) -> Filing:
        return Filing(
            self.filing_id,
            self.psn_no,
            self.insuplc_admdvs,
            self.mdtrtarea_admdvs,
            FilingType(self.filing_type),
            self.begndate,
            self.enddate,
            Status(self.status),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "trt_dcla_detl_sn": self.filing_id,
            "kind": self.kind,
            "psn_no": self.psn_no,
            "insuplc_admdvs": self.insuplc_admdvs,
            "mdtrtarea_admdvs": self.mdtrtarea_admdvs,
            "filing_type": self.filing_type,
            "fixmedins_code": self.fixmedins_code,
            "begndate": self.begndate.isoformat(),
            "enddate": self.enddate.isoformat() if self.enddate else None,
            "status": self.status,
            "source": self.source,
            "detail": dict(self.detail),
            "cancel_reason": self.cancel_reason,
        }


def _row(r: sa.RowMapping) -> FilingRow:
    return FilingRow(
        r["filing_id"], r["kind"], r["psn_no"], r["insuplc_admdvs"], r["mdtrtarea_admdvs"],
        r["filing_type"], r["fixmedins_code"], r["begndate"], r["enddate"], r["status"],
        r["source"], r["request_id"], r["filed_by"], r["detail"], r["cancel_reason"],
        r["created_at"],
    )  # fmt: skip


def next_id(conn: sa.Connection, admdvs: str, day: date) -> str:
    """A new 待遇申报明细流水号: ``BA`` + admdvs + yyyymmdd + 10-digit sequence (26 chars)."""
    seq = conn.execute(sa.text("SELECT nextval('filing_seq')")).scalar_one()
    return f"BA{admdvs}{day:%Y%m%d}{int(seq):010d}"


def insert(conn: sa.Connection, values: Mapping[str, Any]) -> None:
    conn.execute(filing.insert().values(**values))


def by_request(conn: sa.Connection, source: str, request_id: str) -> FilingRow | None:
    r = (
        conn.execute(
            sa.select(filing).where(filing.c.source == source, filing.c.request_id == request_id)
        )
        .mappings()
        .first()
    )
    return _row(r) if r else None


def get(conn: sa.Connection, filing_id: str, *, lock: bool = False) -> FilingRow | None:
    q = sa.select(filing).where(filing.c.filing_id == filing_id)
    if lock:
        q = q.with_for_update()
    r = conn.execute(q).mappings().first()
    return _row(r) if r else None


def of_person(
    conn: sa.Connection, psn_no: str, kind: str | None = None, *, lock: bool = False
) -> list[FilingRow]:
    q = sa.select(filing).where(filing.c.psn_no == psn_no)
    if kind is not None:
        q = q.where(filing.c.kind == kind)
    q = q.order_by(filing.c.begndate, filing.c.filing_id)
    if lock:
        q = q.with_for_update()
    return [_row(r) for r in conn.execute(q).mappings()]


_CROSS_REGION_FILINGS = (
    "SELECT COALESCE(json_agg(json_build_array(filing_id, psn_no, insuplc_admdvs,"
    " mdtrtarea_admdvs, filing_type, begndate, enddate, status) ORDER BY begndate, filing_id),"
    " '[]') FROM filing WHERE psn_no = %(p)s AND kind = 'crossregion'"
)


def cross_region_filings(psn_no: str) -> Q:
    """The person's 异地备案 as one JSON value (decode with :func:`filings_of`)."""
    return Q(_CROSS_REGION_FILINGS, {"p": psn_no})


def filings_of(rows: list[list[Any]]) -> list[Filing]:
    """Decode :func:`cross_region_filings`."""
    return [
        Filing(
            r[0],
            r[1],
            r[2],
            r[3],
            FilingType(r[4]),
            date.fromisoformat(r[5]),
            date.fromisoformat(r[6]) if r[6] else None,
            Status(r[7]),
        )
        for r in rows
    ]


def lock_person(conn: sa.Connection, psn_no: str) -> None:
    """Serialise filing changes of one person (transaction-scoped advisory lock)."""
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('filing:' || :p))"), {"p": psn_no})


def update(conn: sa.Connection, filing_id: str, **values: Any) -> None:
    conn.execute(
        filing.update()
        .where(filing.c.filing_id == filing_id)
        .values(updated_at=sa.func.now(), **values)
    )


def uses(conn: sa.Connection, f: Filing) -> list[tuple[str, date]]:
    """Cross-region settlements (not cancelled) the filing covered: ``(setl_id, setl_date)``.

    Read from the encounter settlements table: the person's settlements from the filed insured
    region, in the filed place, within the filing's period, with no cancellation record.
    """
    s = encounter_settlement
    c = encounter_settlement.alias("c")
    q = sa.select(s.c.setl_id, s.c.setl_date, s.c.mdtrtarea_admvs).where(
        s.c.psn_no == f.psn_no,
        s.c.kind == "settle",
        s.c.insuplc_admdvs == f.insuplc_admdvs,
        s.c.setl_date >= f.begndate,
        ~sa.exists().where(c.c.reverses == s.c.setl_id),
    )
    if f.enddate is not None:
        q = q.where(s.c.setl_date <= f.enddate)
    return [
        (r.setl_id, r.setl_date)
        for r in conn.execute(q)
        if covers(f.mdtrtarea_admdvs, r.mdtrtarea_admvs)
    ]
