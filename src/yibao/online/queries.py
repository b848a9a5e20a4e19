"""Read-only queries of the online centres (for the console and the phone): orders and their
events, refunds, reconciliation, prescriptions and their flow. Names are masked; the console
shows no ID number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from yibao.online import store
from yibao.online.model import (
    ORD_STAS_NAMES,
    RX_CHK_STAS,
    RX_STAS,
    RX_USED_STAS,
    OrdStas,
    Split,
    rx_status,
)


@dataclass(frozen=True, slots=True)
class OrderRow:
    pay_ord_id: str
    fixmedins_code: str
    med_org_ord: str
    psn_no: str
    ord_stas: int
    split: Split
    setl_id: str
    cancel_setl_id: str
    cash_paid: int
    cash_refunded: int
    created_at: datetime

    @property
    def stas_name(self) -> str:
        return ORD_STAS_NAMES[self.ord_stas]

    def as_json(self) -> dict[str, Any]:
        return {"payOrdId": self.pay_ord_id, "orgCodg": self.fixmedins_code,
                "medOrgOrd": self.med_org_ord, "ordStas": str(self.ord_stas),
                "ordStasName": self.stas_name, **self.split.as_json(), "setlId": self.setl_id,
                "cashPaid": self.cash_paid, "cashRefunded": self.cash_refunded,
                "createdAt": self.created_at.isoformat()}  # fmt: skip


def _order(r: Any) -> OrderRow:
    return OrderRow(r.pay_ord_id, r.fixmedins_code, r.med_org_ord, r.psn_no, int(r.ord_stas),
                    Split.of_json(r.split), r.setl_id, r.cancel_setl_id, int(r.cash_paid),
                    int(r.cash_refunded), r.created_at)  # fmt: skip


def orders_of_person(conn: sa.Connection, psn_no: str, limit: int = 20) -> list[OrderRow]:
    o = store.order
    rows = conn.execute(sa.select(o).where(o.c.psn_no == psn_no)
                        .order_by(o.c.created_at.desc()).limit(limit))  # fmt: skip
    return [_order(r) for r in rows]


def orders(
    conn: sa.Connection, *, stas: int | None = None, day: date | None = None,
    fixmedins_codes: list[str] | None = None, limit: int = 200,
) -> list[OrderRow]:  # fmt: skip
    o = store.order
    stmt = sa.select(o).order_by(o.c.created_at.desc()).limit(limit)
    if stas is not None:
        stmt = stmt.where(o.c.ord_stas == stas)
    if day is not None:
        stmt = stmt.where(o.c.business_day == day)
    if fixmedins_codes is not None:
        stmt = stmt.where(o.c.fixmedins_code.in_(fixmedins_codes))
    return [_order(r) for r in conn.execute(stmt)]


def order(conn: sa.Connection, pay_ord_id: str) -> OrderRow | None:
    r = conn.execute(sa.select(store.order).where(store.order.c.pay_ord_id == pay_ord_id)).first()
    return _order(r) if r else None


def state_counts(conn: sa.Connection) -> list[tuple[int, str, int]]:
    o = store.order
    rows = conn.execute(sa.select(o.c.ord_stas, sa.func.count()).group_by(o.c.ord_stas)).all()
    return [(int(s), ORD_STAS_NAMES[OrdStas(s)], int(n)) for s, n in sorted(rows)]


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    kind: str
    state: str
    detail: dict[str, Any]


EVENT_NAMES = {
    "upload": "费用明细上传（挂号、就诊信息、明细）", "presettle": "预结算", "authorise": "参保人授权支付",
    "order": "支付下单", "cash": "自费部分已支付", "insurance": "医保结算完成", "timeout": "医保结算超时，结果未知",
    "reversal": "自动冲正", "cash-refund": "现金已退回", "callback": "院内已确认（6302 回调）",
    "done": "结算完成", "cancel": "费用明细已撤销", "refund-ALL": "全部退款", "refund-HI": "医保退款",
    "refund-CASH": "现金退款", "cash-failed": "自费支付失败", "insurance-failed": "医保结算失败",
    "cash-reversal-failed": "自费冲正失败",
    "precheck": "处方预核验（7101）", "sign": "医保电子签名（7102）", "rx-upload": "处方上传（7103）",
    "rx-undo": "处方撤销（7104）", "rx-auth": "参保人授权取药（7201/7202）", "download": "药店下载处方（7204）",
    "verify": "签名核验通过（7205）", "verify-failed": "签名核验失败：处方被篡改（7205）",
    "review": "药师审方（7206）", "settle": "药店结算（2102）", "sale": "销售出库（7207）",
    "sale-undo": "出库撤销（7208）", "delivery": "配送信息（7209）", "received": "签收确认（7210）",
}  # fmt: skip


def events(conn: sa.Connection, ref: str) -> list[Event]:
    e = store.event
    rows = conn.execute(sa.select(e).where(e.c.ref == ref).order_by(e.c.id))
    return [Event(r.at, EVENT_NAMES.get(r.kind, r.kind), r.state, dict(r.detail)) for r in rows]


def refunds(conn: sa.Connection, limit: int = 100) -> list[dict[str, Any]]:
    r = store.refund
    rows = conn.execute(sa.select(r).order_by(r.c.created_at.desc()).limit(limit)).mappings()
    return [dict(x) for x in rows]


@dataclass(frozen=True, slots=True)
class RxRow:
    hi_rxno: str
    fixmedins_code: str
    hosp_rxno: str
    psn_no: str
    prsc_time: datetime
    vali_end_time: datetime
    rx_stas: str
    used_stas: str
    chk_stas: str
    phase: str
    dispenser: str
    setl_id: str

    @property
    def names(self) -> dict[str, str]:
        return {"stas": RX_STAS.get(self.rx_stas, self.rx_stas),
                "used": RX_USED_STAS.get(self.used_stas, self.used_stas),
                "chk": RX_CHK_STAS.get(self.chk_stas, "未审核")}  # fmt: skip


def prescriptions(conn: sa.Connection, now: datetime, limit: int = 200,
                  fixmedins_codes: list[str] | None = None) -> list[RxRow]:  # fmt: skip
    x = store.rx
    stmt = sa.select(x).order_by(x.c.created_at.desc()).limit(limit)
    if fixmedins_codes is not None:
        stmt = stmt.where(x.c.fixmedins_code.in_(fixmedins_codes))
    return [_rx(r, now) for r in conn.execute(stmt)]


def _rx(r: Any, now: datetime) -> RxRow:
    return RxRow(r.hi_rxno, r.fixmedins_code, r.hosp_rxno, r.psn_no, r.prsc_time, r.vali_end_time,
                 rx_status(r.rx_stas, r.vali_end_time, now), r.used_stas, r.chk_stas, r.phase,
                 str((r.dispense or {}).get("fixmedinsCode", "")), r.setl_id)  # fmt: skip


def prescription(conn: sa.Connection, hi_rxno: str, now: datetime) -> RxRow | None:
    r = conn.execute(sa.select(store.rx).where(store.rx.c.hi_rxno == hi_rxno)).first()
    return _rx(r, now) if r else None


def callbacks_received(conn: sa.Connection, ref: str) -> list[dict[str, Any]]:
    c = store.callback_inbox
    rows = conn.execute(sa.select(c).where(c.c.pay_ord_id == ref).order_by(c.c.id)).mappings()
    return [dict(x) for x in rows]


def reconciliation(engine: sa.Engine, day: date, only: Any = None) -> Any:
    """The day's reconciliation report (orders ↔ settlements ↔ the simulator provider's
    statement), of the institutions ``only`` keeps (all when ``None``)."""
    from yibao.online.provider import SimulatorProvider
    from yibao.online.reconcile import reconcile_day

    return reconcile_day(engine, day, SimulatorProvider(engine), only)


def ready(conn: sa.Connection) -> bool:
    """Whether the online tables exist (a console over an older database shows nothing)."""
    return bool(conn.execute(sa.text("SELECT to_regclass('online_order') IS NOT NULL")).scalar())
