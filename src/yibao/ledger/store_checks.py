"""The ledger's checks (账务核对): every chain balanced, every transfer on a known account, the
roll-up equal to the transfers it folded, limits respected (:func:`verify`).

Runs in the caller's transaction. Tables and postings: :mod:`yibao.ledger.store`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

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


def _dropped_periods(conn: sa.Connection) -> list[str]:
    """Months of transfers archived, dumped and dropped (see :mod:`yibao.ledger.retention`)."""
    return [
        str(p)
        for p in conn.execute(
            sa.text(
                "SELECT period FROM retention_archive "
                "WHERE source = 'ledger_transfer' AND dropped_at IS NOT NULL"
            )
        ).scalars()
    ]


def verify(conn: sa.Connection) -> VerifyReport:
    """Zero-sum, chain completeness, mirror and roll-up consistency checks."""
    rep = VerifyReport()
    # the whole history: live transfers and archived months still in the database; months whose
    # archive was dumped and dropped are left out of the checks that need their transfers
    gone = {"gone": _dropped_periods(conn)}
    rep.transfers, rep.chains = conn.execute(
        sa.text(
            "SELECT (SELECT COUNT(*) FROM ledger_transfer_all), (SELECT COUNT(*) FROM ledger_chain)"
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
                  LEFT JOIN ledger_transfer_all t ON t.chain_id = c.chain_id
                 WHERE to_char(c.value_date, 'YYYYMM') <> ALL(CAST(:gone AS text[]))
                 GROUP BY c.chain_id, c.transfer_count, c.total
                HAVING COUNT(t.id) <> c.transfer_count OR COALESCE(SUM(t.amount), 0) <> c.total
                """
            ),
            gone,
        ).scalars()
    )
    rep.bad_reversals = list(
        conn.execute(
            sa.text(
                """
                SELECT r.id FROM ledger_transfer_all r
                  JOIN ledger_chain rc ON rc.chain_id = r.chain_id
                  LEFT JOIN ledger_chain oc ON oc.chain_id = rc.reverses
                  LEFT JOIN ledger_transfer_all o ON o.id = r.reverses
                 WHERE r.reverses IS NOT NULL
                   AND (o.id IS NULL OR o.amount <> r.amount
                        OR o.debit_account <> r.credit_account
                        OR o.credit_account <> r.debit_account)
                   AND (o.id IS NOT NULL OR oc.value_date IS NULL
                        OR to_char(oc.value_date, 'YYYYMM') <> ALL(CAST(:gone AS text[])))
                """
            ),
            gone,
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
                 WHERE (a.d IS DISTINCT FROM b.debits OR a.c IS DISTINCT FROM b.credits)
                   AND to_char(COALESCE(a.value_date, b.value_date), 'YYYYMM')
                       <> ALL(CAST(:gone AS text[]))
                """
            ),
            gone,
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
