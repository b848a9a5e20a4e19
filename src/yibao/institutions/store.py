"""SQL for institutions, credentials, operators and sign-ins (SQLAlchemy Core)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects import postgresql as pg

from yibao.db import hot
from yibao.institutions.model import Credential, Institution, Operator, SignIn
from yibao.institutions.sealing import SealError, seal, unseal
from yibao.platform_secret import secret_key

log = structlog.get_logger(__name__)

metadata = sa.MetaData()

institution = sa.Table(
    "institution",
    metadata,
    sa.Column("fixmedins_code", sa.Text, primary_key=True),
    sa.Column("fixmedins_name", sa.Text, nullable=False),
    sa.Column("fixmedins_type", sa.Text, nullable=False),
    sa.Column("admdvs", sa.Text, nullable=False),
    sa.Column("hosp_lv", sa.Text, nullable=False),
    sa.Column("uscc", sa.Text, nullable=False),
    sa.Column("fix_onln_open_flag", sa.Text, nullable=False),
    sa.Column("addr", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

credential = sa.Table(
    "institution_credential",
    metadata,
    sa.Column("app_key", sa.Text, primary_key=True),
    sa.Column("fixmedins_code", sa.Text, nullable=False),
    sa.Column("app_secret", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

operator = sa.Table(
    "institution_operator",
    metadata,
    sa.Column("fixmedins_code", sa.Text, primary_key=True),
    sa.Column("opter_no", sa.Text, primary_key=True),
    sa.Column("opter_name", sa.Text, nullable=False),
    sa.Column("opter_type", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

signin = sa.Table(
    "institution_signin",
    metadata,
    sa.Column("sign_no", sa.Text, primary_key=True),
    sa.Column("fixmedins_code", sa.Text, nullable=False),
    sa.Column("opter_no", sa.Text, nullable=False),
    sa.Column("sign_date", sa.Date, nullable=False),
    sa.Column("sign_time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("mac", sa.Text, nullable=False),
    sa.Column("ip", sa.Text, nullable=False),
    sa.Column("signed_out_at", sa.DateTime(timezone=True)),
)

signin_seq = sa.Sequence("institution_signin_seq", metadata=metadata)


def _institution(row: sa.Row[tuple[object, ...]]) -> Institution:
    m = row._mapping
    return Institution(
        fixmedins_code=m["fixmedins_code"],
        fixmedins_name=m["fixmedins_name"],
        fixmedins_type=m["fixmedins_type"],
        admdvs=m["admdvs"],
        hosp_lv=m["hosp_lv"],
        uscc=m["uscc"],
        fix_onln_open_flag=m["fix_onln_open_flag"],
        addr=m["addr"],
    )


def _signin(row: sa.Row[tuple[object, ...]]) -> SignIn:
    m = row._mapping
    return SignIn(
        sign_no=m["sign_no"],
        fixmedins_code=m["fixmedins_code"],
        opter_no=m["opter_no"],
        sign_date=m["sign_date"],
        sign_time=m["sign_time"],
        signed_out_at=m["signed_out_at"],
    )


def upsert_institution(conn: sa.Connection, inst: Institution) -> None:
    values = {
        "fixmedins_code": inst.fixmedins_code,
        "fixmedins_name": inst.fixmedins_name,
        "fixmedins_type": inst.fixmedins_type,
        "admdvs": inst.admdvs,
        "hosp_lv": inst.hosp_lv,
        "uscc": inst.uscc,
        "fix_onln_open_flag": inst.fix_onln_open_flag,
        "addr": inst.addr,
    }
    stmt = pg.insert(institution).values(**values)
    update: dict[str, Any] = {k: stmt.excluded[k] for k in values if k != "fixmedins_code"}
    update["updated_at"] = sa.func.now()
    conn.execute(stmt.on_conflict_do_update(index_elements=["fixmedins_code"], set_=update))


def get_institution(conn: sa.Connection, code: str) -> Institution | None:
    row = conn.execute(sa.select(institution).where(institution.c.fixmedins_code == code)).first()
    return _institution(row) if row else None


def institution_and_signin(
    conn: sa.Connection, code: str, sign_no: str
) -> tuple[Institution | None, SignIn | None]:
    """The institution and (when ``sign_no`` is given) that sign-in, in one round trip.

    On every national-interface request: plain SQL (:mod:`yibao.db.hot`)."""
    row = hot.one(conn, _INSTITUTION_AND_SIGNIN, {"code": code, "sign_no": sign_no})
    if row is None:
        return None, None
    inst = Institution(*row[:8])
    found = None
    if row[8] is not None:
        found = SignIn(*row[8:])
    return inst, found


_INSTITUTION_AND_SIGNIN = (
    "SELECT i.fixmedins_code, i.fixmedins_name, i.fixmedins_type, i.admdvs, i.hosp_lv, i.uscc,"
    " i.fix_onln_open_flag, i.addr,"
    " s.sign_no, s.fixmedins_code, s.opter_no, s.sign_date, s.sign_time, s.signed_out_at"
    " FROM institution i LEFT JOIN institution_signin s ON s.sign_no = %(sign_no)s"
    " WHERE i.fixmedins_code = %(code)s"
)


def search_institutions(
    conn: sa.Connection,
    *,
    fixmedins_type: str = "",
    name_like: str = "",
    code: str = "",
    admdvs: str = "",
    limit: int = 200,
) -> list[Institution]:
    """Institutions by type, name (模糊查询: substring), code and region."""
    q = sa.select(institution).order_by(institution.c.fixmedins_code).limit(limit)
    if fixmedins_type:
        q = q.where(institution.c.fixmedins_type == fixmedins_type)
    if name_like:
        escaped = name_like.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = q.where(institution.c.fixmedins_name.like(f"%{escaped}%", escape="\\"))
    if code:
        q = q.where(institution.c.fixmedins_code == code)
    if admdvs:
        q = q.where(institution.c.admdvs == admdvs)
    return [_institution(r) for r in conn.execute(q)]


def set_online_flag(conn: sa.Connection, code: str, flag: str) -> bool:
    res = conn.execute(
        institution.update()
        .where(institution.c.fixmedins_code == code)
        .values(fix_onln_open_flag=flag, updated_at=sa.func.now())
    )
    return res.rowcount == 1


def _sealing_key() -> str:
    return secret_key()  # YIBAO_SECRET_KEY, else <data_dir>/secret.key: SKs are always sealed


def _credential(m: Any) -> Credential:
    try:
        secret = unseal(m["app_secret"], _sealing_key())
    except SealError:
        log.error("credential_unsealable", app_key=m["app_key"])
        secret = ""  # every signature then fails: 签名不一致
    return Credential(m["app_key"], m["fixmedins_code"], secret, m["active"])


def add_credential(conn: sa.Connection, cred: Credential) -> None:
    """Store (or replace) a credential; the SK is sealed with the platform secret."""
    stmt = pg.insert(credential).values(
        app_key=cred.app_key,
        fixmedins_code=cred.fixmedins_code,
        app_secret=seal(cred.app_secret, _sealing_key()),
        active=cred.active,
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["app_key"],
            set_={"app_secret": stmt.excluded.app_secret, "active": stmt.excluded.active},
            where=credential.c.fixmedins_code == stmt.excluded.fixmedins_code,
        )
    )


def get_credential(conn: sa.Connection, app_key: str) -> Credential | None:
    row = conn.execute(sa.select(credential).where(credential.c.app_key == app_key)).first()
    return _credential(row._mapping) if row else None


def credentials_of(conn: sa.Connection, code: str) -> list[Credential]:
    rows = conn.execute(
        sa.select(credential)
        .where(credential.c.fixmedins_code == code)
        .order_by(credential.c.app_key)
    )
    return [_credential(r._mapping) for r in rows]


def upsert_operator(conn: sa.Connection, op: Operator) -> None:
    stmt = pg.insert(operator).values(
        fixmedins_code=op.fixmedins_code,
        opter_no=op.opter_no,
        opter_name=op.opter_name,
        opter_type=op.opter_type,
        active=op.active,
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["fixmedins_code", "opter_no"],
            set_={"opter_name": stmt.excluded.opter_name, "opter_type": stmt.excluded.opter_type},
        )
    )


def set_operator_active(conn: sa.Connection, code: str, opter_no: str, active: bool) -> bool:
    res = conn.execute(
        operator.update()
        .where(operator.c.fixmedins_code == code, operator.c.opter_no == opter_no)
        .values(active=active)
    )
    return res.rowcount == 1


def get_operator(conn: sa.Connection, code: str, opter_no: str) -> Operator | None:
    row = conn.execute(
        sa.select(operator).where(
            operator.c.fixmedins_code == code, operator.c.opter_no == opter_no
        )
    ).first()
    if not row:
        return None
    m = row._mapping
    return Operator(
        m["fixmedins_code"], m["opter_no"], m["opter_name"], m["opter_type"], m["active"]
    )


def operators_of(conn: sa.Connection, code: str) -> list[Operator]:
    rows = conn.execute(
        sa.select(operator).where(operator.c.fixmedins_code == code).order_by(operator.c.opter_no)
    )
    return [
        Operator(r.fixmedins_code, r.opter_no, r.opter_name, r.opter_type, r.active) for r in rows
    ]


def next_signin_seq(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(signin_seq.next_value())).scalar_one())


def open_signin(conn: sa.Connection, code: str, opter_no: str, sign_date: date) -> SignIn | None:
    """The operator's open (not signed-out) sign-in of that day, locked for update."""
    row = conn.execute(
        sa.select(signin)
        .where(
            signin.c.fixmedins_code == code,
            signin.c.opter_no == opter_no,
            signin.c.sign_date == sign_date,
            signin.c.signed_out_at.is_(None),
        )
        .with_for_update()
    ).first()
    return _signin(row) if row else None


def insert_signin(conn: sa.Connection, s: SignIn, mac: str, ip: str) -> SignIn | None:
    """Insert a sign-in; ``None`` if a concurrent one for the same operator/day won."""
    stmt = (
        pg.insert(signin)
        .values(
            sign_no=s.sign_no,
            fixmedins_code=s.fixmedins_code,
            opter_no=s.opter_no,
            sign_date=s.sign_date,
            sign_time=s.sign_time,
            mac=mac,
            ip=ip,
        )
        .on_conflict_do_nothing()
        .returning(signin.c.sign_no)
    )
    return s if conn.execute(stmt).first() else None


def get_signin(conn: sa.Connection, sign_no: str) -> SignIn | None:
    row = conn.execute(sa.select(signin).where(signin.c.sign_no == sign_no)).first()
    return _signin(row) if row else None


def sign_out(conn: sa.Connection, sign_no: str, at: datetime) -> int:
    """Close the sign-in and every open sign-in of the same operator that day (多终端同时签退)."""
    s = get_signin(conn, sign_no)
    if s is None:
        return 0
    res = conn.execute(
        signin.update()
        .where(
            signin.c.fixmedins_code == s.fixmedins_code,
            signin.c.opter_no == s.opter_no,
            signin.c.sign_date == s.sign_date,
            signin.c.signed_out_at.is_(None),
        )
        .values(signed_out_at=at)
    )
    return res.rowcount
