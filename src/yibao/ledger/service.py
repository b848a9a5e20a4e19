"""Fund ledger use cases (基金账务): post settlements, reversals and clearings; read balances.

Every function takes the caller's connection and runs inside the caller's transaction, so a
settlement record and its postings commit (or vanish) together.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from yibao.ledger import store, store_balances, store_checks, store_verify
from yibao.ledger.model import (
    Chain,
    LedgerError,
    SettlementPosting,
    Transfer,
    bank_account,
    build_settlement_chain,
    clearing_account,
    mirror_chain,
    settlement_chain_id,
)
from yibao.ledger.store import PostResult
from yibao.ledger.store_balances import Balance


def post_settlement(conn: sa.Connection, posting: SettlementPosting) -> PostResult:
    """Post one settlement's chain (结算记账); idempotent on ``setl_id``.

    A settlement that moves no fund money (all paid in cash) posts no chain and returns an empty
    :class:`PostResult` with ``created=False``.
    """
    chain = build_settlement_chain(posting)
    if not chain.transfers:
        return PostResult(chain.chain_id, False, (), 0)
    return store.insert_chain(conn, chain)


def post_reversal(
    conn: sa.Connection,
    original_setl_id: str,
    new_setl_id: str,
    *,
    msgid: str,
    value_date: date,
) -> PostResult:
    """Post the mirror of a settlement's chain (冲销: 2208/2305/2103 撤销, 2601 冲正).

    Idempotent on ``new_setl_id``; a settlement is reversed at most once (a second reversal with
    another id raises :class:`~yibao.ledger.model.LedgerConflict`). A settlement that posted no
    chain (no fund money) reverses to nothing.
    """
    original_chain = settlement_chain_id(original_setl_id)
    original = store.load_chain(conn, original_chain)
    if original is None:
        return PostResult(settlement_chain_id(new_setl_id), False, (), 0)
    if original.kind != "settlement":
        raise LedgerError(f"chain {original_chain}: not a settlement chain (非结算记账链)")
    chain = mirror_chain(
        original,
        chain_id=settlement_chain_id(new_setl_id),
        setl_id=new_setl_id,
        msgid=msgid,
        value_date=value_date,
    )
    return store.insert_chain(conn, chain)


def post_clearing(
    conn: sa.Connection,
    clearing_id: str,
    *,
    payer_region: str,
    payee_region: str,
    amount: int,
    value_date: date,
    msgid: str = "",
) -> PostResult:
    """Post a clearing payment (清算拨付) from the insured region to the treatment region.

    Extinguishes the two clearing positions through the regions' bank accounts:
    ``CLR:{payer}:{payee}`` ← ``BANK:{payer}`` and ``BANK:{payee}`` ← ``CLR:{payee}:{payer}``.
    Idempotent on ``clearing_id``.
    """
    chain_id = f"clr:{clearing_id}"
    transfers = (
        Transfer(
            f"{chain_id}/1",
            clearing_account(payer_region, payee_region),
            bank_account(payer_region),
            amount,
            "clearing",
        ),
        Transfer(
            f"{chain_id}/2",
            bank_account(payee_region),
            clearing_account(payee_region, payer_region),
            amount,
            "clearing",
        ),
    )
    chain = Chain(
        chain_id=chain_id,
        kind="clearing",
        value_date=value_date,
        transfers=transfers,
        msgid=msgid,
        memo={"payer_region": payer_region, "payee_region": payee_region},
    )
    return store.insert_chain(conn, chain)


def post_chain(conn: sa.Connection, chain: Chain) -> PostResult:
    """Post any balanced chain (e.g. contributions, payments to institutions); idempotent."""
    return store.insert_chain(conn, chain)


def fund_balances(conn: sa.Connection, region: str, as_of: date) -> dict[str, int]:
    """Balance of each fund of a pooling region by ``fund_pay_type`` (基金余额, credit-normal)."""
    return {
        b.fund_pay_type: b.balance
        for b in store_balances.balances(conn, as_of=as_of, kind="fund", region=region)
    }


def payable_balance(conn: sa.Connection, fixmedins_code: str, as_of: date) -> int:
    """What the funds owe an institution (应付定点医药机构余额), fen."""
    rows = store_balances.balances(conn, as_of=as_of, codes=[f"PAY:{fixmedins_code}"])
    return rows[0].balance if rows else 0


def clearing_position(conn: sa.Connection, region_a: str, region_b: str, as_of: date) -> int:
    """What ``region_b`` owes ``region_a`` (positive) or ``region_a`` owes ``region_b`` (negative).

    Equals the balance of ``CLR:{a}:{b}``; ``CLR:{b}:{a}`` always holds the negation.
    """
    code = clearing_account(region_a, region_b).code
    rows = store_balances.balances(conn, as_of=as_of, codes=[code])
    return rows[0].balance if rows else 0


def account_balances(conn: sa.Connection, as_of: date, **filters: str) -> list[Balance]:
    """Balances of accounts filtered by ``kind``, ``region`` or ``fund_pay_type``."""
    return store_balances.balances(
        conn,
        as_of=as_of,
        kind=filters.get("kind"),
        region=filters.get("region"),
        fund_pay_type=filters.get("fund_pay_type"),
    )


rollup = store_balances.rollup


def rollup_exclusive(engine: sa.Engine, lock_key: int) -> int | None:
    """One :func:`rollup` in its own transaction under the advisory lock ``lock_key``; ``None``
    (nothing done) while another process holds it — several workers, one roll-up at a time."""
    with engine.begin() as conn:
        got = conn.execute(
            sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": lock_key}
        ).scalar_one()
        if not got:
            return None
        return rollup(conn)


verify = store_checks.verify
verify_since = store_verify.verify_since
verify_full = store_verify.verify_full
daily_movements = store_balances.daily_movements
flows = store_balances.flows
