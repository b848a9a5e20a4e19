"""SQL of the ledger's derived figures (余额与发生额): the roll-up (日结) and balances, daily
movements and flows, each exact at any moment (folded days plus live transfers in one statement).

Every function runs in the caller's transaction. Tables and postings: :mod:`yibao.ledger.store`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from yibao.ledger.model import (
    LedgerError,
    Side,
)

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
