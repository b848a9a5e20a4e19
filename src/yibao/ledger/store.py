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
from dataclasses import dataclass, field
from datetime import date

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


# --------------------------------------------------------------------------- roll-up (日结)


def rollup(conn: sa.Connection) -> int:
    """Fold transfers of finished transactions into ``ledger_balance_daily``; return how many.

    Takes the single roll-up lock (``FOR UPDATE`` on ``ledger_rollup_state``), then the oldest
    transaction id still running: every transfer written by an older transaction is final, so
    the range ``[watermark, horizon)`` is folded exactly once. Postings never wait for it.
    """
    watermark = conn.execute(
        sa.text("SELECT xid_watermark::text FROM ledger_rollup_state WHERE id = 1 FOR UPDATE")
    ).scalar_one()
    horizon = conn.execute(
        sa.text(
            "SELECT GREATEST(pg_snapshot_xmin(pg_current_snapshot()), "
            "CAST(:wm AS text)::xid8)::text"
        ),
        {"wm": watermark},
    ).scalar_one()
    counted = conn.execute(
        sa.text(
            """
            WITH moved AS (
              SELECT debit_account AS account_code, value_date, amount AS d, 0::bigint AS c
                FROM ledger_transfer
               WHERE xid >= CAST(:wm AS text)::xid8 AND xid < CAST(:hz AS text)::xid8
              UNION ALL
              SELECT credit_account, value_date, 0::bigint, amount
                FROM ledger_transfer
               WHERE xid >= CAST(:wm AS text)::xid8 AND xid < CAST(:hz AS text)::xid8
            ), folded AS (
              INSERT INTO ledger_balance_daily AS b (account_code, value_date, debits, credits,
                                                    transfers)
              SELECT account_code, value_date, SUM(d), SUM(c), COUNT(*)
                FROM moved GROUP BY account_code, value_date
              ON CONFLICT (account_code, value_date) DO UPDATE
                 SET debits = b.debits + EXCLUDED.debits,
                     credits = b.credits + EXCLUDED.credits,
                     transfers = b.transfers + EXCLUDED.transfers
              RETURNING transfers
            )
            SELECT COUNT(*) FROM moved
            """
        ),
        {"wm": watermark, "hz": horizon},
    ).scalar_one()
    conn.execute(
        sa.text(
            "UPDATE ledger_rollup_state SET xid_watermark = CAST(:hz AS text)::xid8, "
            "rolled_at = now() WHERE id = 1"
        ),
        {"hz": horizon},
    )
    return int(counted) // 2


# --------------------------------------------------------------------------- balances (余额)

# Movements per account and day: the rolled part plus the live tail, in one snapshot.
_MOVEMENTS = """
WITH st AS (SELECT xid_watermark AS wm FROM ledger_rollup_state WHERE id = 1),
mv AS (
  SELECT account_code, value_date, debits, credits
    FROM ledger_balance_daily WHERE value_date <= :as_of
  UNION ALL
  SELECT t.debit_account, t.value_date, t.amount, 0
    FROM ledger_transfer t, st WHERE t.xid >= st.wm AND t.value_date <= :as_of
  UNION ALL
  SELECT t.credit_account, t.value_date, 0, t.amount
    FROM ledger_transfer t, st WHERE t.xid >= st.wm AND t.value_date <= :as_of
)
"""


@dataclass(frozen=True, slots=True)
class Balance:
    """An account's position (余额): totals in fen and the balance on its normal side."""

    account_code: str
    kind: str
    region: str
    fund_pay_type: str
    normal_side: str
    debits: int
    credits: int

    @property
    def balance(self) -> int:
        """Credits − debits for credit-normal accounts, debits − credits otherwise."""
        if self.normal_side == Side.CREDIT.value:
            return self.credits - self.debits
        return self.debits - self.credits


def balances(
    conn: sa.Connection,
    *,
    as_of: date,
    codes: Sequence[str] | None = None,
    kind: str | None = None,
    region: str | None = None,
    fund_pay_type: str | None = None,
) -> list[Balance]:
    """Account balances at the end of ``as_of`` (value date), filtered as asked."""
    where = ["TRUE"]
    params: dict[str, object] = {"as_of": as_of}
    if codes is not None:
        where.append("a.code = ANY(:codes)")
        params["codes"] = list(codes)
    if kind is not None:
        where.append("a.kind = :kind")
        params["kind"] = kind
    if region is not None:
        where.append("a.region = :region")
        params["region"] = region
    if fund_pay_type is not None:
        where.append("a.fund_pay_type = :fpt")
        params["fpt"] = fund_pay_type
    sql = (
        _MOVEMENTS
        + f"""
    SELECT a.code, a.kind, a.region, a.fund_pay_type, a.normal_side,
           COALESCE(SUM(mv.debits), 0) AS debits, COALESCE(SUM(mv.credits), 0) AS credits
      FROM ledger_account a LEFT JOIN mv ON mv.account_code = a.code
     WHERE {" AND ".join(where)}
     GROUP BY a.code, a.kind, a.region, a.fund_pay_type, a.normal_side
     ORDER BY a.code
    """
    )
    return [
        Balance(
            r.code, r.kind, r.region, r.fund_pay_type, r.normal_side, int(r.debits), int(r.credits)
        )
        for r in conn.execute(sa.text(sql), params)
    ]


@dataclass(frozen=True, slots=True)
class DailyMovement:
    """One account's movement on one value date and its closing balance (日余额)."""

    account_code: str
    value_date: date
    debits: int
    credits: int
    closing_balance: int


def daily_movements(
    conn: sa.Connection,
    *,
    day_from: date,
    day_to: date,
    kind: str | None = None,
    region: str | None = None,
    fund_pay_type: str | None = None,
    codes: Sequence[str] | None = None,
) -> list[DailyMovement]:
    """Per account and value date in ``[day_from, day_to]``: debits, credits, closing balance."""
    where = ["TRUE"]
    params: dict[str, object] = {"as_of": day_to, "day_from": day_from}
    if kind is not None:
        where.append("a.kind = :kind")
        params["kind"] = kind
    if region is not None:
        where.append("a.region = :region")
        params["region"] = region
    if fund_pay_type is not None:
        where.append("a.fund_pay_type = :fpt")
        params["fpt"] = fund_pay_type
    if codes is not None:
        where.append("a.code = ANY(:codes)")
        params["codes"] = list(codes)
    sql = (
        _MOVEMENTS
        + f"""
    , per_day AS (
      SELECT mv.account_code, mv.value_date, SUM(mv.debits) AS debits,
             SUM(mv.credits) AS credits, a.normal_side
        FROM mv JOIN ledger_account a ON a.code = mv.account_code
       WHERE {" AND ".join(where)}
       GROUP BY mv.account_code, mv.value_date, a.normal_side
    ), running AS (
      SELECT account_code, value_date, debits, credits,
             SUM(CASE WHEN normal_side = 'credit' THEN credits - debits ELSE debits - credits END)
               OVER (PARTITION BY account_code ORDER BY value_date) AS closing
        FROM per_day
    )
    SELECT * FROM running WHERE value_date >= :day_from ORDER BY account_code, value_date
    """
    )
    return [
        DailyMovement(r.account_code, r.value_date, int(r.debits), int(r.credits), int(r.closing))
        for r in conn.execute(sa.text(sql), params)
    ]


@dataclass(frozen=True, slots=True)
class Flow:
    """Money moved on a region's funds (and personal accounts) by transfer code and side."""

    fund_pay_type: str  # the account's fund (310200 = every personal account of the region)
    period: date  # first day of the month (grain "month") or the day (grain "day")
    code: str
    side: str  # "credit" | "debit" (of the region's account)
    amount: int
    first_date: date  # earliest value date in the group


def flows(
    conn: sa.Connection, *, region: str, day_from: date, day_to: date, grain: str = "month"
) -> list[Flow]:
    """Sums of transfers on the region's fund and personal accounts, by fund, period, code and side.

    Reads the transfers themselves (not the daily roll-up, which has no codes); the indexes on
    (account, value_date) keep it to the period asked.
    """
    if grain not in ("month", "day"):
        raise LedgerError(f"grain: {grain!r} is not month or day")
    sql = """
    WITH acc AS (SELECT code, fund_pay_type FROM ledger_account
                  WHERE region = :region AND kind IN ('fund', 'personal')),
    e AS (
      SELECT acc.fund_pay_type, t.value_date, t.code, 'credit' AS side, t.amount
        FROM ledger_transfer t JOIN acc ON acc.code = t.credit_account
       WHERE t.value_date BETWEEN :f AND :t
      UNION ALL
      SELECT acc.fund_pay_type, t.value_date, t.code, 'debit', t.amount
        FROM ledger_transfer t JOIN acc ON acc.code = t.debit_account
       WHERE t.value_date BETWEEN :f AND :t
    )
    SELECT fund_pay_type, CAST(date_trunc(:grain, value_date) AS date) AS period, code, side,
           SUM(amount) AS amount, MIN(value_date) AS first_date
      FROM e GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    """
    return [
        Flow(r.fund_pay_type, r.period, r.code, r.side, int(r.amount), r.first_date)
        for r in conn.execute(
            sa.text(sql), {"region": region, "f": day_from, "t": day_to, "grain": grain}
        )
    ]


# --------------------------------------------------------------------------- checks (核对)


@dataclass(slots=True)
class VerifyReport:
    """Results of the ledger checks (账务核对); ``ok`` when every list is empty."""

    transfers: int = 0
    chains: int = 0
    entry_sum: int = 0
    unbalanced_chains: list[str] = field(default_factory=list)
    incomplete_chains: list[str] = field(default_factory=list)
    bad_reversals: list[str] = field(default_factory=list)
    unknown_accounts: list[str] = field(default_factory=list)
    rollup_mismatches: list[str] = field(default_factory=list)
    limit_violations: list[str] = field(default_factory=list)  # declared flags, reported only

    @property
    def ok(self) -> bool:
        return (
            self.entry_sum == 0
            and not self.unbalanced_chains
            and not self.incomplete_chains
            and not self.bad_reversals
            and not self.unknown_accounts
            and not self.rollup_mismatches
        )


def verify(conn: sa.Connection) -> VerifyReport:
    """Zero-sum, chain completeness, mirror and roll-up consistency checks."""
    rep = VerifyReport()
    rep.transfers, rep.chains = conn.execute(
        sa.text(
            "SELECT (SELECT COUNT(*) FROM ledger_transfer), (SELECT COUNT(*) FROM ledger_chain)"
        )
    ).one()
    rep.entry_sum = int(
        conn.execute(sa.text("SELECT COALESCE(SUM(amount), 0) FROM ledger_entry")).scalar_one()
    )
    rep.unbalanced_chains = list(
        conn.execute(
            sa.text("SELECT chain_id FROM ledger_entry GROUP BY chain_id HAVING SUM(amount) <> 0")
        ).scalars()
    )
    rep.incomplete_chains = list(
        conn.execute(
            sa.text(
                """
                SELECT c.chain_id FROM ledger_chain c
                  LEFT JOIN ledger_transfer t ON t.chain_id = c.chain_id
                 GROUP BY c.chain_id, c.transfer_count, c.total
                HAVING COUNT(t.id) <> c.transfer_count OR COALESCE(SUM(t.amount), 0) <> c.total
                """
            )
        ).scalars()
    )
    rep.bad_reversals = list(
        conn.execute(
            sa.text(
                """
                SELECT r.id FROM ledger_transfer r
                  LEFT JOIN ledger_transfer o ON o.id = r.reverses
                 WHERE r.reverses IS NOT NULL
                   AND (o.id IS NULL OR o.amount <> r.amount
                        OR o.debit_account <> r.credit_account
                        OR o.credit_account <> r.debit_account)
                """
            )
        ).scalars()
    )
    rep.unknown_accounts = list(
        conn.execute(
            sa.text(
                """
                SELECT DISTINCT e.account_code FROM ledger_entry e
                 WHERE NOT EXISTS (SELECT 1 FROM ledger_account a WHERE a.code = e.account_code)
                """
            )
        ).scalars()
    )
    rep.rollup_mismatches = [
        f"{r.account_code} {r.value_date}: rolled {r.rolled_d}/{r.rolled_c} "
        f"actual {r.actual_d}/{r.actual_c}"
        for r in conn.execute(
            sa.text(
                """
                WITH st AS (SELECT xid_watermark AS wm FROM ledger_rollup_state WHERE id = 1),
                actual AS (
                  SELECT e.account_code, e.value_date,
                         SUM(GREATEST(e.amount, 0)) AS d, SUM(GREATEST(-e.amount, 0)) AS c
                    FROM ledger_entry e, st WHERE e.xid < st.wm
                   GROUP BY e.account_code, e.value_date
                )
                SELECT COALESCE(a.account_code, b.account_code) AS account_code,
                       COALESCE(a.value_date, b.value_date) AS value_date,
                       b.debits AS rolled_d, b.credits AS rolled_c,
                       a.d AS actual_d, a.c AS actual_c
                  FROM actual a FULL JOIN ledger_balance_daily b
                    ON a.account_code = b.account_code AND a.value_date = b.value_date
                 WHERE a.d IS DISTINCT FROM b.debits OR a.c IS DISTINCT FROM b.credits
                """
            )
        )
    ]
    rep.limit_violations = [
        f"{r.code}: debits {r.d} credits {r.c}"
        for r in conn.execute(
            sa.text(
                """
                SELECT a.code, COALESCE(SUM(GREATEST(e.amount, 0)), 0) AS d,
                       COALESCE(SUM(GREATEST(-e.amount, 0)), 0) AS c, a.flags
                  FROM ledger_account a JOIN ledger_entry e ON e.account_code = a.code
                 WHERE a.flags & 3 <> 0
                 GROUP BY a.code, a.flags
                HAVING (a.flags & 1 <> 0 AND SUM(GREATEST(e.amount, 0)) > SUM(GREATEST(-e.amount, 0)))
                    OR (a.flags & 2 <> 0 AND SUM(GREATEST(-e.amount, 0)) > SUM(GREATEST(e.amount, 0)))
                """
            )
        )
    ]
    return rep
