"""Incremental ledger checks (增量核对) from the stored watermark ``verified_xid``.

Every chain and transfer written by a transaction below the watermark has passed the checks;
:func:`verify_since` checks only what was written from it up to the oldest transaction still
running (``pg_snapshot_xmin``: everything below is final) — the same checks as
:func:`yibao.ledger.store_checks.verify`, restricted to the new chains, their transfers and the
accounts they touch; the roll-up rows changed since the last verification must have changed by
exactly the transfers folded since then — and, when all is well, moves the watermarks there. A full check (:func:`yibao.ledger.store_checks.verify`) is still
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
    # the roll-up rows changed since the last verification must have changed by exactly the
    # transfers folded since then ([verified_rollup_xid, xid_watermark)): O(new), not whole days
    "rollup_mismatches": """
        , rw AS (SELECT verified_rollup_xid AS vr, xid_watermark AS rwm
                   FROM ledger_rollup_state WHERE id = 1),
        folded AS (
          SELECT account_code, value_date, SUM(d) AS d, SUM(c) AS c FROM (
            SELECT t.debit_account AS account_code, t.value_date, t.amount AS d, 0 AS c
              FROM ledger_transfer t, rw WHERE t.xid >= rw.vr AND t.xid < rw.rwm
            UNION ALL
            SELECT t.credit_account, t.value_date, 0, t.amount
              FROM ledger_transfer t, rw WHERE t.xid >= rw.vr AND t.xid < rw.rwm
          ) x GROUP BY account_code, value_date
        ),
        changed AS (
          SELECT account_code, value_date, debits - verified_debits AS d,
                 credits - verified_credits AS c
            FROM ledger_balance_daily
           WHERE debits <> verified_debits OR credits <> verified_credits
        )
        SELECT COALESCE(f.account_code, b.account_code) || ' '
               || COALESCE(f.value_date, b.value_date) || ': rolled since last check '
               || COALESCE(b.d, 0) || '/' || COALESCE(b.c, 0)
               || ' folded ' || COALESCE(f.d, 0) || '/' || COALESCE(f.c, 0)
          FROM folded f FULL JOIN changed b
            ON b.account_code = f.account_code AND b.value_date = f.value_date
         WHERE COALESCE(b.d, 0) <> COALESCE(f.d, 0) OR COALESCE(b.c, 0) <> COALESCE(f.c, 0)""",
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
    """Everything below ``hz`` and the roll-up as it stands have passed: remember both."""
    conn.execute(
        sa.text(
            "UPDATE ledger_balance_daily SET verified_debits = debits,"
            " verified_credits = credits"
            " WHERE debits <> verified_debits OR credits <> verified_credits"
        )
    )
    conn.execute(
        sa.text(
            "UPDATE ledger_rollup_state SET verified_xid = CAST(:hz AS text)::xid8,"
            " verified_rollup_xid = xid_watermark, verified_at = now() WHERE id = 1"
        ),
        {"hz": hz},
    )
