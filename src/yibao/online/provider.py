"""The cash part (自费部分) through a payment provider (支付机构: WeChat Pay, Alipay, UnionPay …).

:class:`PaymentProvider` is the port the centre uses; :class:`SimulatorProvider` is the training
provider: an outside system with its own book (``online_provider_txn``), idempotent on the
caller's key like real providers (``out_trade_no`` / ``out_refund_no``), and a daily statement
(对账单) the reconciliation reads. A real provider would be another class with the same methods.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from yibao.online import store


class ProviderError(Exception):
    """The provider refused or could not be reached (the message is for people)."""


@dataclass(frozen=True, slots=True)
class StatementRow:
    txn_id: str
    pay_ord_id: str
    kind: str  # pay | refund
    amount: int  # fen, positive
    at: datetime


class PaymentProvider(Protocol):
    def charge(self, key: str, pay_ord_id: str, amount: int, payer: str, day: date) -> str:
        """Take ``amount`` fen from ``payer`` once per ``key``; the provider's transaction id."""
        ...

    def refund(self, key: str, pay_ord_id: str, amount: int, day: date) -> str:
        """Give back ``amount`` fen of the order once per ``key``; the refund's id."""
        ...

    def statement(self, day: date) -> list[StatementRow]:
        """The day's statement (对账单)."""
        ...


class SimulatorProvider:
    """The training provider: its book is a table (an outside system's, not the centre's)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def _book(
        self, key: str, pay_ord_id: str, kind: str, amount: int, payer: str, day: date
    ) -> str:
        if amount <= 0:
            raise ProviderError("金额须大于0")
        t = store.provider_txn
        with self.engine.begin() as conn:
            txn_id = f"SIM{kind[0].upper()}{secrets.token_hex(10).upper()}"
            conn.execute(
                pg.insert(t)
                .values(txn_id=txn_id, idem_key=key, pay_ord_id=pay_ord_id, kind=kind,
                        amount=amount, payer=payer, business_day=day)
                .on_conflict_do_nothing(index_elements=[t.c.idem_key])
            )  # fmt: skip
            row = conn.execute(sa.select(t).where(t.c.idem_key == key)).mappings().one()
            if (row["pay_ord_id"], row["kind"], row["amount"]) != (pay_ord_id, kind, amount):
                raise ProviderError(f"同一业务单号 {key} 的金额或订单不一致")
            if kind == "refund":
                paid = conn.execute(
                    sa.select(sa.func.coalesce(sa.func.sum(t.c.amount), 0)).where(
                        t.c.pay_ord_id == pay_ord_id, t.c.kind == "pay"
                    )
                ).scalar_one()
                back = conn.execute(
                    sa.select(sa.func.coalesce(sa.func.sum(t.c.amount), 0)).where(
                        t.c.pay_ord_id == pay_ord_id, t.c.kind == "refund"
                    )
                ).scalar_one()
                if back > paid:
                    raise ProviderError("退款金额超过已支付金额")
            return str(row["txn_id"])

    def charge(self, key: str, pay_ord_id: str, amount: int, payer: str, day: date) -> str:
        return self._book(key, pay_ord_id, "pay", amount, payer, day)

    def refund(self, key: str, pay_ord_id: str, amount: int, day: date) -> str:
        return self._book(key, pay_ord_id, "refund", amount, "", day)

    def statement(self, day: date) -> list[StatementRow]:
        t = store.provider_txn
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.c.txn_id, t.c.pay_ord_id, t.c.kind, t.c.amount, t.c.at)
                .where(t.c.business_day == day)
                .order_by(t.c.at)
            ).all()
        return [StatementRow(r.txn_id, r.pay_ord_id, r.kind, r.amount, r.at) for r in rows]
