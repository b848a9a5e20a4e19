"""SQL of the fund ledger (基金账务): tables, chain insertion, roll-up, balances, checks.

Every function runs in the caller's transaction (``conn``) and opens none of its own.
Design notes (see docs/ledger.md):

- ``ledger_transfer`` has no foreign key to ``ledger_account``: an FK check takes a KEY SHARE
  lock on the fund's account row in every settlement, which turns the fund row into the hot spot
  DESIGN §6 forbids. Accounts are created idempotently (``ON CONFLICT DO NOTHING``, which takes
  no row lock) and :func:`verify` checks that every transfer names a known account.
- Balances are derived: ``ledger_balance_daily`` holds folded movements for every transfer
  written by a transaction older than the roll-up watermark (``xid`` < ``xid_watermark``); the
  rest is summed live. One statement reads both, so a balance is exact at any moment.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from yibao.db import hot
from yibao.ledger.model import (
    Account,
    AccountFlags,
    AccountKind,
    Chain,
    LedgerConflict,
    LedgerError,
    Side,
    Transfer,
)

metadata = sa.MetaData()

ledger_account = sa.Table(
    "ledger_account",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text),
    sa.Column("region", sa.Text),
    sa.Column("normal_side", sa.Text),
    sa.Column("name", sa.Text),
    sa.Column("fund_pay_type", sa.Text),
    sa.Column("counterpart_region", sa.Text),
    sa.Column("owner", sa.Text),
    sa.Column("flags", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

ledger_chain = sa.Table(
    "ledger_chain",
    metadata,
    sa.Column("chain_id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text),
    sa.Column("value_date", sa.Date),
    sa.Column("setl_id", sa.Text),
    sa.Column("msgid", sa.Text),
    sa.Column("fixmedins_code", sa.Text),
    sa.Column("reverses", sa.Text),
    sa.Column("transfer_count", sa.Integer),
    sa.Column("total", sa.BigInteger),
    sa.Column("fingerprint", sa.Text),
    sa.Column("memo", pg.JSONB),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

ledger_transfer = sa.Table(
    "ledger_transfer",
    metadata,
    sa.Column("seq", sa.BigInteger),
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("chain_id", sa.Text),
    sa.Column("debit_account", sa.Text),
    sa.Column("credit_account", sa.Text),
    sa.Column("amount", sa.BigInteger),
    sa.Column("code", sa.Text),
    sa.Column("fund_pay_type", sa.Text),
    sa.Column("reverses", sa.Text),
    sa.Column("value_date", sa.Date),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

ledger_balance_daily = sa.Table(
    "ledger_balance_daily",
    metadata,
    sa.Column("account_code", sa.Text, primary_key=True),
    sa.Column("value_date", sa.Date, primary_key=True),
    sa.Column("debits", sa.BigInteger),
    sa.Column("credits", sa.BigInteger),
    sa.Column("transfers", sa.BigInteger),
)


def _account_row(a: Account) -> dict[str, object]:
    return {
        "code": a.code,
        "kind": a.kind.value,
        "region": a.region,
        "normal_side": a.normal_side.value,
        "name": a.name,
        "fund_pay_type": a.fund_pay_type,
        "counterpart_region": a.counterpart_region,
        "owner": a.owner,
        "flags": int(a.flags),
    }


def ensure_accounts(conn: sa.Connection, accounts: Sequence[Account]) -> None:
    """Create missing accounts (no lock on existing ones); refuse closed accounts (已销户)."""
    if not accounts:
        return
    ins = (
        pg.insert(ledger_account)
        .values([_account_row(a) for a in accounts])
        .on_conflict_do_nothing(index_elements=["code"])
    )
    conn.execute(ins)
    closed = conn.execute(
        sa.select(ledger_account.c.code).where(
            ledger_account.c.code.in_([a.code for a in accounts]),
            ledger_account.c.flags.op("&")(int(AccountFlags.CLOSED)) != 0,
        )
    ).scalars()
    names = sorted(closed)
    if names:
        raise LedgerError(f"account closed (账户已关闭): {', '.join(names)}")


def set_account_flags(conn: sa.Connection, code: str, flags: AccountFlags) -> None:
    """Change an account's flags (e.g. close it); the account must exist."""
    res = conn.execute(
        ledger_account.update().where(ledger_account.c.code == code).values(flags=int(flags))
    )
    if res.rowcount != 1:
        raise LedgerError(f"account {code}: not found (账户不存在)")


@dataclass(frozen=True, slots=True)
class PostResult:
    """Outcome of posting a chain: ``created`` is False for an identical retry."""

    chain_id: str
    created: bool
    transfer_ids: tuple[str, ...]
    total: int


def insert_chain(conn: sa.Connection, chain: Chain) -> PostResult:
    """Post a chain atomically in the caller's transaction, idempotently on ``chain_id``.

    An identical retry returns the stored chain and writes nothing; the same id with different
    content raises :class:`LedgerConflict`. A unique violation on a transfer id or on
    ``reverses`` also raises :class:`LedgerConflict` (the caller's transaction is then aborted).
    """
    if not chain.transfers:
        raise LedgerError(f"chain {chain.chain_id}: no transfers (空记账链)")
    fp = chain.fingerprint()
    if chain.reverses is not None:
        other = conn.execute(
            sa.select(ledger_chain.c.chain_id).where(ledger_chain.c.reverses == chain.reverses)
        ).scalar_one_or_none()
        if other is not None and other != chain.chain_id:
            raise LedgerConflict(
                f"chain {chain.reverses} was already reversed by {other} (已冲销，不能重复冲销)"
            )
    accounts = chain.accounts()
    params: dict[str, object] = {
        "a_code": [a.code for a in accounts],
        "a_kind": [a.kind.value for a in accounts],
        "a_region": [a.region for a in accounts],
        "a_side": [a.normal_side.value for a in accounts],
        "a_name": [a.name for a in accounts],
        "a_fpt": [a.fund_pay_type for a in accounts],
        "a_cp": [a.counterpart_region for a in accounts],
        "a_owner": [a.owner for a in accounts],
        "a_flags": [int(a.flags) for a in accounts],
        "chain_id": chain.chain_id,
        "kind": chain.kind,
        "value_date": chain.value_date,
        "setl_id": chain.setl_id,
        "msgid": chain.msgid,
        "fix": chain.fixmedins_code,
        "reverses": chain.reverses,
        "n": len(chain.transfers),
        "total": chain.total,
        "fp": fp,
        "memo": json.dumps(dict(chain.memo), ensure_ascii=False, default=str),  # CAST AS jsonb
        "t_id": [t.id for t in chain.transfers],
        "t_debit": [t.debit.code for t in chain.transfers],
        "t_credit": [t.credit.code for t in chain.transfers],
        "t_amount": [t.amount for t in chain.transfers],
        "t_code": [t.code for t in chain.transfers],
        "t_fpt": [t.fund_pay_type for t in chain.transfers],
        "t_rev": [t.reverses for t in chain.transfers],
    }
    ids = tuple(t.id for t in chain.transfers)
    try:
        row = hot.one_dict(conn, _POST_CHAIN, params)
        assert row is not None
        if row["closed"]:
            raise LedgerError(f"account closed (账户已关闭): {', '.join(sorted(row['closed']))}")
        if row["created"]:
            return PostResult(chain.chain_id, True, ids, chain.total)
        stored = row["stored_fp"]
        if stored is None:  # a concurrent duplicate committed during this statement
            stored = conn.execute(
                sa.select(ledger_chain.c.fingerprint).where(
                    ledger_chain.c.chain_id == chain.chain_id
                )
            ).scalar_one()
    except hot.INTEGRITY_ERRORS as exc:
        raise LedgerConflict(
            f"chain {chain.chain_id}: a transfer id or reversal is already used ({exc})"
        ) from exc
    if stored != fp:
        raise LedgerConflict(
            f"chain {chain.chain_id}: already posted with different content (同一记账ID内容不一致)"
        )
    return PostResult(chain.chain_id, False, ids, chain.total)


# One round trip per chain: create missing accounts (no lock on existing rows), refuse closed
# accounts, insert the chain head unless it exists, and its transfers only if the head is new.
_POST_CHAIN = """
    WITH acc AS (
      INSERT INTO ledger_account (code, kind, region, normal_side, name, fund_pay_type,
                                  counterpart_region, owner, flags)
      SELECT * FROM unnest(CAST(%(a_code)s AS text[]), CAST(%(a_kind)s AS text[]),
                           CAST(%(a_region)s AS text[]), CAST(%(a_side)s AS text[]),
                           CAST(%(a_name)s AS text[]), CAST(%(a_fpt)s AS text[]),
                           CAST(%(a_cp)s AS text[]), CAST(%(a_owner)s AS text[]),
                           CAST(%(a_flags)s AS int[]))
      ON CONFLICT (code) DO NOTHING
      RETURNING code
    ), closed AS (
      SELECT code FROM ledger_account
       WHERE code = ANY(CAST(%(a_code)s AS text[])) AND flags & 4 <> 0
    ), ch AS (
      INSERT INTO ledger_chain (chain_id, kind, value_date, setl_id, msgid, fixmedins_code,
                                reverses, transfer_count, total, fingerprint, memo)
      SELECT %(chain_id)s, %(kind)s, %(value_date)s, %(setl_id)s, %(msgid)s, %(fix)s,
             %(reverses)s, %(n)s, %(total)s, %(fp)s,
             CAST(%(memo)s AS jsonb)
       WHERE NOT EXISTS (SELECT 1 FROM closed)
      ON CONFLICT (chain_id) DO NOTHING
      RETURNING chain_id
    ), tr AS (
      INSERT INTO ledger_transfer (id, chain_id, debit_account, credit_account, amount, code,
                                   fund_pay_type, reverses, value_date)
      SELECT u.id, ch.chain_id, u.debit, u.credit, u.amount, u.code, u.fpt, u.rev, %(value_date)s
        FROM ch, unnest(CAST(%(t_id)s AS text[]), CAST(%(t_debit)s AS text[]),
                        CAST(%(t_credit)s AS text[]), CAST(%(t_amount)s AS bigint[]),
                        CAST(%(t_code)s AS text[]), CAST(%(t_fpt)s AS text[]),
                        CAST(%(t_rev)s AS text[])) AS u(id, debit, credit, amount, code, fpt, rev)
      RETURNING 1
    )
    SELECT (SELECT COUNT(*) FROM ch) AS created,
           (SELECT array_agg(code) FROM closed) AS closed,
           (SELECT fingerprint FROM ledger_chain WHERE chain_id = %(chain_id)s) AS stored_fp,
           (SELECT COUNT(*) FROM tr) AS transfers,
           (SELECT COUNT(*) FROM acc) AS new_accounts
    """


def _account_from_row(row: sa.Row[tuple[object, ...]] | sa.RowMapping) -> Account:
    m = row if isinstance(row, sa.RowMapping) else row._mapping
    return Account(
        code=str(m["code"]),
        kind=AccountKind(m["kind"]),
        region=str(m["region"]),
        normal_side=Side(m["normal_side"]),
        name=str(m["name"]),
        fund_pay_type=str(m["fund_pay_type"]),
        counterpart_region=str(m["counterpart_region"]),
        owner=str(m["owner"]),
        flags=AccountFlags(int(str(m["flags"]))),
    )


def load_chain(conn: sa.Connection, chain_id: str) -> Chain | None:
    """A posted chain with its transfers and accounts, or None."""
    head = conn.execute(
        sa.select(ledger_chain).where(ledger_chain.c.chain_id == chain_id)
    ).one_or_none()
    if head is None:
        return None
    rows = conn.execute(
        sa.select(ledger_transfer)
        .where(ledger_transfer.c.chain_id == chain_id)
        .order_by(ledger_transfer.c.seq)
    ).all()
    if len(rows) < head.transfer_count:  # an archived month (yibao.ledger.retention)
        rows = conn.execute(
            sa.text("SELECT * FROM ledger_transfer_all WHERE chain_id = :c ORDER BY seq"),
            {"c": chain_id},
        ).all()
    codes = {r.debit_account for r in rows} | {r.credit_account for r in rows}
    accounts = {
        a.code: a
        for a in (
            _account_from_row(r)
            for r in conn.execute(
                sa.select(ledger_account).where(ledger_account.c.code.in_(codes))
            ).mappings()
        )
    }
    transfers = tuple(
        Transfer(
            id=r.id,
            debit=accounts[r.debit_account],
            credit=accounts[r.credit_account],
            amount=int(r.amount),
            code=r.code,
            fund_pay_type=r.fund_pay_type,
            reverses=r.reverses,
        )
        for r in rows
    )
    return Chain(
        chain_id=head.chain_id,
        kind=head.kind,
        value_date=head.value_date,
        transfers=transfers,
        setl_id=head.setl_id,
        msgid=head.msgid,
        fixmedins_code=head.fixmedins_code,
        reverses=head.reverses,
        memo=dict(head.memo or {}),
    )


def reversal_of(conn: sa.Connection, chain_id: str) -> str | None:
    """The chain that reverses ``chain_id``, if any."""
    return conn.execute(
        sa.select(ledger_chain.c.chain_id).where(ledger_chain.c.reverses == chain_id)
    ).scalar_one_or_none()
