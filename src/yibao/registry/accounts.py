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

from yibao.db import hot


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
    return _lock(conn, psn_no, "")[0]


# The settlement path (plain SQL, :mod:`yibao.db.hot`): lock the account row and read any prior
# posting of the same ref in one statement, then the new balance and the posting in another.
_LOCK = (
    "SELECT a.balc,"
    " (SELECT p.amount FROM personal_account_posting p"
    "   WHERE p.psn_no = a.psn_no AND p.ref = %(ref)s),"
    " (SELECT p.balc_after FROM personal_account_posting p"
    "   WHERE p.psn_no = a.psn_no AND p.ref = %(ref)s)"
    " FROM personal_account a WHERE a.psn_no = %(psn_no)s FOR UPDATE OF a"
)
_CREATE = (
    "INSERT INTO personal_account (psn_no, balc) VALUES (%(psn_no)s, 0) ON CONFLICT DO NOTHING"
)
_WRITE = (
    "WITH u AS (UPDATE personal_account SET balc = %(after)s, updated_at = now()"
    "  WHERE psn_no = %(psn_no)s RETURNING psn_no)"
    " INSERT INTO personal_account_posting (psn_no, ref, amount, balc_after, memo)"
    " SELECT psn_no, %(ref)s, %(amount)s, %(after)s, %(memo)s FROM u"
)


def _lock(conn: sa.Connection, psn_no: str, ref: str) -> tuple[int, int | None, int | None]:
    """(balance, prior amount of ``ref``, prior balance after it), the account row locked."""
    params = {"psn_no": psn_no, "ref": ref}
    row = hot.one(conn, _LOCK, params)
    if row is None:
        hot.execute(conn, _CREATE, params)
        row = hot.one(conn, _LOCK, params)
        assert row is not None
    return int(row[0]), row[1], row[2]


def post(conn: sa.Connection, psn_no: str, amount_fen: int, *, ref: str, memo: str = "") -> Posting:
    """Post a debit (negative) or credit (positive) in the caller's transaction.

    Raises :class:`AccountError` ``ACCT_INSUFFICIENT`` if the balance would go negative, and
    ``ACCT_REF_CONFLICT`` if ``ref`` was already used with another amount.
    """
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool):
        raise AccountError("ACCT_AMOUNT", "金额必须为整数分")
    if not ref:
        raise AccountError("ACCT_REF", "记账流水号(ref)不能为空")
    balc, prior_amount, prior_after = _lock(conn, psn_no, ref)
    if prior_amount is not None:
        if int(prior_amount) != amount_fen:
            raise AccountError(
                "ACCT_REF_CONFLICT",
                f"流水号{ref}已记账{prior_amount}分，与本次金额{amount_fen}分不一致",
            )
        return Posting(psn_no, ref, amount_fen, int(prior_after or 0), replayed=True)
    after = balc + amount_fen
    if after < 0:
        raise AccountError(
            "ACCT_INSUFFICIENT", f"个人账户余额不足：余额{balc}分，本次支出{-amount_fen}分"
        )
    params = {"psn_no": psn_no, "ref": ref, "amount": amount_fen, "after": after, "memo": memo}
    hot.execute(conn, _WRITE, params)
    return Posting(psn_no, ref, amount_fen, after)


# Many credits (划入) in two statements: create missing account rows, then — for each person
# whose ``ref`` is not posted yet — raise the balance and write the posting with the new balance.
_CREATE_MANY = (
    "INSERT INTO personal_account (psn_no, balc)"
    " SELECT psn_no, 0 FROM unnest(CAST(%(p)s AS text[])) AS u(psn_no) ON CONFLICT DO NOTHING"
)
_CREDIT_MANY = """
WITH v AS (
  SELECT psn_no, SUM(amount) AS amount
    FROM unnest(CAST(%(p)s AS text[]), CAST(%(a)s AS bigint[])) AS u(psn_no, amount)
   GROUP BY psn_no
), fresh AS (
  SELECT v.* FROM v WHERE NOT EXISTS (
    SELECT 1 FROM personal_account_posting x WHERE x.psn_no = v.psn_no AND x.ref = %(ref)s)
), upd AS (
  UPDATE personal_account a SET balc = a.balc + fresh.amount, updated_at = now()
    FROM fresh WHERE a.psn_no = fresh.psn_no
  RETURNING a.psn_no, a.balc, fresh.amount
)
INSERT INTO personal_account_posting (psn_no, ref, amount, balc_after, memo)
SELECT psn_no, %(ref)s, amount, balc, %(memo)s FROM upd
"""


def credit_many(
    conn: sa.Connection, credits: list[tuple[str, int]], *, ref: str, memo: str = ""
) -> int:
    """Credit (划入) many accounts at once in the caller's transaction; return how many were new.

    Idempotent on ``(psn_no, ref)`` like :func:`post`: a person already credited under ``ref``
    is skipped. Amounts must be positive integer fen. A settlement's debit locks one account row
    and waits here at most for the end of this transaction (it never holds a row this needs).
    """
    if not ref:
        raise AccountError("ACCT_REF", "记账流水号(ref)不能为空")
    for psn_no, amount in credits:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise AccountError("ACCT_AMOUNT", f"划入金额必须为正整数分：{psn_no} {amount!r}")
    if not credits:
        return 0
    ordered = sorted(credits)
    params = {
        "p": [p for p, _ in ordered],
        "a": [a for _, a in ordered],
        "ref": ref,
        "memo": memo,
    }
    hot.execute(conn, _CREATE_MANY, params)
    return hot.execute(conn, _CREDIT_MANY, params)
