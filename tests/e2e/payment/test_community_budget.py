"""医共体 global budget end to end: the community's insured are treated inside the community, at
another institution of the county and out of county (settled over the gateway); the month's
allocation charges all of it; the year end shares the overrun by the dated bands; the ledger's
community account returns to zero and the fund's net spending is the rule's final amount."""

from __future__ import annotations

import random
from decimal import Decimal

import sqlalchemy as sa

from tests.e2e.payment.conftest import START
from tests.e2e.settlement.conftest import make
from yibao.checkout import demo as persons
from yibao.db.engine import make_engine
from yibao.hissim import flows
from yibao.payment import demo as payment_demo
from yibao.payment import service
from yibao.payment.model import community

COUNTY = "441481"
LEAD, OTHER, AWAY = (
    "H44148100001",
    "H44148100002",
    "H44010000001",
)  # 兴宁人民医院 / 宁新卫生院 / 广州
YCM = "YCM441481A"


def _residents(client: object) -> list[flows.Patient]:
    rows = [
        r
        for r in persons.demo_rows(200)
        if r["insuplc_admdvs"] == COUNTY
        and r["insutype"] == "390"
        and r["psn_insu_date"] < "2025-07-01"
    ]
    return [flows.lookup(client, r["certno"]) for r in rows]  # type: ignore[arg-type]


def _spent(conn: sa.Connection, fixmedins: tuple[str, ...]) -> int:
    return int(
        conn.execute(
            sa.text(
                "SELECT COALESCE(SUM((d->>'fund_payamt')::bigint), 0) FROM encounter_settlement s,"
                " jsonb_array_elements(s.setldetail) d WHERE s.insuplc_admdvs = :c"
                " AND d->>'fund_pay_type' = '390100' AND s.fixmedins_code = ANY(:f)"
            ),
            {"c": COUNTY, "f": list(fixmedins)},
        ).scalar_one()
    )


def _balance(conn: sa.Connection, code: str) -> int:
    return int(
        conn.execute(
            sa.text("SELECT COALESCE(SUM(amount), 0) FROM ledger_entry WHERE account_code = :c"),
            {"c": code},
        ).scalar_one()
    )


def test_community_month_and_year_end(server: str, db_url: str) -> None:
    from datetime import datetime, timedelta
    from time import monotonic

    start, t0 = datetime.fromisoformat(START), monotonic()
    token = flows.his_clock.set(lambda: start + timedelta(seconds=monotonic() - t0 - 1))
    rng = random.Random(11)
    clients = {code: make(server, code) for code in (LEAD, OTHER, AWAY)}
    try:
        people = _residents(clients[LEAD])
        assert len(people) >= 4
        for i, p in enumerate(people[:4]):
            flows.inpatient(clients[LEAD], p, rng, days=4 + i)
        flows.inpatient(clients[OTHER], people[4], rng, days=3)
        flows.inpatient(clients[AWAY], people[5], rng, days=5, emergency=True)  # 县外, 急诊视同备案
    finally:
        flows.his_clock.reset(token)
        for c in clients.values():
            c.close()
    engine = make_engine(db_url, pool_size=2)
    try:
        with engine.connect() as conn:
            inside, outside, away = (
                _spent(conn, (LEAD,)),
                _spent(conn, (OTHER,)),
                _spent(conn, (AWAY,)),
            )
        assert min(inside, outside, away) > 0
        spending = inside + outside + away
        budget = (spending * 100 + 54) // 108  # the year's spending is 8 % over: the second band
        service.save_community(
            engine,
            actor="t",
            ycm_id=YCM,
            name="兴宁市医共体",
            admdvs=COUNTY,
            lead=LEAD,
            members=[],
            population=23,
        )
        assert service.set_community_budget(engine, YCM, 2025, budget, actor="t") == budget
        row = service.community_month(engine, YCM, "2025-07", actor="t")
        assert (row["inside"], row["outside"], row["out_of_county"]) == (inside, outside, away)
        assert row["allocation"] == budget // 12
        out = service.community_year_end(engine, YCM, 2025, actor="t")
        rule = community.year_end(
            budget,
            spending,
            retain_share=6_000,
            retain_cap=1_000,
            bands=[
                community.Band(500, 7_000),
                community.Band(1_000, 5_000),
                community.Band(None, 0),
            ],
        )
        assert (out["fund_overrun"], out["community_overrun"], out["final"]) == (
            rule.fund_overrun,
            rule.community_overrun,
            rule.final,
        )
        assert len(rule.parts) == 2 and rule.community_overrun > 0
        with engine.connect() as conn:
            months = conn.execute(
                sa.text(
                    "SELECT COUNT(*), SUM(allocation) FROM payment_community_month WHERE ycm_id = :y"
                ),
                {"y": YCM},
            ).one()
            assert (months[0], int(months[1])) == (12, budget)  # the missing months ran at year end
            assert _balance(conn, f"YCM:{YCM}") == 0
            assert _balance(conn, f"PAY:{LEAD}") != 0
            lead_share = conn.execute(
                sa.text("SELECT amount FROM ledger_transfer WHERE code = 'overrun_community_share'")
            ).scalar_one()
            assert lead_share == rule.community_overrun
            fund = conn.execute(
                sa.text(
                    "SELECT COALESCE(SUM(amount), 0) FROM ledger_entry e JOIN ledger_chain c USING (chain_id)"
                    " WHERE e.account_code = 'FUND:441481:390100' AND c.kind = 'community'"
                )
            ).scalar_one()
            # debits (allocation, fund share) − credits (charges): with the counter's S, the fund
            # spends exactly F
            assert int(fund) == rule.final - spending
            assert (
                conn.execute(
                    sa.text("SELECT COALESCE(SUM(amount), 0) FROM ledger_entry")
                ).scalar_one()
                == 0
            )
        # the next year's budget follows the dated growth rate (5 %, assumed)
        assert (
            service.set_community_budget(engine, YCM, 2026, None, actor="t")
            == budget + (budget * 500 + 5_000) // 10_000
        )
        assert Decimal(out["final"]) > 0
        # the demo seeder lists the region's stays (submitted, grouped) once, and keeps the community
        payment_demo.seed(engine)
        payment_demo.seed(engine)
        with engine.connect() as conn:
            lists = conn.execute(sa.text("SELECT state, grp_code FROM payment_setl_list")).all()
            assert len(lists) == 5 and {s for s, _ in lists} == {"1"}  # the 兴宁 stays, not 广州's
            assert {g for _, g in lists} <= {"ES35", "ES31", "BR25", "ES33", "GS15", "FR39"}
            assert conn.execute(sa.text("SELECT COUNT(*) FROM payment_community")).scalar_one() == 1
    finally:
        engine.dispose()
