"""Ledger chains of payment reform (支付方式改革记账). Pure: builds :class:`Chain` objects.

payment-reform.md §7.3. The counter settlement already credited the institution's payable
``PAY:{inst}`` with the item-based fund share (debit ``FUND``). Here (debit → credit):

=====================  ==================================================  =====================
event                  transfers                                           chain id
=====================  ==================================================  =====================
monthly advance        ``FUND → PAY`` (or back) Σ DRG/DIP adjustment per   ``pma:{inst}:{yyyymm}``
(月度预结算)            fund; ``PAY → BANK`` advance; ``PAY → HOLD`` deposit
特例单议 approved       ``FUND ↔ PAY`` the case's change                     ``psc:{appy_id}``
year-end clearing      ``FUND ↔ PAY`` difference to the final values;      ``pye:{inst}:{year}``
(年度清算)              ``HOLD → PAY`` deposit offsetting an over-advance,
                       ``HOLD → BANK`` released, ``HOLD → FUND`` forfeited;
                       ``PAY → BANK`` the rest owed (model/settle.py)
医共体 month            ``FUND → YCM`` allocation; ``YCM → FUND`` spending    ``ycm:{id}:{yyyymm}``
医共体 year end         ``YCM → PAY:{lead}`` retained surplus, ``YCM → FUND``  ``yce:{id}:{year}``
                       the rest; overrun: ``FUND → YCM`` fund share,
                       ``PAY:{lead} → YCM`` the community's share
=====================  ==================================================  =====================

Every chain sums to zero by construction (each transfer debits one account and credits another).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from yibao.ledger.model import (
    Account,
    Chain,
    Transfer,
    bank_account,
    community_account,
    deposit_account,
    fund_account,
    payable_account,
)


@dataclass(slots=True)
class _Builder:
    chain_id: str
    transfers: list[Transfer]

    def move(self, debit: Account, credit: Account, amount: int, code: str, fpt: str = "") -> None:
        """A transfer of ``amount``; a negative amount flows the other way; zero is skipped."""
        if amount == 0:
            return
        if amount < 0:
            debit, credit, amount = credit, debit, -amount
        n = len(self.transfers) + 1
        self.transfers.append(Transfer(f"{self.chain_id}/{n}", debit, credit, amount, code, fpt))

    def chain(self, kind: str, day: date, inst: str, memo: Mapping[str, object]) -> Chain:
        return Chain(self.chain_id, kind, day, tuple(self.transfers), fixmedins_code=inst,
                     memo=dict(memo))  # fmt: skip


def adjust(b: _Builder, region: str, inst: str, per_fund: Mapping[str, int], code: str) -> None:
    pay = payable_account(inst, region)
    for fpt, amount in sorted(per_fund.items()):
        b.move(fund_account(region, fpt), pay, amount, code, fpt)


def monthly_advance(
    *,
    region: str,
    inst: str,
    month: str,  # yyyymm
    day: date,
    adjustments: Mapping[str, int],
    advance: int,
    hold: int,
    memo: Mapping[str, object],
) -> Chain:
    b = _Builder(f"pma:{inst}:{month}", [])
    adjust(b, region, inst, adjustments, "payment_adjust")
    pay = payable_account(inst, region)
    b.move(pay, bank_account(region), advance, "monthly_pay")
    b.move(pay, deposit_account(inst, region), hold, "quality_hold")
    return b.chain("payment", day, inst, memo)


def special_adjust(
    *, region: str, inst: str, appy_id: str, day: date, adjustments: Mapping[str, int]
) -> Chain:
    b = _Builder(f"psc:{appy_id}", [])
    adjust(b, region, inst, adjustments, "special_case")
    return b.chain("payment", day, inst, {"appy_id": appy_id})


def year_end(
    *,
    region: str,
    inst: str,
    year: int,
    day: date,
    adjustments: Mapping[str, int],
    release: int,
    forfeit: int,
    forfeit_fpt: str,
    offset: int,
    final_payment: int,
    memo: Mapping[str, object],
) -> Chain:
    b = _Builder(f"pye:{inst}:{year}", [])
    adjust(b, region, inst, adjustments, "annual_clearing")
    hold = deposit_account(inst, region)
    b.move(hold, payable_account(inst, region), offset, "quality_offset")
    b.move(hold, bank_account(region), release, "quality_release")
    b.move(hold, fund_account(region, forfeit_fpt), forfeit, "quality_forfeit", forfeit_fpt)
    b.move(payable_account(inst, region), bank_account(region), final_payment, "annual_pay")
    return b.chain("payment", day, inst, memo)


def community_month(
    *,
    region: str,
    community: str,
    fpt: str,
    month: str,
    day: date,
    allocation: int,
    spending: int,
    memo: Mapping[str, object],
) -> Chain:
    b = _Builder(f"ycm:{community}:{month}", [])
    ycm, fund = community_account(community, region), fund_account(region, fpt)
    b.move(fund, ycm, allocation, "community_allocation", fpt)
    b.move(ycm, fund, spending, "community_charge", fpt)
    return b.chain("community", day, "", memo)


def community_year_end(
    *,
    region: str,
    community: str,
    lead: str,
    fpt: str,
    year: int,
    day: date,
    retained: int,
    returned: int,
    fund_overrun: int,
    community_overrun: int,
    memo: Mapping[str, object],
) -> Chain:
    b = _Builder(f"yce:{community}:{year}", [])
    ycm, fund = community_account(community, region), fund_account(region, fpt)
    pay = payable_account(lead, region)
    b.move(ycm, pay, retained, "surplus_retained")
    b.move(ycm, fund, returned, "surplus_returned", fpt)
    b.move(fund, ycm, fund_overrun, "overrun_fund_share", fpt)
    b.move(pay, ycm, community_overrun, "overrun_community_share")
    return b.chain("community", day, lead, memo)
