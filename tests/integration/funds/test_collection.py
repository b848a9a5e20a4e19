"""Collection on PostgreSQL: payment files refused whole, benefit blocks in the settlement snapshot,
personal accounts (划入, 家庭共济, 期初结转) equal to the ledger, and the per-fund identity."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.funds_world import REGION, World
from tests.integration.funds.conftest import load_world
from yibao import ledger
from yibao.funds import query, service
from yibao.funds.model import FundsError
from yibao.funds.taxfile import PaymentLine, TaxFileError, render_payments
from yibao.registry import accounts, store
from yibao.registry import service as registry
from yibao.registry.model import NoBenefit, build_snapshot

TODAY = date(2026, 12, 3)


def _counts(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
            for t in ("funds_payment", "ledger_transfer", "personal_account_posting",
                      "funds_tax_file", "benefit_block")
        )  # fmt: skip


def _bills(engine: Engine, payer: str) -> list[sa.Row[tuple[object, ...]]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT * FROM funds_bill WHERE payer_id = :p ORDER BY period"), {"p": payer}))  # fmt: skip


def _psn(engine: Engine, certno: str) -> str:
    with engine.connect() as conn:
        found = registry.find_psn_no_by_cert(conn, "01", certno)
    assert found
    return found


@pytest.fixture
def flex(engine: Engine) -> str:
    w = World()
    w.unit("U1", "示范科技有限公司")
    w.employees("U1", "示范科技有限公司", 2)
    certno = w.flexible(wage=6_000)
    load_world(engine, w)
    for m in range(7, 12):
        service.assess_month(engine, REGION, date(2026, m, 1), actor="t")
    return _psn(engine, certno)


def test_payment_files_that_do_not_match_are_refused_whole(engine: Engine, flex: str) -> None:
    bills = _bills(engine, flex)
    first = bills[0]
    ok = [PaymentLine(0, first.bill_no, first.due_date, first.amount, 0, "V1")]
    bad_files = {
        "unknown bill": [PaymentLine(0, "440300209901FX-1", TODAY, 100, 0, "V2")],
        "wrong amount": [PaymentLine(0, first.bill_no, first.due_date, first.amount - 1, 0, "V3")],
        "future date": [PaymentLine(0, first.bill_no, date(2027, 1, 1), first.amount, 0, "V4")],
        "missing late fee": [PaymentLine(0, bills[1].bill_no, TODAY, bills[1].amount, 0, "V5")],
    }
    before = _counts(engine)
    for i, (why, lines) in enumerate(bad_files.items()):
        with pytest.raises(TaxFileError) as e:
            service.import_payments(engine, render_payments(f"BAD{i:04d}", REGION, TODAY, ok + lines),
                                    today=TODAY, actor="t")  # fmt: skip
        assert len(e.value.errors) == 1 and e.value.errors[0].line == 4, why
    assert "滞纳金应为" in e.value.errors[0].reason
    assert _counts(engine) == before
    service.import_payments(engine, render_payments("GOOD0001", REGION, TODAY, ok), today=TODAY,
                            actor="t")  # fmt: skip
    other = render_payments("GOOD0002", REGION, TODAY, [PaymentLine(
        0, first.bill_no, first.due_date, first.amount, 0, "V9")])  # fmt: skip
    with pytest.raises(TaxFileError) as e:
        service.import_payments(engine, other, today=TODAY, actor="t")
    assert "不能重复到账" in e.value.errors[0].reason
    changed = render_payments("GOOD0001", REGION, TODAY, [PaymentLine(0, bills[1].bill_no,
                              bills[1].due_date, bills[1].amount, 0, "V8")])  # fmt: skip
    with pytest.raises(TaxFileError) as e:
        service.import_payments(engine, changed, today=TODAY, actor="t")
    assert "已导入过内容不同的文件" in e.value.errors[0].reason


def test_arrears_block_the_snapshot_until_paid(engine: Engine, flex: str) -> None:
    with engine.connect() as conn:
        facts = store.settlement_facts(conn, flex)
        assert facts is not None
        person, enrolments, identities, balc = facts
        (enr,) = [e for e in enrolments if e.insutype == "310"]
        assert [b.reason for b in enr.benefit_blocks] == ["arrears"]
        assert enr.benefit_blocks[0].begin == date(2026, 9, 27)  # Jul, Aug, Sep overdue
        with pytest.raises(NoBenefit, match="欠费暂停待遇"):
            build_snapshot(person, enrolments, identities, balc, "310", TODAY)
        with pytest.raises(NoBenefit):
            registry.snapshot_for_settlement(conn, flex, "310", TODAY)
        build_snapshot(person, enrolments, identities, balc, "310", date(2026, 9, 26))
    bills = [b for b in _bills(engine, flex) if b.due_date < TODAY]
    lines = [PaymentLine(0, b.bill_no, TODAY, b.amount,
                         (b.amount * (TODAY - b.due_date).days * 5 + 5000) // 10000, f"V{i}")
             for i, b in enumerate(bills)]  # fmt: skip
    service.import_payments(engine, render_payments("PAY00001", REGION, TODAY, lines),
                            today=TODAY, actor="t")  # fmt: skip
    with engine.connect() as conn:
        snap = registry.snapshot_for_settlement(conn, flex, "310", TODAY)
        assert snap.psn_no == flex
        (block,) = [b for e in store.enrolments(conn, flex) for b in e.benefit_blocks]
        assert (block.begin, block.end) == (date(2026, 9, 27), TODAY)  # history kept


def test_accounts_credits_gongji_and_carry_over_equal_the_ledger(engine: Engine) -> None:
    w = World()
    w.unit("U1", "示范科技有限公司")
    worker = w.employees("U1", "示范科技有限公司", 1)[0]
    retiree = w._person(date(1950, 1, 1), "310", "21", emp_no="U1", emp_name="示范科技有限公司")
    child = w.resident(born=date(2015, 5, 5), since="2015-06-01")
    load_world(engine, w)
    p_worker, p_retiree, p_child = (_psn(engine, c) for c in (worker, retiree, child))
    with engine.begin() as conn:
        accounts.post(conn, p_worker, 50_000, ref="legacy-2025")  # a balance from before the ledger
        registry.create_household(conn, "HH1", REGION, p_worker)
        registry.add_household_member(conn, "HH1", p_child, "子女", gongji=False)
    with engine.connect() as conn:
        assert service.check_accounts(conn, REGION).differences == [(p_worker, 50_000, 0)]
    assert service.carry_over_opening(engine, REGION, value_date=date(2025, 12, 31), actor="t") == (
        1,
        50_000,
    )
    assert service.carry_over_opening(engine, REGION, value_date=date(2025, 12, 31), actor="t") == (
        0,
        0,
    )
    service.assess_month(engine, REGION, date(2026, 11, 1), actor="t")
    (bill,) = _bills(engine, "U1")
    service.import_payments(engine, render_payments("PAY1", REGION, TODAY, [
        PaymentLine(0, bill.bill_no, bill.due_date, bill.amount, 0, "V1")]), today=TODAY, actor="t")  # fmt: skip
    assert service.credit_retirees(engine, REGION, date(2026, 11, 1), actor="t") == (1, 7_000)
    assert service.credit_retirees(engine, REGION, date(2026, 11, 1), actor="t") == (0, 0)
    service.assess_residents(engine, REGION, 2027, on=date(2026, 11, 20), actor="t")
    (res_bill,) = _bills(engine, p_child)
    with pytest.raises(FundsError, match="不在同一家庭"):
        service.pay_from_family_account(engine, res_bill.bill_no, p_retiree, today=TODAY, actor="t")
    service.pay_from_family_account(engine, res_bill.bill_no, p_worker, today=TODAY, actor="t")
    with engine.connect() as conn:
        assert service.check_accounts(conn, REGION).ok
        assert store.balance(conn, p_worker) == 50_000 + 16_000 - 40_000  # legacy + 划入 − 共济
        assert store.balance(conn, p_retiree) == 7_000
        assert ledger.verify(conn).ok
        # income − spending + opening = the balance, fund by fund
        series = query.fund_series(conn, REGION, date(2000, 1, 1), TODAY)
        for line in query.fund_position(conn, REGION, TODAY):
            moved = sum(p.income - p.spending + p.opening for p in series
                        if p.fund_pay_type == line.fund_pay_type)  # fmt: skip
            assert moved == line.balance, line.fund_pay_type


def test_employment_import_is_refused_whole_on_database_errors(engine: Engine) -> None:
    from yibao.registry import unit_import

    w = World()
    w.unit("U1", "示范科技有限公司")
    w.employees("U1", "示范科技有限公司", 2)
    load_world(engine, w)
    more = World(seq=10)
    certs = more.employees("U1", "示范科技有限公司", 1)  # person never registered
    more.employment.append({**w.employment[0], "emp_no": "NOPE"})
    more.employment.append({**w.employment[1], "begin_date": "2020-01-01"})  # overlaps stored
    checked = unit_import.read_employments("e.csv", more.employment_csv())
    assert not checked.errors
    with engine.begin() as conn, pytest.raises(unit_import.TableImportRefused) as e:
        unit_import.import_employments(conn, checked, skip_bad=False, actor="t", source="e.csv")
    assert [(x.row, x.field) for x in e.value.result.errors] == [
        (2, "certno"), (3, "emp_no"), (4, "begin_date")]  # fmt: skip
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM employment")).scalar_one() == 2
    assert certs
