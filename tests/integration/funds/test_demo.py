"""The funds demo seeder: a year of contributions, every balance non-negative, idempotent."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Engine

from yibao import ledger
from yibao.demo import seeders
from yibao.funds import demo, query, service
from yibao.funds.demo import REGIONS
from yibao.web.render import china_today


def test_demo_seeds_a_year_once_with_honest_balances(engine: Engine) -> None:
    for name, seed in seeders():
        if name == "settlements":
            break
        seed(engine)
    with engine.connect() as conn:
        bills = conn.execute(sa.text("SELECT COUNT(*) FROM funds_bill")).scalar_one()
        months = conn.execute(sa.text(
            "SELECT COUNT(DISTINCT period) FROM funds_bill WHERE scheme = 'employee'")).scalar_one()  # fmt: skip
        late = conn.execute(sa.text("SELECT SUM(late_fee) FROM funds_payment")).scalar_one()
        deferrals = conn.execute(sa.text(
            "SELECT COUNT(*) FROM funds_approval WHERE kind = 'deferral'")).scalar_one()  # fmt: skip
        today = china_today()
        blocks = conn.execute(sa.text(
            "SELECT COUNT(*) FROM benefit_block WHERE begin_date <= :d"
            " AND (end_date IS NULL OR end_date > :d)"), {"d": today}).scalar_one()  # fmt: skip
        # the deferring units' workers lose benefits only if the arrears are still unpaid after
        # the deferral: those blocks start after its end, never before
        later = conn.execute(sa.text(
            "SELECT MIN(begin_date) FROM benefit_block WHERE reason = 'arrears'")).scalar_one()  # fmt: skip
        assert later is None or later > today
        assert months == 12 and late > 0 and deferrals == 5  # every Guangdong region, not Hubei
        assert blocks == 0  # everyone paid or deferred: nobody is without benefits today
        assert service.check_accounts(conn).ok and ledger.verify(conn).ok
        for region in REGIONS:
            lines = {x.fund_pay_type: x for x in query.fund_position(conn, region, today)}
            assert {"310100", "310200", "390100", "610100"} <= set(lines), region
            assert all(x.balance >= 0 for x in lines.values()), region
            assert lines["310100"].income_12m > 0
    demo.seed(engine)  # a second start seeds nothing
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM funds_bill")).scalar_one() == bills
