"""Step 10: the personal account (个人账户), then cash (policy-rules.md §1.2 Step 10).

``psn_part_amt = medfee_sumamt − fund_pay_sumamt − hosp_part_amt``. The account pays what the
region lets it pay (全自费 and 超限价 only where allowed) up to its balance — the person's own
account, then the family mutual-aid account (共济, ``acct_used_flag=2``); the rest is cash.
"""

from __future__ import annotations

from yibao.money import fen_str
from yibao.policy.model import ResolvedPolicy
from yibao.settlement.bill import FUND_NAMES, Bill
from yibao.settlement.model import Deferred, SetlDetail, TraceStep, Used
from yibao.settlement.rules import used

ACCT_USE = {"0": "不使用个人账户", "1": "使用本人账户", "2": "使用本人及共济账户"}


def account_rule(policy: ResolvedPolicy) -> tuple[bool, bool, tuple[Used, ...]]:
    """Whether the account may pay 全自费 and 超限价, and those parameters (cached)."""
    hit = policy.cache.get("account")
    if hit is None:
        keys = ("account.pays_fulamt_ownpay", "account.pays_overlmt")
        ful, over = (bool(policy.value(k)) for k in keys)
        hit = policy.cache["account"] = (
            ful,
            over,
            (used(policy, keys[0], ful), used(policy, keys[1], over)),
        )
    return hit


def account(b: Bill) -> None:
    """Pay from the personal account(s) what the region allows, up to the balances."""
    acc, flag = b.acc, b.enc.acct_used_flag
    pays_ful, pays_over, uses = account_rule(b.policy)
    b.fund_sum = b.hifp + b.serious_pay + b.cvl_pay + b.maf1 + b.maf2
    psn_part = b.psn_part = b.tot - b.fund_sum  # hosp_part_amt is 0
    payable = psn_part
    if not pays_ful:
        payable -= b.ful
    if not pays_over:
        payable -= b.over
    payable = max(0, payable)
    own = mulaid = 0
    if flag in ("1", "2"):
        own = min(max(0, acc.acct_balc), payable)
        if flag == "2":
            mulaid = min(max(0, acc.mulaid_balc), payable - own)
    b.own, b.mulaid = own, mulaid
    text = Deferred(_t_account, psn_part, payable, flag, own, acc.acct_balc - own, mulaid)
    b.trace.append(TraceStep("account", "个人账户", own + mulaid, text, uses))
    if own + mulaid:
        b.details.append(
            SetlDetail("310200", FUND_NAMES["310200"], payable, payable, own + mulaid,
                       "个人账户支付(不计入基金支付总额)")
        )  # fmt: skip


def cash(b: Bill) -> None:
    """What the person pays in cash (个人现金)."""
    acct_pay = b.own + b.mulaid
    b.cash = b.psn_part - acct_pay
    b.trace.append(TraceStep("cash", "个人现金", b.cash, Deferred(_t_cash, b.psn_part, acct_pay)))


def _t_account(psn_part: int, payable: int, flag: str, own: int, balc: int, mulaid: int) -> str:
    return (
        f"个人负担 {fen_str(psn_part)}, 账户可支付 {fen_str(payable)}; {ACCT_USE.get(flag, flag)}; "
        f"本人账户 {fen_str(own)} (余额 {fen_str(balc)}), 共济 {fen_str(mulaid)}"
    )


def _t_cash(psn_part: int, acct_pay: int) -> str:
    return f"个人负担 {fen_str(psn_part)} − 账户 {fen_str(acct_pay)}"
