"""6302 医保结算结果通知: the centre tells the institution (callType 2 支付成功回调) and books its answer.

The body is the order's result (as 6301 answers it) in the centre's envelope, signed with the
platform key; the institution answers ``{"success": true|false, "message": "…"}``. ``success``
moves the order 4 医保支付完成 → 5 院内结算完成 → 6 结算完成. A failed delivery is retried by
the sweeper (:func:`retry_pending`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import httpx
import sqlalchemy as sa
import structlog

from yibao.clock import CHINA
from yibao.online import apps, core, store
from yibao.online.envelope import seal
from yibao.online.model import OrdStas
from yibao.online.orders import result_of

log = structlog.get_logger(__name__)


def notify(engine: sa.Engine, pay_ord_id: str, base_url: str, now: datetime | None = None) -> bool:
    """Deliver the 6302 callback of a paid order; whether the institution booked it."""
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        row = store.get_order(conn, pay_ord_id)
        if (
            row is None
            or OrdStas(row["ord_stas"]) != OrdStas.HI_PAID
            or timed_out(conn, pay_ord_id)
        ):
            return False  # a timed-out order is reversed by the sweeper, never booked
        app = apps.load(conn, row["app_id"])
        org_name = core.caller_of(conn, row["fixmedins_code"]).fixmedins_name
    if not app.callback_url:
        return False
    body = result_of(row, org_name)
    body.update(ownpayAmt=body["ownPayAmt"], hiChrgTime=f"{now.astimezone(CHINA):%H%M%S}",
                hiDocSn=row["setl_id"], hiRgstSn=row["mdtrt_id"], ecCode="")  # fmt: skip
    envelope = seal(app.server_keys(), body, now, transType="6302")
    url = urljoin(base_url + "/", app.callback_url) if base_url else app.callback_url
    try:
        r = httpx.post(url, content=json.dumps(envelope, ensure_ascii=False), timeout=10,
                       headers={"Content-Type": "application/json"})  # fmt: skip
        answer: Any = r.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("online_callback_failed", pay_ord_id=pay_ord_id, why=type(exc).__name__)
        return False
    if not (isinstance(answer, dict) and answer.get("success") is True):
        log.warning("online_callback_refused", pay_ord_id=pay_ord_id)
        return False
    with engine.begin() as conn:
        fresh = store.get_order(conn, pay_ord_id, lock=True)
        if fresh is None or OrdStas(fresh["ord_stas"]) != OrdStas.HI_PAID:
            return False
        o = store.order
        conn.execute(o.update().where(o.c.pay_ord_id == pay_ord_id).values(
            ord_stas=int(OrdStas.DONE), callback_at=now, version=o.c.version + 1,
            updated_at=now))  # fmt: skip
        conn.execute(store.event.insert(), [
            {"ref": pay_ord_id, "kind": "callback", "state": str(int(OrdStas.BOOKED)), "detail": {}},
            {"ref": pay_ord_id, "kind": "done", "state": str(int(OrdStas.DONE)), "detail": {}},
        ])  # fmt: skip
    return True


def timed_out(conn: sa.Connection, pay_ord_id: str) -> bool:
    e = store.event
    return conn.execute(
        sa.select(sa.exists().where(e.c.ref == pay_ord_id, e.c.kind == "timeout"))
    ).scalar_one()


def retry_pending(engine: sa.Engine, base_url: str) -> int:
    """Deliver the callbacks still owed (orders paid, not booked by the institution)."""
    o = store.order
    quiet = datetime.now(UTC) - timedelta(
        seconds=5
    )  # leave the first delivery to the answer's task
    with engine.connect() as conn:
        ids = list(conn.execute(sa.select(o.c.pay_ord_id).where(
            o.c.ord_stas == int(OrdStas.HI_PAID), o.c.timed_out_at.is_(None),
            o.c.updated_at < quiet)).scalars())  # fmt: skip
    return sum(1 for i in ids if notify(engine, i, base_url))


def notify_rx(engine: sa.Engine, trans: str, hi_rxno: str, base_url: str) -> bool:
    """7108 审核结果 / 7109 取药结果: tell the prescribing institution (its HIS answers
    ``{success: true}``)."""
    from yibao.online import queries

    now = datetime.now(UTC)
    with engine.connect() as conn:
        rx = store.get_rx(conn, hi_rxno)
        if rx is None:
            return False
        app_id = conn.execute(sa.select(store.app.c.app_id).where(
            store.app.c.fixmedins_code == rx["fixmedins_code"])).scalar()  # fmt: skip
        if app_id is None:
            return False
        app = apps.load(conn, str(app_id))
        row = queries.prescription(conn, hi_rxno, now)
    assert row is not None
    disp = rx["dispense"] or {}
    body: dict[str, Any] = {"hiRxno": hi_rxno, "rxStasCodg": row.rx_stas, "rxStasName": row.names["stas"],
                            "rxUsedStasCodg": row.used_stas}  # fmt: skip
    if trans == "7108":
        review = disp.get("review") or {}
        body.update(pharName=review.get("pharName", ""), pharCode=review.get("pharCode", ""),
                    rxChkStasCodg=row.chk_stas, rxChkStasName=row.names["chk"],
                    rxChkOpnn=review.get("rxChkOpnn", ""), rxChkTime=review.get("rxChkTime", ""))  # fmt: skip
        path = "rxChkInfoCallback"
    else:
        sale = disp.get("sale") or {}
        body.update(setlTime=disp.get("setlTime", ""),
                    seltdelts=[{k: v for k, v in r.items() if k != "takeDrugFlag"} for r in sale.get("rows", [])])  # fmt: skip
        path = "rxSetlInfoCallback"
    if not app.callback_url:
        return False
    envelope = seal(app.server_keys(), body, now, transType=trans)
    url = urljoin(base_url + "/", app.callback_url) if base_url else app.callback_url
    try:
        r = httpx.post(f"{url}?path={path}", content=json.dumps(envelope, ensure_ascii=False),
                       timeout=10, headers={"Content-Type": "application/json"})  # fmt: skip
        return bool(r.json().get("success"))
    except (httpx.HTTPError, ValueError):
        log.warning("online_rx_callback_failed", hi_rxno=hi_rxno, trans=trans)
        return False
