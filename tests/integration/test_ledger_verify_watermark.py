"""Incremental ledger verification (增量核对) from the stored watermark (ADR 0018): only what was
written since the last verified point is checked; a row changed behind it is found by --full."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy import Engine

from yibao.ledger import SettlementPosting, post_reversal, post_settlement, rollup
from yibao.ledger.service import verify_full, verify_since

DAY = date(2026, 11, 22)


def posting(setl_id: str, fund: int = 12_000, day: date = DAY) -> SettlementPosting:
    return SettlementPosting(
        setl_id=setl_id,
        msgid="M-" + setl_id,
        fixmedins_code="H44010100001",
        insuplc_admdvs="440100",
        mdtrtarea_admvs="440100",
        insutype="310",
        value_date=day,
        fund_lines=[("310100", fund), ("330100", 3_000)],
        acct_pay=500,
        psn_no="P1",
    )


def tamper(engine: Engine, transfer_id: str) -> None:
    """Change a stored amount behind the append-only trigger (what verification must catch)."""
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE ledger_transfer DISABLE TRIGGER USER"))
        conn.execute(
            sa.text("UPDATE ledger_transfer SET amount = amount + 1 WHERE id = :i"),
            {"i": transfer_id},
        )
        conn.execute(sa.text("ALTER TABLE ledger_transfer ENABLE TRIGGER USER"))


def watermark(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                sa.text("SELECT verified_xid::text FROM ledger_rollup_state WHERE id = 1")
            ).scalar_one()
        )


def test_incremental_verify_checks_only_what_is_new_and_moves_the_watermark(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        for i in range(3):
            post_settlement(conn, posting(f"S{i}"))
    with engine.begin() as conn:
        rep = verify_since(conn)
    assert rep.ok and rep.chains == 3 and rep.transfers == 9
    first = watermark(engine)
    assert first != "0"
    with engine.begin() as conn:
        again = verify_since(conn)
    assert again.ok and again.chains == 0 and again.transfers == 0  # nothing new
    with engine.begin() as conn:
        post_settlement(conn, posting("S9"))
        post_reversal(conn, "S0", "R0", msgid="M-R0", value_date=DAY)
    with engine.begin() as conn:
        rollup(conn)
    with engine.begin() as conn:
        rep = verify_since(conn)
    assert rep.ok and rep.chains == 2 and rep.transfers == 6
    assert int(watermark(engine)) > int(first)


def test_a_tampered_row_after_the_watermark_is_found_and_the_watermark_stays(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        post_settlement(conn, posting("OLD"))
    with engine.begin() as conn:
        assert verify_since(conn).ok
    before = watermark(engine)
    with engine.begin() as conn:
        post_settlement(conn, posting("NEW"))
    tamper(engine, "setl:NEW/1")
    with engine.begin() as conn:
        rep = verify_since(conn)
    assert not rep.ok and rep.incomplete_chains == ["setl:NEW"]
    assert watermark(engine) == before  # a failed check does not move it
    with engine.begin() as conn:
        assert not verify_since(conn).ok  # found again until repaired


def test_a_tampered_row_behind_the_watermark_is_found_by_full(engine: Engine) -> None:
    with engine.begin() as conn:
        post_settlement(conn, posting("OLD"))
    with engine.begin() as conn:
        rollup(conn)
    with engine.begin() as conn:
        assert verify_since(conn).ok
    tamper(engine, "setl:OLD/1")
    with engine.begin() as conn:  # another day: no roll-up row shared with OLD
        post_settlement(conn, posting("NEW", fund=8_000, day=date(2026, 11, 23)))
    with engine.begin() as conn:
        assert verify_since(conn).ok  # only NEW is looked at
    with engine.begin() as conn:
        full = verify_full(conn)
    assert not full.ok
    assert full.incomplete_chains == ["setl:OLD"] and full.rollup_mismatches


def test_a_roll_up_row_changed_since_the_last_check_is_found_without_new_transfers(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        post_settlement(conn, posting("A"))
    with engine.begin() as conn:
        rollup(conn)
    with engine.begin() as conn:
        assert verify_since(conn).ok
        conn.execute(
            sa.text(
                "UPDATE ledger_balance_daily SET debits = debits + 7"
                " WHERE account_code = 'PAY:H44010100001'"
            )
        )
    with engine.begin() as conn:
        rep = verify_since(conn)
    assert not rep.ok and rep.chains == 0
    assert [m.split(":")[0] for m in rep.rollup_mismatches] == ["PAY"]


def test_folding_after_a_check_is_verified_by_the_next(engine: Engine) -> None:
    with engine.begin() as conn:
        post_settlement(conn, posting("A"))
    with engine.begin() as conn:
        assert verify_since(conn).ok  # nothing rolled yet
    with engine.begin() as conn:
        post_settlement(conn, posting("B", fund=9_000))
    with engine.begin() as conn:
        rollup(conn)  # folds A (already verified as a chain) and B
    with engine.begin() as conn:
        rep = verify_since(conn)
    assert rep.ok and rep.chains == 1
    with engine.begin() as conn:
        rollup(conn)
        assert verify_since(conn).ok and verify_full(conn).ok


def test_rollup_mismatch_on_a_day_touched_by_new_transfers_is_found(engine: Engine) -> None:
    with engine.begin() as conn:
        post_settlement(conn, posting("A"))
    with engine.begin() as conn:
        rollup(conn)
    with engine.begin() as conn:
        assert verify_since(conn).ok
        conn.execute(sa.text("UPDATE ledger_balance_daily SET credits = credits + 1"))
    with engine.begin() as conn:
        post_settlement(conn, posting("B"))
    with engine.begin() as conn:
        rep = verify_since(conn)
    assert not rep.ok and rep.rollup_mismatches
