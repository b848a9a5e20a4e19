"""Monthly assessment on PostgreSQL: the set-based SQL against the pure model, row by row."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy import Engine

from tests.funds_world import World
from tests.integration.funds.conftest import load_world
from yibao.funds import rules, service
from yibao.funds.model import employee_contribution


def _world(region: str) -> World:
    w = World(seq=500 if region == "440300" else 0)  # other persons in each region
    w.unit(f"E{region}", "示范制造有限公司", "10", region)
    w.employees(f"E{region}", "示范制造有限公司", 7, wage=1_000)  # below the floor: clamped up
    w.unit(f"G{region}", "示范区人民政府", "20", region)
    w.employees(f"G{region}", "示范区人民政府", 3, wage=90_000)  # above the ceiling: clamped
    w.flexible(wage=5_432)
    w.persons = [{**p, "insuplc_admdvs": region} for p in w.persons]
    w.persons[8]["cvlserv_flag"] = "1"  # a civil servant at the government unit
    return w


def test_sql_assessment_equals_the_model_for_every_row(engine: Engine) -> None:
    for region in ("440100", "440300"):  # 广州 (大额 per month) and 深圳 (大额 rate, 2 % cap)
        load_world(engine, _world(region))
        period = date(2026, 11, 1)
        r = service.assess_month(engine, region, period, actor="t")
        assert (r.rows, r.bills) == (11, 3)
        model = rules.employee_rules(region, period)
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT a.*, e.wage_base, n.cvlserv_flag FROM funds_assessment a"
                " JOIN employment e ON e.psn_no = a.psn_no JOIN enrolment n ON n.psn_no = a.psn_no"
                " AND n.insutype = '310' WHERE a.region = :r"), {"r": region}).all()  # fmt: skip
            for row in rows:
                c = employee_contribution(model, row.wage_base, flexible=row.flexible,
                                          civil_servant=row.cvlserv_flag)  # fmt: skip
                got = (row.base, row.employer_rate, row.employer, row.employee, row.account,
                       row.pooled, row.large_amount, row.civil_servant)  # fmt: skip
                want = (c.base, c.employer_rate, c.employer, c.employee, c.account, c.pooled,
                        c.large_amount, c.civil_servant)  # fmt: skip
                assert got == want, (region, row.psn_no)
            bill_sum = conn.execute(
                sa.text("SELECT SUM(amount) FROM funds_bill WHERE region = :r"), {"r": region}
            ).scalar_one()
            assert (
                bill_sum == r.amount == sum(x.employer + x.employee + x.large_amount for x in rows)
            )


def test_a_late_joiner_gets_a_supplementary_run_and_nothing_else_changes(engine: Engine) -> None:
    w = World()
    w.unit("E1", "示范制造有限公司")
    w.employees("E1", "示范制造有限公司", 2)
    load_world(engine, w)
    period = date(2026, 11, 1)
    assert service.assess_month(engine, "440300", period, actor="t").rows == 2
    assert service.assess_month(engine, "440300", period, actor="t").nothing_new
    late = World(seq=50)
    late.units = []
    late.employees("E1", "示范制造有限公司", 1, since="2026-11-15")
    load_world(engine, late)
    again = service.assess_month(engine, "440300", period, actor="t")
    assert (again.rows, again.run_no) == (1, 2)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM funds_bill")).scalar_one() == 2
        runs = conn.execute(sa.text("SELECT COUNT(*) FROM funds_assessment_run")).scalar_one()
        assert runs == 2  # an empty re-run is not recorded


def test_retired_paused_and_outside_employment_are_not_assessed(engine: Engine) -> None:
    w = World()
    w.unit("E1", "示范制造有限公司")
    w.employees("E1", "示范制造有限公司", 3)
    w.persons[1]["psn_type"] = "21"  # 退休: no contribution
    w.persons[2].update(psn_insu_stas="2", paus_insu_date="2026-11-01")  # 暂停参保 from Nov
    w.employment[0]["end_date"] = "2026-10-31"  # left the unit in October
    load_world(engine, w)
    assert service.assess_month(engine, "440300", date(2026, 10, 1), actor="t").rows == 2
    assert service.assess_month(engine, "440300", date(2026, 11, 1), actor="t").nothing_new
