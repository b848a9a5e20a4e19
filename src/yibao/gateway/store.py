"""SQL for the message log, nonces and files (SQLAlchemy Core)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from yibao.db import hot

metadata = sa.MetaData()

message = sa.Table(
    "gateway_message",
    metadata,
    sa.Column("fixmedins_code", sa.Text, primary_key=True),
    sa.Column("msgid", sa.Text, primary_key=True),
    sa.Column("infno", sa.Text, nullable=False),
    sa.Column("request_hash", sa.Text, nullable=False),
    sa.Column("request", sa.Text, nullable=False),
    sa.Column("infcode", sa.Integer, nullable=False),
    sa.Column("err_msg", sa.Text, nullable=False),
    sa.Column("psn_no", sa.Text, nullable=False),
    sa.Column("opter", sa.Text, nullable=False),
    sa.Column("inf_refmsgid", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("response", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

nonce = sa.Table(  # UNLOGGED (gateway_0002): one-time header sets, see check_in
    "gateway_nonce",
    metadata,
    sa.Column("app_key", sa.Text, primary_key=True),
    sa.Column("nonce", sa.Text, primary_key=True),
    sa.Column("msgid", sa.Text, nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

file = sa.Table(
    "gateway_file",
    metadata,
    sa.Column("file_qury_no", sa.Text, primary_key=True),
    sa.Column("fixmedins_code", sa.Text, nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("dld_endtime", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

file_seq = sa.Sequence("gateway_file_seq", metadata=metadata)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One answered request of the message log."""

    fixmedins_code: str
    msgid: str
    infno: str
    request_hash: str
    infcode: int
    err_msg: str
    psn_no: str
    inf_refmsgid: str
    content_type: str
    response: bytes
    created_at: datetime | None = None
    request: str = ""


def lock_key(conn: sa.Connection, fixmedins_code: str, msgid: str) -> None:
    """Transaction-scoped advisory lock on a message key (released at commit or rollback)."""
    hot.execute(conn, _LOCK_KEY, {"k": f"{fixmedins_code}\x1f{msgid}"})


_LOCK_KEY = "SELECT pg_advisory_xact_lock(hashtextextended(%(k)s, 7))"


_FIND = (
    "SELECT fixmedins_code, msgid, infno, request_hash, infcode, err_msg, psn_no, inf_refmsgid,"
    " content_type, response, created_at, request"
    " FROM gateway_message WHERE fixmedins_code = %(fix)s AND msgid = %(msgid)s"
)


def find(conn: sa.Connection, fixmedins_code: str, msgid: str) -> StoredMessage | None:
    row = hot.one(conn, _FIND, {"fix": fixmedins_code, "msgid": msgid})
    if row is None:
        return None
    return StoredMessage(
        fixmedins_code=row[0],
        msgid=row[1],
        infno=row[2],
        request_hash=row[3],
        infcode=row[4],
        err_msg=row[5],
        psn_no=row[6],
        inf_refmsgid=row[7],
        content_type=row[8],
        response=bytes(row[9]),
        created_at=row[10],
        request=row[11],
    )


# The claim is the transaction's advisory lock on the key, not a placeholder row: the answered
# row is then written once, whole, by :func:`complete` (instead of an insert and a later update
# with the ~2 KB response: two row versions per call).
_EXISTS = "SELECT 1 FROM gateway_message WHERE fixmedins_code = %(fix)s AND msgid = %(msgid)s"


@dataclass(frozen=True, slots=True)
class Claim:
    """What :func:`complete` writes besides the answer (kept from :func:`claim`)."""

    infno: str
    request_hash: str
    request: str
    opter: str


def claim(
    conn: sa.Connection,
    fixmedins_code: str,
    msgid: str,
    infno: str,
    request_hash: str,
    request: str,
    opter: str,
) -> Claim | None:
    """Claim the key for this transaction: a :class:`Claim` if nobody answered it yet, ``None``
    if a row exists.

    The advisory lock makes a concurrent transaction with the same key wait here until the first
    one ends; the existence check runs after the lock (a new snapshot in READ COMMITTED), so
    after ``None`` :func:`find` sees the committed row.
    """
    lock_key(conn, fixmedins_code, msgid)
    if hot.one(conn, _EXISTS, {"fix": fixmedins_code, "msgid": msgid}) is not None:
        return None
    return Claim(infno, request_hash, request, opter)


def complete(
    conn: sa.Connection,
    fixmedins_code: str,
    msgid: str,
    claimed: Claim,
    *,
    infcode: int,
    err_msg: str,
    psn_no: str,
    inf_refmsgid: str,
    content_type: str,
    response: bytes,
) -> None:
    """Write the answered row of a key claimed in this transaction."""
    hot.execute(
        conn,
        _INSERT,
        {
            "fix": fixmedins_code,
            "msgid": msgid,
            "infno": claimed.infno,
            "hash": claimed.request_hash,
            "request": claimed.request,
            "infcode": infcode,
            "err_msg": err_msg,
            "psn_no": psn_no,
            "opter": claimed.opter,
            "ref": inf_refmsgid,
            "ctype": content_type,
            "response": response,
        },
    )


_INSERT = (
    "INSERT INTO gateway_message (fixmedins_code, msgid, infno, request_hash, request, infcode,"
    " err_msg, psn_no, opter, inf_refmsgid, content_type, response)"
    " VALUES (%(fix)s, %(msgid)s, %(infno)s, %(hash)s, %(request)s, %(infcode)s, %(err_msg)s,"
    " %(psn_no)s, %(opter)s, %(ref)s, %(ctype)s, %(response)s)"
)


def count_messages(conn: sa.Connection, fixmedins_code: str | None = None) -> int:
    q = sa.select(sa.func.count()).select_from(message)
    if fixmedins_code:
        q = q.where(message.c.fixmedins_code == fixmedins_code)
    return int(conn.execute(q).scalar_one())


# ---- the lean gateway's statements (:mod:`yibao.db.flow`) -------------------------------------

#: The check-in's parts (:mod:`yibao.gateway.aio`): record a header set's one-time value (with
#: the msgid it carried, for the record) — UNLOGGED, so an autocommit statement writing only
#: this commits without a WAL flush; an expired value may be used again.
RECORD_ONCE = (
    "INSERT INTO gateway_nonce AS g (app_key, nonce, msgid, expires_at)"
    " VALUES (%(ak)s, %(nonce)s, %(msgid)s, now() + make_interval(secs => %(ttl)s))"
    " ON CONFLICT (app_key, nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at,"
    " msgid = EXCLUDED.msgid WHERE g.expires_at < now() RETURNING 1"
)
FLOOR = "SELECT floor_at FROM gateway_nonce_floor WHERE id = 1"
#: the sentinel row disappears when PostgreSQL truncates the unlogged table (crash recovery)
SENTINEL_THERE = (
    "SELECT EXISTS (SELECT 1 FROM gateway_nonce WHERE app_key = '' AND nonce = 'sentinel')"
)
STORED_FIELDS = (
    "SELECT ARRAY[infno, request_hash, content_type, err_msg] FROM gateway_message"
    " WHERE fixmedins_code = %(fix)s AND msgid = %(msgid)s"
)
STORED_RESPONSE = (
    "SELECT response FROM gateway_message WHERE fixmedins_code = %(fix)s AND msgid = %(msgid)s"
)

#: After PostgreSQL lost the unlogged values: headers signed before now are refused from here on,
#: and the sentinel is back.
RAISE_FLOOR = """
WITH s AS (
  INSERT INTO gateway_nonce (app_key, nonce, msgid, expires_at)
  VALUES ('', 'sentinel', '', 'infinity') ON CONFLICT DO NOTHING RETURNING 1
)
UPDATE gateway_nonce_floor SET floor_at = now() WHERE id = 1 AND EXISTS (SELECT 1 FROM s)
"""

PURGE_NONCES = "DELETE FROM gateway_nonce WHERE expires_at < now()"

INSERT_MESSAGE = (
    "INSERT INTO gateway_message (fixmedins_code, msgid, infno, request_hash, request, infcode,"
    " err_msg, psn_no, opter, inf_refmsgid, content_type, response)"
    " VALUES (%(fix)s, %(msgid)s, %(infno)s, %(hash)s, %(request)s, %(infcode)s, %(err_msg)s,"
    " %(psn_no)s, %(opter)s, %(ref)s, %(ctype)s, %(response)s)"
)


def use_nonce(conn: sa.Connection, app_key: str, value: str, ttl_seconds: int) -> bool:
    """Record a one-time value outside the national-interface frame (the e-voucher institution
    API); ``False`` if it was already used and has not expired (a replay)."""
    params = {"ak": app_key, "nonce": value, "msgid": "", "ttl": ttl_seconds}
    return hot.one(conn, RECORD_ONCE, params) is not None


def purge_nonces(conn: sa.Connection) -> int:
    """Delete expired one-time values (run now and then)."""
    return hot.execute(conn, PURGE_NONCES)


def next_file_seq(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(file_seq.next_value())).scalar_one())


@dataclass(frozen=True, slots=True)
class StoredFile:
    file_qury_no: str
    fixmedins_code: str
    filename: str
    kind: str
    content: bytes
    sha256: str
    dld_endtime: datetime


def insert_file(conn: sa.Connection, f: StoredFile) -> None:
    conn.execute(
        file.insert().values(
            file_qury_no=f.file_qury_no,
            fixmedins_code=f.fixmedins_code,
            filename=f.filename,
            kind=f.kind,
            content=f.content,
            sha256=f.sha256,
            size=len(f.content),
            dld_endtime=f.dld_endtime,
        )
    )


def get_file(conn: sa.Connection, file_qury_no: str) -> StoredFile | None:
    row = conn.execute(sa.select(file).where(file.c.file_qury_no == file_qury_no)).first()
    if row is None:
        return None
    m = row._mapping
    return StoredFile(
        file_qury_no=m["file_qury_no"],
        fixmedins_code=m["fixmedins_code"],
        filename=m["filename"],
        kind=m["kind"],
        content=bytes(m["content"]),
        sha256=m["sha256"],
        dld_endtime=m["dld_endtime"],
    )
