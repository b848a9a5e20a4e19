"""零星报销 store (SQLAlchemy Core): claims, invoices, files, events, 4261 self-pay uploads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import insert as pg_insert

metadata = sa.MetaData()
TS = sa.DateTime(timezone=True)

claim = sa.Table(
    "claim", metadata,
    *(sa.Column(n, t, primary_key=(n == "claim_no")) for n, t in (
        ("claim_no", sa.Text), ("source", sa.Text), ("request_id", sa.Text), ("fingerprint", sa.Text),
        ("psn_no", sa.Text), ("insutype", sa.Text), ("insuplc_admdvs", sa.Text),
        ("mdtrtarea_admvs", sa.Text), ("fixmedins_code", sa.Text), ("fixmedins_name", sa.Text),
        ("hosp_lv", sa.Text), ("med_type", sa.Text), ("mdtrt_id", sa.Text), ("begndate", sa.Date),
        ("enddate", sa.Date), ("dise_codg", sa.Text), ("reason", sa.Text), ("payee_name", sa.Text),
        ("payee_bank", sa.Text), ("payee_account", sa.Text), ("fee_rows", pg.JSONB),
        ("fee_total", sa.BigInteger), ("selfpay_check", pg.JSONB), ("status", sa.Text),
        ("time_limit_days", sa.Integer), ("due_date", sa.Date), ("submitted_at", TS),
        ("accepted_by", sa.Text), ("accepted_at", TS), ("reviewed_by", sa.Text), ("reviewed_at", TS),
        ("reviewed_amt", sa.BigInteger), ("approved_by", sa.Text), ("approved_at", TS),
        ("paid_by", sa.Text), ("paid_at", TS), ("refused_by", sa.Text), ("refused_at", TS),
        ("refuse_reason", sa.Text), ("setlinfo", pg.JSONB), ("setldetail", pg.JSONB),
        ("trace", pg.JSONB), ("deltas", pg.JSONB), ("reimburse_amt", sa.BigInteger),
    )),
)  # fmt: skip
claim_invoice = sa.Table(
    "claim_invoice", metadata,
    sa.Column("claim_no", sa.Text, primary_key=True), sa.Column("inv_code", sa.Text, primary_key=True),
    sa.Column("inv_no", sa.Text, primary_key=True), sa.Column("amount", sa.BigInteger),
    sa.Column("inv_date", sa.Date), sa.Column("active", sa.Boolean),
)  # fmt: skip
claim_file = sa.Table(
    "claim_file", metadata,
    sa.Column("claim_no", sa.Text, primary_key=True), sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("kind", sa.Text), sa.Column("filename", sa.Text), sa.Column("media_type", sa.Text),
    sa.Column("size", sa.Integer), sa.Column("sha256", sa.Text), sa.Column("content", sa.LargeBinary),
    sa.Column("active", sa.Boolean),
)  # fmt: skip
claim_event = sa.Table(
    "claim_event", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("claim_no", sa.Text),
    sa.Column("action", sa.Text), sa.Column("actor", sa.Text), sa.Column("at", TS),
    sa.Column("note", sa.Text), sa.Column("amount", sa.BigInteger),
)  # fmt: skip
selfpay_visit = sa.Table(
    "selfpay_visit", metadata,
    sa.Column("fixmedins_code", sa.Text, primary_key=True), sa.Column("mdtrt_id", sa.Text, primary_key=True),
    sa.Column("certno", sa.Text), sa.Column("psn_cert_type", sa.Text), sa.Column("psn_name", sa.Text),
    sa.Column("med_type", sa.Text), sa.Column("begntime", TS), sa.Column("visit", pg.JSONB),
    sa.Column("diseases", pg.JSONB), sa.Column("fees", pg.JSONB), sa.Column("fee_total", sa.BigInteger),
    sa.Column("msgid", sa.Text), sa.Column("uploaded_at", TS),
)  # fmt: skip


def next_seq(conn: sa.Connection) -> int:
    return int(conn.execute(sa.text("SELECT nextval('claim_seq')")).scalar_one())


def by_request(conn: sa.Connection, source: str, request_id: str) -> dict[str, Any] | None:
    r = (
        conn.execute(
            sa.select(claim).where(claim.c.source == source, claim.c.request_id == request_id)
        )
        .mappings()
        .first()
    )
    return dict(r) if r else None


def get(conn: sa.Connection, claim_no: str, *, lock: bool = False) -> dict[str, Any] | None:
    q = sa.select(claim).where(claim.c.claim_no == claim_no)
    r = conn.execute(q.with_for_update() if lock else q).mappings().first()
    return dict(r) if r else None


def live_invoices(conn: sa.Connection, keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Invoices among ``keys`` already held by a live claim (重复报销)."""
    if not keys:
        return []
    cond = sa.or_(
        *[sa.and_(claim_invoice.c.inv_code == c, claim_invoice.c.inv_no == n) for c, n in keys]
    )
    rows = conn.execute(sa.select(claim_invoice).where(claim_invoice.c.active, cond)).mappings()
    return [dict(r) for r in rows]


def live_files(conn: sa.Connection, hashes: list[str]) -> list[dict[str, Any]]:
    """Uploaded files (by SHA-256) already attached to a live claim."""
    if not hashes:
        return []
    q = sa.select(claim_file.c.claim_no, claim_file.c.sha256, claim_file.c.filename).where(
        claim_file.c.active, claim_file.c.sha256.in_(hashes)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def insert(conn: sa.Connection, row: dict[str, Any], invoices: list[dict[str, Any]],
           files: list[dict[str, Any]]) -> None:  # fmt: skip
    conn.execute(claim.insert().values(**row))
    if invoices:
        conn.execute(claim_invoice.insert(), [{"claim_no": row["claim_no"], **i} for i in invoices])
    if files:
        conn.execute(claim_file.insert(), [{"claim_no": row["claim_no"], **f} for f in files])


def update(conn: sa.Connection, claim_no: str, **values: Any) -> None:
    conn.execute(claim.update().where(claim.c.claim_no == claim_no).values(**values))


def release(conn: sa.Connection, claim_no: str) -> None:
    """A refused claim releases its invoices and files (they may be claimed again)."""
    conn.execute(
        claim_invoice.update().where(claim_invoice.c.claim_no == claim_no).values(active=False)
    )
    conn.execute(claim_file.update().where(claim_file.c.claim_no == claim_no).values(active=False))


def event(conn: sa.Connection, claim_no: str, action: str, actor: str, at: datetime,
          note: str = "", amount: int | None = None) -> None:  # fmt: skip
    conn.execute(claim_event.insert().values(claim_no=claim_no, action=action, actor=actor, at=at,
                                             note=note, amount=amount))  # fmt: skip


def events(conn: sa.Connection, claim_no: str) -> list[dict[str, Any]]:
    q = sa.select(claim_event).where(claim_event.c.claim_no == claim_no).order_by(claim_event.c.id)
    return [dict(r) for r in conn.execute(q).mappings()]


def invoices(conn: sa.Connection, claim_no: str) -> list[dict[str, Any]]:
    q = (
        sa.select(claim_invoice)
        .where(claim_invoice.c.claim_no == claim_no)
        .order_by(claim_invoice.c.inv_no)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def files(conn: sa.Connection, claim_no: str, *, content: bool = False) -> list[dict[str, Any]]:
    cols = [c for c in claim_file.c if content or c.name != "content"]
    q = sa.select(*cols).where(claim_file.c.claim_no == claim_no).order_by(claim_file.c.seq)
    return [dict(r) for r in conn.execute(q).mappings()]


def listing(conn: sa.Connection, *, prefixes: list[str] | None, status: str = "",
            psn_no: str = "", limit: int = 200) -> list[dict[str, Any]]:  # fmt: skip
    q = sa.select(*[c for c in claim.c if c.name not in ("trace", "fee_rows", "setldetail")])
    if prefixes is not None:
        q = q.where(sa.or_(*[claim.c.insuplc_admdvs.startswith(p) for p in prefixes], sa.false()))
    if status == "open":
        q = q.where(claim.c.status.in_(("submitted", "accepted", "reviewed", "approved")))
    elif status:
        q = q.where(claim.c.status == status)
    if psn_no:
        q = q.where(claim.c.psn_no == psn_no)
    q = q.order_by(claim.c.submitted_at.desc()).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


# ---- 4261–4263 -------------------------------------------------------------------------------


def selfpay_get(conn: sa.Connection, fixmedins_code: str, mdtrt_id: str) -> dict[str, Any] | None:
    q = sa.select(selfpay_visit).where(selfpay_visit.c.fixmedins_code == fixmedins_code,
                                       selfpay_visit.c.mdtrt_id == mdtrt_id)  # fmt: skip
    r = conn.execute(q.with_for_update()).mappings().first()
    return dict(r) if r else None


def selfpay_put(conn: sa.Connection, row: dict[str, Any]) -> None:
    keys = ("fixmedins_code", "mdtrt_id")
    conn.execute(
        pg_insert(selfpay_visit)
        .values(**row)
        .on_conflict_do_update(
            index_elements=list(keys), set_={k: v for k, v in row.items() if k not in keys}
        )
    )


def mismatches(conn: sa.Connection, fixmedins_code: str, *, mdtrt_id: str = "", certno: str = "",
               offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:  # fmt: skip
    """Claims whose invoice total differs from the institution's 4261 total (4263)."""
    cond = [claim.c.fixmedins_code == fixmedins_code,
            claim.c.selfpay_check["match"].astext == "false"]  # fmt: skip
    if mdtrt_id:
        cond.append(claim.c.mdtrt_id == mdtrt_id)
    if certno:
        cond.append(claim.c.selfpay_check["certno"].astext == certno)
    total = conn.execute(sa.select(sa.func.count()).select_from(claim).where(*cond)).scalar_one()
    q = (sa.select(claim.c.claim_no, claim.c.mdtrt_id, claim.c.fee_total, claim.c.selfpay_check,
                   claim.c.submitted_at, claim.c.status)
         .where(*cond).order_by(claim.c.submitted_at, claim.c.claim_no).offset(offset).limit(limit))  # fmt: skip
    return int(total), [dict(r) for r in conn.execute(q).mappings()]


def overdue(conn: sa.Connection, today: date, prefixes: list[str] | None) -> list[dict[str, Any]]:
    return [
        r
        for r in listing(conn, prefixes=prefixes, status="open", limit=1000)
        if r["due_date"] < today
    ]
