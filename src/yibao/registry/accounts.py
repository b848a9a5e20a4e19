"""Personal account (个人账户): balance under a row lock, debit/credit in the caller's transaction.

The settlement side calls, inside its own transaction::

    balc = accounts.lock_balance(conn, psn_no)          # SELECT … FOR UPDATE
    accounts.post(conn, psn_no, -acct_pay, ref=setl_id)  # never below zero; idempotent on ref

``post`` is idempotent on ``(psn_no, ref)``: posting the same ref again returns the first posting
(and refuses a different amount). The balance can never go negative (checked here and by a
database CHECK constraint).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from yibao.registry.store import personal_account, personal_account_posting


class AccountError(ValueError):
    """A refused posting; ``code`` is stable, the message Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Posting:
    psn_no: str
    ref: str
    amount_fen: int  # negative = debit (支出), positive = credit (划入)
    balc_after_fen: int
    replayed: bool = False


def lock_balance(conn: sa.Connection, psn_no: str) -> int:
    """The balance in fen, with the account row locked until the caller's transaction ends.

    A person without an account row gets one (balance 0) so the lock always exists.
    """
    conn.execute(insert(personal_account).values(psn_no=psn_no, balc=0).on_conflict_do_nothing())
    return int(
        conn.execute(
            sa.select(personal_account.c.balc)
            .where(personal_account.c.psn_no == psn_no)
            .with_for_update()
        ).scalar_one()
    )


def post(conn: sa.Connection, psn_no: str, amount_fen: int, *, ref: str, memo: str = "") -> Posting:
    """Post a debit (negative) or credit (positive) in the caller's transaction.

    Raises :class:`AccountError` ``ACCT_INSUFFICIENT`` if the balance would go negative, and
    ``ACCT_REF_CONFLICT`` if ``ref`` was already used with another amount.
    """
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool):
        raise AccountError("ACCT_AMOUNT", "金额必须为整数分")
    if not ref:
        raise AccountError("ACCT_REF", "记账流水号(ref)不能为空")
    balc = lock_balance(conn, psn_no)
    prior = conn.execute(
        sa.select(personal_account_posting.c.amount, personal_account_posting.c.balc_after).where(
            personal_account_posting.c.psn_no == psn_no, personal_account_posting.c.ref == ref
        )
    ).first()
    if prior is not None:
        if int(prior.amount) != amount_fen:
            raise AccountError(
                "ACCT_REF_CONFLICT",
                f"流水号{ref}已记账{prior.amount}分，与本次金额{amount_fen}分不一致",
            )
        return Posting(psn_no, ref, amount_fen, int(prior.balc_after), replayed=True)
    after = balc + amount_fen
    if after < 0:
        raise AccountError(
            "ACCT_INSUFFICIENT", f"个人账户余额不足：余额{balc}分，本次支出{-amount_fen}分"
        )
    conn.execute(
        personal_account.update()
        .where(personal_account.c.psn_no == psn_no)
        .values(balc=after, updated_at=sa.func.now())
    )
    conn.execute(
        personal_account_posting.insert().values(
            psn_no=psn_no, ref=ref, amount=amount_fen, balc_after=after, memo=memo
        )
    )
    return Posting(psn_no, ref, amount_fen, after)
