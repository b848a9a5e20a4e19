"""Ledger chains of the fund's income (基金收入记账). Pure: builds :class:`yibao.ledger.Chain`.

Which accounts each kind of money moves between (all amounts fen, every chain sums to zero):

==========================  =============================  ===========================  ======================
what                        debit                          credit                       code
==========================  =============================  ===========================  ======================
单位缴费 (统筹部分)          ``BANK:{region}``             ``FUND:{region}:310100``     contribution_employer
灵活就业缴费 (统筹部分)      ``BANK:{region}``             ``FUND:{region}:310100``     contribution_flexible
个人账户划入 (个人缴费)      ``BANK:{region}``             ``ACCT:{psn_no}``            contribution_employee
大额/重大疾病补助缴费        ``BANK:{region}``             ``FUND:{region}:330100``     large_amount
滞纳金                       ``BANK:{region}``             ``FUND:{region}:310100``     late_fee
居民个人缴费                 ``BANK:{region}`` / ACCT 共济  ``FUND:{region}:390100``     contribution_resident
居民财政补助                 ``BANK:{region}``             ``FUND:{region}:390100``     fiscal_subsidy
大病保险筹资                 ``FUND:{region}:390100``      ``FUND:{region}:390200``     fund_allocation
资助参保                     ``FUND:{region}:610100``      ``FUND:{region}:390100``     assistance_subsidy
公务员补助 (财政)            ``BANK:{region}``             ``FUND:{region}:320100``     fiscal_subsidy
退休人员个人账户划入         ``FUND:{region}:310100``      ``ACCT:{psn_no}``            acct_credit
财政预算拨入                 ``BANK:{region}``             ``FUND:{region}:{fund}``     budget_transfer
利息                         ``BANK:{region}``             ``FUND:{region}:{fund}``     interest
期初余额结转 (个人账户)      ``BANK:{region}``             ``ACCT:{psn_no}``            opening_balance
==========================  =============================  ===========================  ======================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from yibao.ledger.model import (
    Account,
    Chain,
    Transfer,
    bank_account,
    fund_account,
    personal_account,
)

POOLED = "310100"  # 职工基本医疗保险统筹基金
CIVIL = "320100"  # 公务员医疗补助
LARGE = "330100"  # 大额医疗费用补助
RESIDENT = "390100"  # 城乡居民基本医疗保险基金
SERIOUS = "390200"  # 城乡居民大病医疗保险
ASSISTANCE = "610100"  # 医疗救助基金
PERSONAL = "310200"  # 个人账户 (the sum of every ACCT of the region)

FUND_NAMES: dict[str, str] = {
    POOLED: "职工基本医疗保险统筹基金",
    PERSONAL: "职工个人账户",
    CIVIL: "公务员医疗补助资金",
    LARGE: "大额医疗费用补助基金",
    RESIDENT: "城乡居民基本医疗保险基金",
    SERIOUS: "城乡居民大病保险资金",
    ASSISTANCE: "医疗救助基金",
    "370100": "企业补充医疗保险基金",
    "310300": "职工大病保险资金",
    "390300": "城乡居民大额医疗保险资金",
}

CODE_LABELS: dict[str, str] = {
    "contribution_employer": "单位缴费",
    "contribution_flexible": "灵活就业人员缴费",
    "contribution_employee": "个人缴费划入个人账户",
    "contribution_resident": "居民个人缴费",
    "large_amount": "大额医疗补助缴费",
    "late_fee": "滞纳金",
    "fiscal_subsidy": "财政补助",
    "assistance_subsidy": "医疗救助资助参保",
    "budget_transfer": "财政预算拨入",
    "fund_allocation": "基金划拨",
    "acct_credit": "统筹基金划入个人账户",
    "interest": "利息收入",
    "opening_balance": "期初余额结转",
    "contribution_refund": "缴费退回",
    "fund_pay": "医疗费用支出",
    "acct_pay": "个人账户支付",
    "acct_mulaid_pay": "个人账户共济支付",
}


@dataclass(frozen=True, slots=True)
class Leg:
    """One transfer to be: ``amount`` fen from ``debit`` to ``credit``."""

    debit: Account
    credit: Account
    amount: int
    code: str
    fund_pay_type: str = ""


def bank(region: str) -> Account:
    return bank_account(region)


def fund(region: str, fpt: str) -> Account:
    return fund_account(region, fpt)


def acct(psn_no: str, region: str) -> Account:
    return personal_account(psn_no, region)


def chain(
    chain_id: str,
    value_date: date,
    legs: Sequence[Leg],
    memo: Mapping[str, object],
    kind: str = "funds",
) -> Chain:
    """The chain of ``legs`` (zero legs dropped) with ids ``{chain_id}/{n}``."""
    transfers: list[Transfer] = []
    for leg in legs:
        if leg.amount == 0:
            continue
        transfers.append(
            Transfer(
                f"{chain_id}/{len(transfers) + 1}",
                leg.debit,
                leg.credit,
                leg.amount,
                leg.code,
                leg.fund_pay_type or leg.credit.fund_pay_type or leg.debit.fund_pay_type,
            )
        )
    return Chain(chain_id=chain_id, kind=kind, value_date=value_date, transfers=tuple(transfers),
                 memo=dict(memo))  # fmt: skip


@dataclass(slots=True)
class PaymentTotals:
    """What a batch of paid bills brings in, by line (fen), for one region and value date."""

    employer: int = 0  # pooled part of unit bills
    flexible: int = 0  # pooled part of flexible workers' bills
    large_amount: int = 0
    late_fee: int = 0
    resident_own: int = 0
    resident_subsidy: int = 0
    resident_serious: int = 0


def payment_legs(
    region: str, totals: PaymentTotals, accounts: Sequence[tuple[str, int]]
) -> list[Leg]:
    """Legs of a tax-bureau remittance (税务征收到账): fund lines, then each personal account."""
    b = bank(region)
    legs = [
        Leg(b, fund(region, POOLED), totals.employer, "contribution_employer"),
        Leg(b, fund(region, POOLED), totals.flexible, "contribution_flexible"),
        Leg(b, fund(region, LARGE), totals.large_amount, "large_amount"),
        Leg(b, fund(region, POOLED), totals.late_fee, "late_fee"),
        Leg(b, fund(region, RESIDENT), totals.resident_own, "contribution_resident"),
        Leg(b, fund(region, RESIDENT), totals.resident_subsidy, "fiscal_subsidy"),
        Leg(
            fund(region, RESIDENT),
            fund(region, SERIOUS),
            totals.resident_serious,
            "fund_allocation",
        ),
    ]
    legs.extend(
        Leg(b, acct(psn_no, region), amount, "contribution_employee") for psn_no, amount in accounts
    )
    return legs
