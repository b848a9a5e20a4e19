"""Online settlement rules (线上结算): order states, refunds, prescription states, reconciliation. Pure.

Order states ``ordStas`` (nhsa-interface.md §3.13, [HN127] 表605); the transition order is the
reference's inference (funds-and-services.md §6.3: self-pay first, then 医保)::

    0 已保存 ─6201 pre-settled→ 1 预结算完成 ─6202/pay→ 2 结算中 ─cash→ 3 自费完成 ─医保→ 4 医保支付完成
      ─6302 answered→ 5 院内结算完成 → 6 结算完成
    1 ─6401→ 12 已撤销;  2/3 ─timeout, 医保 reversed→ 13 医保已撤销 | nothing settled → 15 结算失败
    4/5/6 ─6203 ALL→ 7 | HI→ 8 | CASH (all)→ 9 | CASH (part)→ 10 | HI + part of CASH→ 11
    a cash refund that fails after 医保 failed → 16 医保结算失败自费冲正失败; 14 异常 (unused)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import IntEnum
from typing import Any


class OnlineError(ValueError):
    """A refusal of the online centres: ``field`` (camelCase path) and a Chinese ``rule``."""

    def __init__(self, field: str, rule: str, *, kept: bool = False) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule
        self.kept = kept  # raised after the order moved on: the refusal is its answer for good


class OrdStas(IntEnum):
    SAVED = 0
    PRICED = 1
    SETTLING = 2
    CASH_PAID = 3
    HI_PAID = 4
    BOOKED = 5
    DONE = 6
    REFUNDED = 7
    HI_REFUNDED = 8
    CASH_REFUNDED = 9
    CASH_PART_REFUNDED = 10
    HI_AND_CASH_PART_REFUNDED = 11
    CANCELLED = 12
    HI_REVERSED = 13
    ABNORMAL = 14
    FAILED = 15
    CASH_REVERSAL_FAILED = 16


ORD_STAS_NAMES = {
    0: "已保存", 1: "预结算完成", 2: "结算中", 3: "自费完成", 4: "医保支付完成", 5: "院内结算完成",
    6: "结算完成", 7: "已退款", 8: "已医保全部退款", 9: "仅自费全部退款", 10: "仅自费部分退款",
    11: "医保全部退自费部分退款", 12: "已撤销", 13: "医保已撤销", 14: "异常", 15: "结算失败",
    16: "医保结算失败自费冲正失败",
}  # fmt: skip

PAID = frozenset({OrdStas.HI_PAID, OrdStas.BOOKED, OrdStas.DONE})
IN_FLIGHT = frozenset({OrdStas.SETTLING, OrdStas.CASH_PAID})
REFUND_TYPES = ("ALL", "CASH", "HI")
FEE_TYPES = {"01": "门诊就诊", "02": "住院", "05": "互联网医院问诊", "07": "药店在线购药"}


@dataclass(frozen=True, slots=True)
class Split:
    """An order's split in fen: the 6202/6301 amounts (feeSumamt = fundPay + psnAcctPay +
    ownPayAmt + hospPartAmt)."""

    fee_sumamt: int
    fund_pay: int
    psn_acct_pay: int
    own_pay_amt: int
    hosp_part_amt: int = 0

    def __post_init__(self) -> None:
        total = self.fund_pay + self.psn_acct_pay + self.own_pay_amt + self.hosp_part_amt
        if total != self.fee_sumamt:
            raise OnlineError("feeSumamt", f"金额恒等式不成立：{self.fee_sumamt} ≠ {total}")

    @classmethod
    def of_setlinfo(cls, info: dict[str, Any]) -> Split:
        """The split of a settlement (``setlinfo`` in fen)."""
        return cls(
            fee_sumamt=int(info["medfee_sumamt"]),
            fund_pay=int(info["fund_pay_sumamt"]),
            psn_acct_pay=int(info["acct_pay"]),
            own_pay_amt=int(info["psn_cash_pay"]),
            hosp_part_amt=int(info.get("hosp_part_amt") or 0),
        )

    def as_json(self) -> dict[str, int]:
        return {
            "feeSumamt": self.fee_sumamt,
            "fundPay": self.fund_pay,
            "psnAcctPay": self.psn_acct_pay,
            "ownPayAmt": self.own_pay_amt,
            "hospPartAmt": self.hosp_part_amt,
        }

    @classmethod
    def of_json(cls, d: dict[str, Any]) -> Split:
        return cls(
            int(d["feeSumamt"]),
            int(d["fundPay"]),
            int(d["psnAcctPay"]),
            int(d["ownPayAmt"]),
            int(d.get("hospPartAmt") or 0),
        )


def require_state(stas: OrdStas, allowed: frozenset[OrdStas] | set[OrdStas], action: str) -> None:
    if stas not in allowed:
        names = "、".join(ORD_STAS_NAMES[s] for s in sorted(allowed))
        raise OnlineError(
            "payOrdId", f"订单状态为“{ORD_STAS_NAMES[stas]}”，不能{action}（须为：{names}）"
        )


@dataclass(frozen=True, slots=True)
class RefundPlan:
    """What a 6203 refund takes back (fen) and the order state after it."""

    hi: bool  # the 医保 part (fund + account) is refunded: the settlement is cancelled
    cash: int
    after: OrdStas


def plan_refund(
    stas: OrdStas, split: Split, cash_refunded: int, refd_type: str, cash_amt: int
) -> RefundPlan:
    """6203: ``ALL`` (医保 and all remaining cash), ``HI`` (医保 only), ``CASH`` (``cash_amt`` of the
    remaining cash; partial allowed). Partial 医保 refunds do not exist (whole settlement)."""
    if refd_type not in REFUND_TYPES:
        raise OnlineError("refdType", "须为 ALL、CASH 或 HI")
    remaining = split.own_pay_amt - cash_refunded
    hi_open = stas in PAID or stas in (OrdStas.CASH_REFUNDED, OrdStas.CASH_PART_REFUNDED)
    if refd_type in ("ALL", "HI") and not hi_open:
        raise OnlineError("refdType", f"订单状态为“{ORD_STAS_NAMES[stas]}”，医保部分不可退")
    if refd_type == "HI":
        if cash_amt:
            raise OnlineError("cashRefdAmt", "refdType 为 HI 时现金退款金额须为0")
        after = OrdStas.HI_REFUNDED if remaining == split.own_pay_amt else (
            OrdStas.HI_AND_CASH_PART_REFUNDED)  # fmt: skip
        return RefundPlan(True, 0, after)
    if refd_type == "ALL":
        if cash_amt != remaining:
            raise OnlineError("cashRefdAmt", f"全部退款时现金退款金额须为剩余现金 {remaining} 分")
        return RefundPlan(True, remaining, OrdStas.REFUNDED)
    if stas not in PAID and stas not in (OrdStas.CASH_PART_REFUNDED, OrdStas.HI_REFUNDED):
        raise OnlineError("refdType", f"订单状态为“{ORD_STAS_NAMES[stas]}”，不能退现金")
    if cash_amt <= 0 or cash_amt > remaining:
        raise OnlineError("cashRefdAmt", f"须大于0且不超过剩余现金 {remaining} 分")
    whole = cash_amt == remaining
    if stas == OrdStas.HI_REFUNDED:
        return RefundPlan(False, cash_amt, OrdStas.REFUNDED if whole else stas)
    return RefundPlan(
        False, cash_amt, OrdStas.CASH_REFUNDED if whole else OrdStas.CASH_PART_REFUNDED
    )


# ---- e-prescriptions (医保电子处方) ----------------------------------------------------------------

RX_STAS = {"1": "有效", "2": "已失效", "3": "已撤销"}  # rx_stas_codg
RX_USED_STAS = {"1": "未使用", "2": "已使用"}  # rx_used_stas_codg
RX_CHK_STAS = {"0": "审核不通过", "1": "审核通过"}  # rx_chk_stas_codg
DELV_STAS = {"0": "待配送", "1": "配送中", "2": "配送完成", "3": "配送取消", "4": "配送异常"}


def vali_end(prsc_time: datetime, vali_days: int) -> datetime:
    """``valiEndTime`` = 开方时间 + 处方有效天数 (7101)."""
    if vali_days <= 0 or vali_days > 365:
        raise OnlineError("valiDays", "处方有效天数须为1至365")
    return prsc_time + timedelta(days=vali_days)


def rx_status(stas: str, vali_end_time: datetime, now: datetime) -> str:
    """The prescription's state now: 已撤销 stays; a valid one past ``valiEndTime`` is 已失效."""
    if stas == "1" and now >= vali_end_time:
        return "2"
    return stas


def require_fillable(stas: str, used: str, vali_end_time: datetime, now: datetime) -> None:
    """A prescription can be filled (downloaded, settled) only while valid and unused."""
    current = rx_status(stas, vali_end_time, now)
    if current == "2":
        raise OnlineError("hiRxno", f"处方已失效（有效期至 {vali_end_time:%Y-%m-%d %H:%M}）")
    if current == "3":
        raise OnlineError("hiRxno", "处方已撤销")
    if used == "2":
        raise OnlineError("hiRxno", "处方已使用（一张处方只能取药一次）")


# ---- reconciliation (对账) -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Difference:
    """One reconciliation difference: which order/settlement/provider record, what differs."""

    key: str
    kind: str  # 'order-settlement' | 'order-provider' | 'orphan-settlement' | 'orphan-provider'
    detail: str
    ours: int
    theirs: int


def compare(
    day: date,
    orders: dict[str, tuple[int, int]],
    settlements: dict[str, int],
    provider: dict[str, int],
) -> list[Difference]:
    """Differences of one day: ``orders`` payOrdId → (net fund+account fen, net cash fen) as
    the centre booked them; ``settlements`` payOrdId → net fund+account of the core's
    settlements; ``provider`` payOrdId → net cash on the provider's statement."""
    out: list[Difference] = []
    for key in sorted(set(orders) | set(settlements) | set(provider)):
        hi, cash = orders.get(key, (0, 0))
        if key not in orders and key in settlements:
            out.append(
                Difference(key, "orphan-settlement", "医保结算无对应订单", 0, settlements[key])
            )
        elif settlements.get(key, 0) != hi:
            out.append(
                Difference(
                    key, "order-settlement", "订单医保金额与结算不符", hi, settlements.get(key, 0)
                )
            )
        if key not in orders and key in provider:
            out.append(
                Difference(key, "orphan-provider", "支付机构流水无对应订单", 0, provider[key])
            )
        elif provider.get(key, 0) != cash:
            out.append(Difference(key, "order-provider", "订单现金金额与支付机构对账单不符", cash, provider.get(key, 0)))  # fmt: skip
    return out
