"""Fund ledger (基金账务) on PostgreSQL: idempotency, refusals, append-only, concurrency."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from yibao.ledger import (
    LedgerConflict,
    LedgerError,
    SettlementPosting,
    clearing_position,
    daily_movements,
    fund_balances,
    payable_balance,
    post_clearing,
    post_reversal,
    post_settlement,
    rollup,
    verify,
)
from yibao.ledger.model import AccountFlags
from yibao.ledger.store import set_account_flags

DAY = date(2026, 11, 22)


def posting(setl_id: str = "S1", **kw: object) -> SettlementPosting:
    base: dict[str, object] = {
        "setl_id": setl_id,
        "msgid": "M-" + setl_id,
        "fixmedins_code": "H44010100001",
        "insuplc_admdvs": "440100",
        "mdtrtarea_admvs": "440100",
        "insutype": "310",
        "value_date": DAY,
        "fund_lines": [("310100", 12_000), ("330100", 3_000)],
        "acct_pay": 500,
        "psn_no": "P1",
    }
    base.update(kw)
    return SettlementPosting(**base)  # type: ignore[arg-type]


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def test_settlement_posts_once_and_balances_follow(engine: Engine) -> None:
    with engine.begin() as conn:
        first = post_settlement(conn, posting())
    with engine.begin() as conn:
        again = post_settlement(conn, posting())
    assert first.created and not again.created
    assert again.transfer_ids == first.transfer_ids
    assert count(engine, "ledger_transfer") == 3
    with engine.connect() as conn:
        assert fund_balances(conn, "440100", DAY) == {"310100": -12_000, "330100": -3_000}
        assert payable_balance(conn, "H44010100001", DAY) == 15_500
        assert payable_balance(conn, "H44010100001", date(2026, 11, 21)) == 0
        assert verify(conn).ok


def test_same_id_different_content_is_refused_and_changes_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        post_settlement(conn, posting())
    with pytest.raises(LedgerConflict, match="different content"), engine.begin() as conn:
        post_settlement(conn, posting(acct_pay=501))
    assert count(engine, "ledger_transfer") == 3


def test_bad_posting_writes_nothing(engine: Engine) -> None:
    with pytest.raises(LedgerError, match="fund_pay_type"), engine.begin() as conn:
        post_settlement(conn, posting(fund_lines=[("31", 5)]))
    assert count(engine, "ledger_chain") == 0


def test_reversal_mirrors_and_is_idempotent_and_single(engine: Engine) -> None:
    with engine.begin() as conn:
        post_settlement(conn, posting())
        r1 = post_reversal(conn, "S1", "R1", msgid="M-R1", value_date=DAY)
    with engine.begin() as conn:
        r2 = post_reversal(conn, "S1", "R1", msgid="M-R1", value_date=DAY)
    assert r1.created and not r2.created and r1.total == 15_500
    with pytest.raises(LedgerConflict, match="already reversed"), engine.begin() as conn:
        post_reversal(conn, "S1", "R2", msgid="M-R2", value_date=DAY)
    with engine.connect() as conn:
        assert payable_balance(conn, "H44010100001", DAY) == 0
        assert fund_balances(conn, "440100", DAY) == {"310100": 0, "330100": 0}
        assert verify(conn).ok


def test_reversal_of_a_reversal_is_refused(engine: Engine) -> None:
    with engine.begin() as conn:
        post_settlement(conn, posting())
        post_reversal(conn, "S1", "R1", msgid="", value_date=DAY)
    with pytest.raises(LedgerError, match="not a settlement"), engine.begin() as conn:
        post_reversal(conn, "R1", "R9", msgid="", value_date=DAY)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_transfer SET amount = amount + 1",
        "DELETE FROM ledger_transfer",
        "UPDATE ledger_chain SET total = 0",
        "DELETE FROM ledger_chain",
        "TRUNCATE ledger_transfer CASCADE",
    ],
)
def test_trigger_refuses_update_and_delete(engine: Engine, sql: str) -> None:
    with engine.begin() as conn:
        post_settlement(conn, posting())
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text(sql))
    assert count(engine, "ledger_transfer") == 3


def test_closed_account_refuses_postings(engine: Engine) -> None:
    with engine.begin() as conn:
        post_settlement(conn, posting())
        set_account_flags(conn, "PAY:H44010100001", AccountFlags.CLOSED)
    with pytest.raises(LedgerError, match="closed"), engine.begin() as conn:
        post_settlement(conn, posting("S2"))


def test_cross_region_clearing_cycle(engine: Engine) -> None:
    huizhou, guangzhou = "441300", "440100"
    with engine.begin() as conn:
        post_settlement(conn, posting(insuplc_admdvs=huizhou, fund_lines=[("310100", 8_000)]))
    with engine.connect() as conn:
        assert clearing_position(conn, guangzhou, huizhou, DAY) == 8_500
        assert clearing_position(conn, huizhou, guangzhou, DAY) == -8_500
        assert fund_balances(conn, huizhou, DAY) == {"310100": -8_000}
        assert fund_balances(conn, guangzhou, DAY) == {}
    with engine.begin() as conn:
        post_clearing(
            conn,
            "2026-11:441300:440100",
            payer_region=huizhou,
            payee_region=guangzhou,
            amount=8_500,
            value_date=date(2026, 12, 5),
        )
    with engine.connect() as conn:
        assert clearing_position(conn, guangzhou, huizhou, date(2026, 12, 5)) == 0
        assert clearing_position(conn, guangzhou, huizhou, DAY) == 8_500
        assert verify(conn).ok


def test_rollup_is_exact_and_incremental(engine: Engine) -> None:
    with engine.begin() as conn:
        post_settlement(conn, posting("S1"))
        post_settlement(conn, posting("S2", value_date=date(2026, 11, 23)))
    with engine.begin() as conn:
        assert rollup(conn) == 6
    with engine.begin() as conn:
        post_settlement(conn, posting("S3", value_date=date(2026, 11, 23)))
        assert rollup(conn) == 0  # own transaction still running: not yet final
    with engine.begin() as conn:
        assert rollup(conn) == 3
        assert rollup(conn) == 0
    with engine.connect() as conn:
        report = verify(conn)
        assert report.ok, report
        assert payable_balance(conn, "H44010100001", date(2026, 11, 23)) == 3 * 15_500
        moves = daily_movements(
            conn,
            day_from=date(2026, 11, 23),
            day_to=date(2026, 11, 23),
            codes=["PAY:H44010100001"],
        )
        assert [(m.credits, m.closing_balance) for m in moves] == [(31_000, 46_500)]


def test_verify_detects_a_tampered_rollup(engine: Engine) -> None:
    with engine.begin() as conn:
        post_settlement(conn, posting())
    with engine.begin() as conn:
        rollup(conn)
        conn.execute(sa.text("UPDATE ledger_balance_daily SET credits = credits + 1"))
    with engine.connect() as conn:
        report = verify(conn)
    assert not report.ok and report.rollup_mismatches


def test_concurrent_postings_never_lose_one(engine: Engine) -> None:
    threads, per_thread = 6, 25
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(per_thread):
                with engine.begin() as conn:
                    # every thread hits the same funds and the same institution
                    post_settlement(conn, posting(f"T{n}-{i}", psn_no=f"P{n}"))
                    if i % 5 == 0:
                        rollup(conn)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors
    total = threads * per_thread
    assert count(engine, "ledger_chain") == total
    with engine.begin() as conn:
        assert payable_balance(conn, "H44010100001", DAY) == total * 15_500
        rollup(conn)
    with engine.connect() as conn:
        report = verify(conn)
        assert report.ok, report
        assert report.transfers == total * 3
        assert fund_balances(conn, "440100", DAY) == {
            "310100": -12_000 * total,
            "330100": -3_000 * total,
        }


def test_cli_rollup_verify_balances(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from yibao.cli import app

    with engine.begin() as conn:
        post_settlement(conn, posting())
    monkeypatch.setenv("YIBAO_DATABASE_URL", db_url)
    runner = CliRunner()
    res = runner.invoke(app, ["ledger", "rollup"])
    assert res.exit_code == 0 and "已汇总 3 笔转账" in res.output
    res = runner.invoke(app, ["ledger", "verify"])
    assert res.exit_code == 0 and "核对通过" in res.output
    res = runner.invoke(app, ["ledger", "balances", "--kind", "payable", "--date", "2026-11-22"])
    assert res.exit_code == 0 and "PAY:H44010100001" in res.output and "155.00" in res.output
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE ledger_balance_daily SET debits = debits + 1"))
    res = runner.invoke(app, ["ledger", "verify"])  # a roll-up row changed since the last check
    assert res.exit_code == 1 and "增量核对" in res.output and "日汇总不一致" in res.output
    res = runner.invoke(app, ["ledger", "verify", "--full"])
    assert res.exit_code == 1 and "日汇总不一致" in res.output


def test_ensure_accounts_and_flags(engine: Engine) -> None:
    from yibao.ledger.model import bank_account, fund_account
    from yibao.ledger.store import ensure_accounts

    with engine.begin() as conn:
        ensure_accounts(conn, [bank_account("440100"), fund_account("440100", "310100")])
        ensure_accounts(conn, [bank_account("440100")])  # idempotent
        set_account_flags(conn, "BANK:440100", AccountFlags.CLOSED)
    with pytest.raises(LedgerError, match="closed"), engine.begin() as conn:
        ensure_accounts(conn, [bank_account("440100")])
    with pytest.raises(LedgerError, match="not found"), engine.begin() as conn:
        set_account_flags(conn, "BANK:999999", AccountFlags.CLOSED)
