"""Personal accounts (个人账户) on the funds side: monthly retiree credits, the carry-over of balances
from a legacy system, and the check that the registry's balance (1101 ``balc``) equals the ledger.

Employees' own credits (划入) come with their contributions' payment
(:mod:`yibao.funds.collection`). Every credit is written twice in one transaction: the registry's
account (row-locked, what 1101 and settlement read) and the ledger's ``ACCT:{psn_no}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from yibao.db.tables import audit
from yibao.funds import postings, rules, store
from yibao.funds.model import RETIRED_PSN_TYPES, FundsError, month_end, period_text
from yibao.funds.postings import POOLED, Leg, acct, bank, fund
from yibao.ledger import OPENING_CODE, post_chain
from yibao.registry import accounts as registry_accounts

_RETIREES = """
SELECT e.psn_no FROM enrolment e
 WHERE e.insutype = '310' AND e.insuplc_admdvs = :region AND e.psn_type = ANY(:retired)
   AND e.psn_insu_stas NOT IN ('0', '3') AND e.psn_insu_date <= :mend
   AND (e.paus_insu_date IS NULL OR e.paus_insu_date > :period)
 ORDER BY e.psn_no
"""


def credit_retirees(engine: sa.Engine, region: str, period: date, *, actor: str) -> tuple[int, int]:
    """退休人员个人账户 monthly fixed credit from the pooled fund (310100 → ACCT); (persons, fen).

    Idempotent per region and month (chain ``acctcr:{region}:{YYYY-MM}``); value date: the
    month's last day.
    """
    amount = rules.eligibility_rules(region, period).retiree_monthly_credit
    ref = f"acctcr:{region}:{period_text(period)}"
    with engine.begin() as conn:
        if amount <= 0 or store.posting_exists(conn, ref) is not None:
            return 0, 0
        persons = list(
            conn.execute(
                sa.text(_RETIREES),
                {"region": region, "retired": list(RETIRED_PSN_TYPES), "period": period,
                 "mend": month_end(period)},
            ).scalars()
        )  # fmt: skip
        if not persons:
            return 0, 0
        legs = [Leg(fund(region, POOLED), acct(p, region), amount, "acct_credit") for p in persons]
        day = month_end(period)
        post_chain(conn, postings.chain(ref, day, legs, {"kind": "retiree_credit"}))
        registry_accounts.credit_many(conn, [(p, amount) for p in persons], ref=ref,
                                      memo=f"{period_text(period)}退休人员个人账户划入")  # fmt: skip
        total = amount * len(persons)
        store.insert_posting(
            conn,
            {"ref": ref, "region": region, "kind": "retiree_credit", "fund_pay_type": POOLED,
             "amount": total, "value_date": day, "chain_id": ref,
             "memo": {"persons": len(persons), "per_person": amount}, "actor": actor},
        )  # fmt: skip
        audit(conn, actor, "funds.retiree_credit", region, period=period_text(period),
              persons=len(persons), amount=total)  # fmt: skip
    return len(persons), total


_DIFFERENCES = """
WITH led AS (
  SELECT a.owner AS psn_no,
         COALESCE((SELECT SUM(amount) FROM ledger_transfer t WHERE t.credit_account = a.code), 0)
       - COALESCE((SELECT SUM(amount) FROM ledger_transfer t WHERE t.debit_account = a.code), 0)
         AS balance
    FROM ledger_account a WHERE a.kind = 'personal'
)
SELECT r.psn_no, r.balc AS registry, COALESCE(led.balance, 0) AS ledger
  FROM personal_account r
  LEFT JOIN led ON led.psn_no = r.psn_no
  JOIN enrolment e ON e.psn_no = r.psn_no AND e.insutype = '310'
 WHERE (CAST(:region AS text) IS NULL OR e.insuplc_admdvs = :region)
   AND r.balc <> COALESCE(led.balance, 0)
 ORDER BY r.psn_no
"""


@dataclass(frozen=True, slots=True)
class AccountCheck:
    """Personal accounts whose registry balance (1101 balc) differs from the ledger."""

    checked_region: str | None
    differences: list[tuple[str, int, int]]  # (psn_no, registry fen, ledger fen)

    @property
    def ok(self) -> bool:
        return not self.differences


def check_accounts(conn: sa.Connection, region: str | None = None) -> AccountCheck:
    """Compare every personal account's registry balance with its ledger balance."""
    rows = conn.execute(sa.text(_DIFFERENCES), {"region": region}).all()
    return AccountCheck(region, [(str(r.psn_no), int(r.registry), int(r.ledger)) for r in rows])


def carry_over_opening(
    engine: sa.Engine, region: str, *, value_date: date, actor: str
) -> tuple[int, int]:
    """期初余额结转: post, once per account, a registry balance that predates the ledger.

    For moving onto the platform: an account whose registry balance differs from its ledger
    balance and that has no carry-over yet gets ``BANK → ACCT`` for the difference (chain
    ``open:{psn_no}``, code ``opening_balance`` — neither income nor spending). Returns
    (accounts, fen). Refused when a difference is negative (that is an error, not a legacy
    balance).
    """
    with engine.begin() as conn:
        diffs = check_accounts(conn, region).differences
        todo = []
        for psn_no, registry, ledger_balance in diffs:
            if conn.execute(
                sa.text("SELECT 1 FROM ledger_chain WHERE chain_id = :c"), {"c": f"open:{psn_no}"}
            ).first():
                continue
            if registry < ledger_balance:
                raise FundsError(
                    "ACCOUNT_MISMATCH",
                    f"个人账户{psn_no}登记余额低于账务余额，不能结转，请核查",
                    "psn_no",
                )
            todo.append((psn_no, registry - ledger_balance))
        for psn_no, amount in todo:
            leg = Leg(bank(region), acct(psn_no, region), amount, OPENING_CODE)
            post_chain(conn, postings.chain(f"open:{psn_no}", value_date, [leg],
                                            {"kind": "opening_balance"}))  # fmt: skip
        total = sum(a for _, a in todo)
        if todo:
            audit(conn, actor, "funds.carry_over", region, accounts=len(todo), amount=total)
    return len(todo), total
