"""Tables of the online centres (线上结算): apps, orders, payment authorisations, refunds, replies,
the simulator payment provider's book, the HIS simulator's callback inbox, prescriptions.

Schema: migration ``online_0001``. SQLAlchemy Core; the writes that go with a settlement are
:class:`~yibao.db.flow.W` statements (sent in the settlement's one statement).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from yibao.db.flow import Jsonb, W

metadata = sa.MetaData()
TZ = sa.DateTime(timezone=True)

app = sa.Table(
    "online_app",
    metadata,
    sa.Column("app_id", sa.Text, primary_key=True),
    sa.Column("fixmedins_code", sa.Text, nullable=False),
    sa.Column("app_secret", sa.Text, nullable=False),  # sealed with the platform secret
    sa.Column("inst_pk", sa.Text, nullable=False),  # the institution's SM2 public key (hex)
    sa.Column("callback_url", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
)

order = sa.Table(
    "online_order",
    metadata,
    sa.Column("pay_ord_id", sa.Text, primary_key=True),
    sa.Column("app_id", sa.Text, nullable=False),
    sa.Column("fixmedins_code", sa.Text, nullable=False),
    sa.Column("med_org_ord", sa.Text, nullable=False),
    sa.Column("pay_token", sa.Text, nullable=False),
    sa.Column("psn_no", sa.Text, nullable=False),
    sa.Column("insutype", sa.Text, nullable=False),
    sa.Column("med_type", sa.Text, nullable=False),
    sa.Column("fee_type", sa.Text, nullable=False),
    sa.Column("mdtrt_id", sa.Text, nullable=False),
    sa.Column("chrg_bchno", sa.Text, nullable=False),
    sa.Column("registered", sa.Boolean, nullable=False),  # the centre opened the visit (2201)
    sa.Column("acct_used_flag", sa.Text, nullable=False),
    sa.Column("psn_setlway", sa.Text, nullable=False),
    sa.Column("ord_stas", sa.SmallInteger, nullable=False),
    sa.Column("split", pg.JSONB, nullable=False),  # as pre-settled (what the patient agreed to)
    sa.Column("settle_msgid", sa.Text, nullable=False),  # the core settlement's msgid (one)
    sa.Column("setl_id", sa.Text, nullable=False, server_default=""),
    sa.Column("cancel_setl_id", sa.Text, nullable=False, server_default=""),
    sa.Column("cash_paid", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("cash_refunded", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("pay_auth_no", sa.Text, nullable=False, server_default=""),
    sa.Column("org_biz_ser", sa.Text, nullable=False, server_default=""),
    sa.Column("timed_out_at", TZ),
    sa.Column("callback_at", TZ),
    sa.Column("traced_at", TZ),  # 交易成功时间 (traceTime)
    sa.Column("business_day", sa.Date, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("fixmedins_code", "med_org_ord", name="uq_online_order_med_org_ord"),
)

event = sa.Table(
    "online_event",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("ref", sa.Text, nullable=False),  # payOrdId or hiRxno
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False, server_default=""),
    sa.Column("detail", pg.JSONB, nullable=False, server_default="{}"),
    sa.Column("at", TZ, nullable=False, server_default=sa.func.now()),
)

reply = sa.Table(
    "online_reply",
    metadata,
    sa.Column("app_id", sa.Text, primary_key=True),
    sa.Column("infno", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),  # orgBizSer / appRefdSn / medOrgOrd …
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
)

pay_auth = sa.Table(
    "online_pay_auth",
    metadata,
    sa.Column("pay_auth_no", sa.Text, primary_key=True),
    sa.Column("chnl_id", sa.Text, nullable=False),
    sa.Column("chnl_user_id", sa.Text, nullable=False),
    sa.Column("psn_no", sa.Text, nullable=False),
    sa.Column("pay_ord_id", sa.Text, nullable=False),
    sa.Column("issued_at", TZ, nullable=False),
    sa.Column("expires_at", TZ, nullable=False),
    sa.Column("used_at", TZ),
)

refund = sa.Table(
    "online_refund",
    metadata,
    sa.Column("app_id", sa.Text, primary_key=True),
    sa.Column("app_refd_sn", sa.Text, primary_key=True),
    sa.Column("pay_ord_id", sa.Text, nullable=False),
    sa.Column("refd_sn", sa.Text, nullable=False, unique=True),
    sa.Column("refd_type", sa.Text, nullable=False),
    sa.Column("hi_amt", sa.BigInteger, nullable=False),
    sa.Column("cash_amt", sa.BigInteger, nullable=False),
    sa.Column("cancel_setl_id", sa.Text, nullable=False, server_default=""),
    sa.Column("ref_status", sa.Text, nullable=False),
    sa.Column("business_day", sa.Date, nullable=False),
    sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
)

provider_txn = sa.Table(  # the simulator payment provider's own book (an outside system)
    "online_provider_txn",
    metadata,
    sa.Column("txn_id", sa.Text, primary_key=True),
    sa.Column("idem_key", sa.Text, nullable=False, unique=True),
    sa.Column("pay_ord_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),  # pay | refund
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("payer", sa.Text, nullable=False, server_default=""),
    sa.Column("business_day", sa.Date, nullable=False),
    sa.Column("at", TZ, nullable=False, server_default=sa.func.now()),
)

callback_inbox = sa.Table(  # the HIS simulator's received 6302 callbacks
    "online_callback_inbox",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("fixmedins_code", sa.Text, nullable=False),
    sa.Column("pay_ord_id", sa.Text, nullable=False),
    sa.Column("body", pg.JSONB, nullable=False),
    sa.Column("received_at", TZ, nullable=False, server_default=sa.func.now()),
)

cert = sa.Table(  # the institutions' prescription-signing keys held by the centre (7102)
    "online_cert",
    metadata,
    sa.Column("fixmedins_code", sa.Text, primary_key=True),
    sa.Column("cert_sn", sa.Text, nullable=False, unique=True),
    sa.Column("cert_dn", sa.Text, nullable=False),
    sa.Column("pk", sa.Text, nullable=False),
    sa.Column("sk", sa.Text, nullable=False),  # sealed with the platform secret
    sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
)

rx = sa.Table(
    "online_rx",
    metadata,
    sa.Column("hi_rxno", sa.Text, primary_key=True),
    sa.Column("rx_trace_code", sa.Text, nullable=False, unique=True),
    sa.Column("fixmedins_code", sa.Text, nullable=False),  # the prescribing institution
    sa.Column("hosp_rxno", sa.Text, nullable=False),
    sa.Column("mdtrt_id", sa.Text, nullable=False),
    sa.Column("psn_no", sa.Text, nullable=False),
    sa.Column("prsc_time", TZ, nullable=False),
    sa.Column("vali_end_time", TZ, nullable=False),
    sa.Column("rx_stas", sa.Text, nullable=False, server_default="1"),
    sa.Column("used_stas", sa.Text, nullable=False, server_default="1"),
    sa.Column("chk_stas", sa.Text, nullable=False, server_default=""),  # the pharmacy's review
    sa.Column("phase", sa.Text, nullable=False),  # checked | signed | uploaded
    sa.Column("precheck", pg.JSONB, nullable=False),  # 7101 input (drugs, visit, diagnoses)
    sa.Column("signed", pg.JSONB, nullable=False, server_default="{}"),  # 7102/7103
    sa.Column("dispense", pg.JSONB, nullable=False, server_default="{}"),  # pharmacy side
    sa.Column("setl_id", sa.Text, nullable=False, server_default=""),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("fixmedins_code", "hosp_rxno", name="uq_online_rx_hosp_rxno"),
)

rx_auth = sa.Table(
    "online_rx_auth",
    metadata,
    sa.Column("auth_rxno", sa.Text, primary_key=True),
    sa.Column("epc_token", sa.Text, nullable=False, unique=True),
    sa.Column("hi_rxno", sa.Text, nullable=False),
    sa.Column("fixmedins_code", sa.Text, nullable=False),  # the dispensing institution
    sa.Column("psn_no", sa.Text, nullable=False),
    sa.Column("way", sa.Text, nullable=False),  # ecToken | channel
    sa.Column("circ_biz_sn", sa.Text, nullable=False, server_default=""),  # 7202 authCircBizSn
    sa.Column("expires_at", TZ, nullable=False),
    sa.Column("downloaded_at", TZ),
    sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
)

RX_TABLES = ("online_rx", "online_rx_auth", "online_cert")


def add_event(ref: str, kind: str, state: str = "", **detail: Any) -> W:
    """An event row (订单/处方流水), as a statement of the caller's write."""
    return W(
        "INSERT INTO online_event (ref, kind, state, detail) VALUES (%(r)s, %(k)s, %(s)s, %(d)s)",
        {"r": ref, "k": kind, "s": state, "d": Jsonb(detail)},
    )


def order_transition(pay_ord_id: str, version: int, **values: Any) -> W:
    """Move an order on (optimistic: the version read), in the caller's write (expect 1)."""
    sets = ", ".join(f"{k} = %({k})s" for k in values)
    params = {**values, "id": pay_ord_id, "v": version}
    for k, v in params.items():
        if isinstance(v, dict):
            params[k] = Jsonb(v)
    return W(
        f"UPDATE online_order SET {sets}, version = version + 1, updated_at = now()"
        " WHERE pay_ord_id = %(id)s AND version = %(v)s RETURNING 1",
        params,
        expect=1,
    )


def rx_update(hi_rxno: str, version: int, **values: Any) -> W:
    """Move a prescription on (optimistic), in the caller's write (expect 1)."""
    sets = ", ".join(f"{k} = %({k})s" for k in values)
    params = {**values, "id": hi_rxno, "v": version}
    for k, v in params.items():
        if isinstance(v, dict):
            params[k] = Jsonb(v)
    return W(
        f"UPDATE online_rx SET {sets}, version = version + 1, updated_at = now()"
        " WHERE hi_rxno = %(id)s AND version = %(v)s RETURNING 1",
        params,
        expect=1,
    )


def get_order(conn: sa.Connection, pay_ord_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    stmt = sa.select(order).where(order.c.pay_ord_id == pay_ord_id)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def get_rx(conn: sa.Connection, hi_rxno: str, *, lock: bool = False) -> dict[str, Any] | None:
    stmt = sa.select(rx).where(rx.c.hi_rxno == hi_rxno)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def stored_reply(conn: sa.Connection, app_id: str, infno: str, key: str) -> bytes | None:
    got = conn.execute(
        sa.select(reply.c.body).where(
            reply.c.app_id == app_id, reply.c.infno == infno, reply.c.key == key
        )
    ).scalar()
    return bytes(got) if got is not None else None


def save_reply(conn: sa.Connection, app_id: str, infno: str, key: str, body: bytes) -> bytes:
    """Keep the first answer for (app, infno, key); return the kept bytes (a racing twin's)."""
    conn.execute(
        pg.insert(reply)
        .values(app_id=app_id, infno=infno, key=key, body=body)
        .on_conflict_do_nothing()
    )
    kept = stored_reply(conn, app_id, infno, key)
    assert kept is not None
    return kept
