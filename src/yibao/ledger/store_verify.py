"""Incremental ledger checks (增量核对) from the stored watermark ``verified_xid``.

Every chain and transfer written by a transaction below the watermark has passed the checks;
:func:`verify_since` checks only what was written from it up to the oldest transaction still
running (``pg_snapshot_xmin``: everything below is final) — the same checks as
:func:`yibao.ledger.store_checks.verify`, restricted to the new chains, their transfers, the
accounts they touch and the (account, day) roll-up rows they fold into — and, when all is well,
moves the watermark there. A full check (:func:`yibao.ledger.store_checks.verify`) is still
there for an audit (``yibao ledger verify --full``); a row changed behind the watermark is found
only by it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from yibao.ledger.store_checks import VerifyReport, verify

# the new chains and transfers: written in [wm, hz)
_NEW = """
WITH st AS (SELECT CAST(:wm AS text)::xid8 AS wm, CAST(:hz AS text)::xid8 AS hz),
nt AS (SELECT t.* FROM ledger_transfer t, st WHERE t.xid >= st.wm AND t.xid < st.hz),
nc AS (
  SELECT c.chain_id FROM ledger_chain c, st WHERE c.xid >= st.wm AND c.xid < st.hz
  UNION SELECT chain_id FROM nt
),
ne AS (
  SELECT id, chain_id, debit_account AS account_code, amount, value_date FROM nt
  UNION ALL SELECT id, chain_id, credit_account, -amount, value_date FROM nt
)
"""

_CHECKS = {
    "counts": "SELECT (SELECT COUNT(*) FROM nt), (SELECT COUNT(*) FROM nc)",
    "entry_sum": "SELECT COALESCE(SUM(amount), 0) FROM ne",
    # a chain's transfers are written in one transaction: all of a new chain's are new
    "unbalanced_chains": """
        SELECT chain_id FROM ne GROUP BY chain_id HAVING SUM(amount) <> 0""",
    # per new chain, its transfers by the chain index (never a join over every transfer)
    "incomplete_chains": """
        SELECT c.chain_id FROM ledger_chain c
         CROSS JOIN LATERAL (SELECT COUNT(*) AS n, COALESCE(SUM(t.amount), 0) AS total
                               FROM ledger_transfer t WHERE t.chain_id = c.chain_id) x
         WHERE c.chain_id IN (SELECT chain_id FROM nc)
           AND (x.n <> c.transfer_count OR x.total <> c.total)""",
    "bad_reversals": """
        SELECT r.id FROM nt r
          LEFT JOIN ledger_transfer_all o ON o.id = r.reverses
         WHERE r.reverses IS NOT NULL
           AND (o.id IS NULL OR o.amount <> r.amount OR o.debit_account <> r.credit_account
                OR o.credit_account <> r.debit_account)""",
    "unknown_accounts": """
        SELECT DISTINCT e.account_code FROM ne e
         WHERE NOT EXISTS (SELECT 1 FROM ledger_account a WHERE a.code = e.account_code)""",
    "rollup_mismatches": """
        , touched AS (SELECT DISTINCT account_code, value_date FROM ne),
        rw AS (SELECT xid_watermark AS rwm FROM ledger_rollup_state WHERE id = 1),
        actual AS (
          SELECT k.account_code, k.value_date,
                 (SELECT COALESCE(SUM(t.amount), 0) FROM ledger_transfer t, rw
                   WHERE t.debit_account = k.account_code AND t.value_date = k.value_date
                     AND t.xid < rw.rwm) AS d,
                 (SELECT COALESCE(SUM(t.amount), 0) FROM ledger_transfer t, rw
                   WHERE t.credit_account = k.account_code AND t.value_date = k.value_date
                     AND t.xid < rw.rwm) AS c
            FROM touched k
        )
        SELECT a.account_code || ' ' || a.value_date || ': rolled '
               || COALESCE(b.debits, 0) || '/' || COALESCE(b.credits, 0)
               || ' actual ' || a.d || '/' || a.c
          FROM actual a LEFT JOIN ledger_balance_daily b
            ON b.account_code = a.account_code AND b.value_date = a.value_date
         WHERE COALESCE(b.debits, 0) <> a.d OR COALESCE(b.credits, 0) <> a.c""",
}


def _horizon(conn: sa.Connection) -> tuple[str, str]:
    """(watermark, horizon) under the single verification lock."""
    wm = conn.execute(
        sa.text("SELECT verified_xid::text FROM ledger_rollup_state WHERE id = 1 FOR UPDATE")
    ).scalar_one()
    hz = conn.execute(
        sa.text(
            "SELECT GREATEST(pg_snapshot_xmin(pg_current_snapshot()), CAST(:wm AS text)::xid8)"
            "::text"
        ),
        {"wm": wm},
    ).scalar_one()
    return str(wm), str(hz)


def verify_since(conn: sa.Connection) -> VerifyReport:
    """Check what was written since the watermark; move it up if all is well."""
    wm, hz = _horizon(conn)
    p = {"wm": wm, "hz": hz}

    def run(key: str) -> sa.CursorResult[Any]:
        return conn.execute(sa.text(_NEW + _CHECKS[key]), p)

    rep = VerifyReport()
    counts: tuple[Any, ...] = tuple(run("counts").one())
    rep.transfers, rep.chains = int(counts[0]), int(counts[1])
    rep.entry_sum = int(run("entry_sum").scalar_one())
    rep.unbalanced_chains = [str(x) for x in run("unbalanced_chains").scalars()]
    rep.incomplete_chains = [str(x) for x in run("incomplete_chains").scalars()]
    rep.bad_reversals = [str(x) for x in run("bad_reversals").scalars()]
    rep.unknown_accounts = [str(x) for x in run("unknown_accounts").scalars()]
    rep.rollup_mismatches = [str(x) for x in run("rollup_mismatches").scalars()]
    if rep.ok:
        _advance(conn, hz)
    return rep


def verify_full(conn: sa.Connection) -> VerifyReport:
    """Every check over the whole history; moves the watermark up when all is well."""
    _, hz = _horizon(conn)
    rep = verify(conn)
    if rep.ok:
        _advance(conn, hz)
    return rep


def _advance(conn: sa.Connection, hz: str) -> None:
    conn.execute(
        sa.text(
            "UPDATE ledger_rollup_state SET verified_xid = CAST(:hz AS text)::xid8,"
            " verified_at = now() WHERE id = 1"
        ),
        {"hz": hz},
    )
