"""The online centres' entry use cases (线上结算服务): one call = one opened envelope, one answer.

:func:`handle` opens a request envelope (SM4 + SM2, :mod:`yibao.online.envelope`) of a known app,
runs the transaction (``infno``) and seals the answer. State-changing transactions are idempotent
on their business key (6201 ``medOrgOrd``, 6202 ``orgBizSer``, 6203 ``appRefdSn``, 6401
``payOrdId``, 7101 ``hospRxno``, 7103/7104 ``hiRxno`` …): the first answer's bytes are kept and
a retry gets exactly them. A refusal (:class:`~yibao.online.model.OnlineError`) changes nothing
and is not kept — unless it came after the order moved on for good (6202: the insurance part was
refused and the cash returned), when it is that key's answer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog

from yibao.online import apps, callbacks, orders, paying, refunds, store
from yibao.online.envelope import EnvelopeError, open_envelope, seal
from yibao.online.model import OnlineError
from yibao.online.provider import PaymentProvider, SimulatorProvider

log = structlog.get_logger(__name__)


@dataclass
class Centre:
    """The centres' runtime: database, payment provider, timing."""

    engine: sa.Engine
    provider: PaymentProvider
    timing: paying.Timing = field(default_factory=paying.Timing)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @classmethod
    def from_env(cls, engine: sa.Engine) -> Centre:
        timing = paying.Timing(
            settle_timeout=float(os.environ.get("YIBAO_ONLINE_SETTLE_TIMEOUT", "10")),
            reversal_after=timedelta(seconds=float(os.environ.get("YIBAO_ONLINE_REVERSAL_AFTER", "30"))),
        )  # fmt: skip
        return cls(engine, SimulatorProvider(engine), timing)


@dataclass(frozen=True, slots=True)
class Answer:
    body: bytes
    status: int = 200
    paid_order: str = ""  # an order the caller should notify (6302) after answering
    rx_callback: tuple[str, str] = ("", "")  # (7108|7109, hiRxno) to tell the prescriber


Op = Callable[[Centre, apps.App, dict[str, Any], datetime, str], dict[str, Any]]


def _upload(
    c: Centre, app: apps.App, d: dict[str, Any], now: datetime, base: str
) -> dict[str, Any]:
    with c.engine.begin() as conn:
        return orders.upload(conn, app, d, now, base)


def _pay(c: Centre, app: apps.App, d: dict[str, Any], now: datetime, base: str) -> dict[str, Any]:
    row = paying.pay(c.engine, app, d, now, c.provider, c.timing)
    res = orders.result_of(row, "")
    return {"payOrdId": row["pay_ord_id"], "ordStas": res["ordStas"], "ordStasName": res["ordStasName"],
            "feeSumamt": res["feeSumamt"], "ownPayAmt": res["ownPayAmt"],
            "psnAcctPay": res["psnAcctPay"], "fundPay": res["fundPay"],
            "extData": {"setlId": row["setl_id"]}}  # fmt: skip


def _refund(
    c: Centre, app: apps.App, d: dict[str, Any], now: datetime, base: str
) -> dict[str, Any]:
    return refunds.refund(c.engine, app, d, now, c.provider)


def _query(c: Centre, app: apps.App, d: dict[str, Any], now: datetime, base: str) -> dict[str, Any]:
    from yibao.online import core

    with c.engine.connect() as conn:
        return orders.query(conn, app, d, core.caller_of(conn, app.fixmedins_code).fixmedins_name)


def _cancel(
    c: Centre, app: apps.App, d: dict[str, Any], now: datetime, base: str
) -> dict[str, Any]:
    with c.engine.begin() as conn:
        return orders.cancel_upload(conn, app, d, now)


#: infno → (name, use case, the business key its answer is kept under, or "" for a query)
MOBILE: dict[str, tuple[str, Op, str]] = {
    "6201": ("费用明细上传", _upload, "medOrgOrd"),
    "6202": ("支付下单", _pay, "orgBizSer"),
    "6203": ("医保退费", _refund, "appRefdSn"),
    "6301": ("医保订单结算结果查询", _query, ""),
    "6401": ("费用明细上传撤销", _cancel, "payOrdId"),
}
PRESCRIPTION: dict[str, tuple[str, Op, str]] = {}  # filled by yibao.online.rx_service


def plain_error(message: str, status: int = 400) -> Answer:
    """An answer to a request whose app or envelope could not be established (not signed)."""
    return Answer(json.dumps({"code": -1, "message": message}, ensure_ascii=False).encode(), status)


def handle(centre: Centre, table: dict[str, tuple[str, Op, str]], infno: str, raw: bytes,
           base_url: str = "") -> Answer:  # fmt: skip
    """One request of a centre (see the module docstring)."""
    if infno not in table:
        return plain_error(f"交易编号 {infno} 不存在", 404)
    try:
        envelope = json.loads(raw)
    except ValueError:
        return plain_error("请求体须为 JSON")
    if not isinstance(envelope, dict):
        return plain_error("请求体须为 JSON 对象")
    now = centre.clock()
    try:
        with centre.engine.connect() as conn:
            app = apps.load(conn, str(envelope.get("appId") or ""))
        data = open_envelope(app.server_keys(), envelope, now)
    except OnlineError as exc:
        return plain_error(f"{exc.field}: {exc.rule}", 401)
    except EnvelopeError as exc:
        return plain_error(f"{exc.field}: {exc.rule}", 401)
    _name, op, key_field = table[infno]
    key = str(data.get(key_field) or "") if key_field else ""
    if key:
        with centre.engine.connect() as conn:
            kept = store.stored_reply(conn, app.app_id, infno, key)
        if kept is not None:
            return Answer(kept)
    try:
        out = op(centre, app, data, now, base_url)
        rx_callback = (str(out.pop("_callback", "")), str(out.get("hiRxno", "")))
    except OnlineError as exc:
        log.info("online_refused", infno=infno, field=exc.field)
        body = seal(app.server_keys(), {}, now, code=-1, message=f"{exc.field}: {exc.rule}",
                    transType=infno)  # fmt: skip
        refused = json.dumps(body, ensure_ascii=False).encode()
        if key and exc.kept:  # the refusal came after effects (order failed, cash returned)
            with centre.engine.begin() as conn:
                refused = store.save_reply(conn, app.app_id, infno, key, refused)
        return Answer(refused)
    sealed = json.dumps(
        seal(app.server_keys(), out, now, code=0, message="成功", transType=infno),
        ensure_ascii=False,
    ).encode()
    if key:
        with centre.engine.begin() as conn:
            sealed = store.save_reply(conn, app.app_id, infno, key, sealed)
    paid = str(out.get("payOrdId", "")) if infno == "6202" and out.get("ordStas") == "4" else ""
    return Answer(sealed, paid_order=paid, rx_callback=rx_callback)


def sweep(centre: Centre, base_url: str) -> dict[str, int]:
    """The background sweep: reverse unknown outcomes, deliver owed callbacks."""
    reversed_ = paying.reverse_unknown(
        centre.engine, centre.provider, centre.timing, centre.clock()
    )
    delivered = callbacks.retry_pending(centre.engine, base_url) if base_url else 0
    return {"reversed": len(reversed_), "callbacks": delivered}
