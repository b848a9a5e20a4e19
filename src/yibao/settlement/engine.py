"""The settlement engine (结算引擎): ``settle(person, encounter, accumulators, policy)``.

A pure function over integer fen: a pipeline of named steps in the order of the one-stop split
(一站式结算, policy-rules.md §1.2 and §8.3). Each step lives in ``yibao.settlement.steps``, fills
its part of the :class:`~yibao.settlement.bill.Bill` and appends its trace line(s), each with
the parameters it used (key, applied value, reference or assumed+reason):

1. benefit line (待遇类型): scheme, setting, level, place, group, assistance class — ``open_bill``;
2. item split (明细分割): 全自费, 超限价, 乙类先行自付, 政策范围内 — ``split_items``;
3. deductible (起付线) — ``deductible``; 4. pooled fund (统筹基金) — ``pooled_fund``;
5. 大病保险/大额补助 — ``serious``; 6. 公务员医疗补助 — ``civil_servant``;
7. 医疗救助 and 倾斜救助 — ``assistance``; 8. personal account (个人账户) — ``account``;
9. cash (个人现金) — ``cash``; then ``close`` builds setlinfo, setldetail and the deltas.

Every ratio × amount is rounded once, half up, with :func:`yibao.money.apply_ratio_units`.
"""

from __future__ import annotations

from datetime import date

from yibao.policy.model import ResolvedPolicy
from yibao.settlement.bill import FUND_NAMES
from yibao.settlement.model import (
    Accumulators,
    Encounter,
    Person,
    SettlementResult,
    TraceStep,
)
from yibao.settlement.rules import group_chain as _group_chain
from yibao.settlement.steps.account import account, cash
from yibao.settlement.steps.assistance import assistance
from yibao.settlement.steps.civil import civil_servant
from yibao.settlement.steps.close import close
from yibao.settlement.steps.deductible import deductible
from yibao.settlement.steps.line import CLASS_PRIORITY, LEVEL_OF_HOSP_LV, benefit_line, open_bill
from yibao.settlement.steps.pooled import pooled_fund
from yibao.settlement.steps.serious import serious
from yibao.settlement.steps.split import split_items

__all__ = [
    "CLASS_PRIORITY",
    "FUND_NAMES",
    "LEVEL_OF_HOSP_LV",
    "_group_chain",
    "apply_deltas",
    "reverse",
    "service_year",
    "settle",
]


def settle(
    person: Person, encounter: Encounter, accumulators: Accumulators, policy: ResolvedPolicy
) -> SettlementResult:
    """Split one bill between every payer. Pure: same inputs, same result; nothing is mutated.

    ``policy`` must be the insured region's policy (参保地政策) in force on the service date;
    ``accumulators`` the person's totals for the 医保年度 of ``encounter.begntime``.
    Raises :class:`SettlementError` naming the field and rule when the bill cannot be settled.
    """
    bill = open_bill(person, encounter, accumulators, policy)
    split_items(bill)
    benefit_line(bill)
    deductible(bill)
    pooled_fund(bill)
    serious(bill)
    civil_servant(bill)
    assistance(bill)
    account(bill)
    cash(bill)
    return close(bill)


def reverse(result: SettlementResult) -> SettlementResult:
    """The cancellation mirror (撤销/冲正): every amount negated, deltas negated.

    Applying ``result.deltas`` then ``reverse(result).deltas`` restores the accumulators exactly.
    """
    s = result.setlinfo
    own = s.acct_pay - s.acct_mulaid_pay
    step = TraceStep(
        "reverse", "结算撤销(冲销)", -s.medfee_sumamt, "原结算全部金额取反, 累计值恢复"
    )
    return SettlementResult(
        result.admdvs,
        result.policy_date,
        s.negated(balc=s.balc + own),
        tuple(d.negated() for d in result.setldetail),
        tuple(i.negated() for i in result.items),
        result.deltas.negated(),
        (step, *result.trace),
        reversed=not result.reversed,
    )


def apply_deltas(accumulators: Accumulators, deltas: Accumulators) -> Accumulators:
    """The accumulators after a settlement (or a reversal) with these deltas."""
    return accumulators.plus(deltas)


def service_year(day: date) -> int:
    """The 医保年度 of a service date (calendar year in every shipped region)."""
    return day.year
