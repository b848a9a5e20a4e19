"""Many pooling regions in one provincial deployment (一省一库多统筹区).

The same bill at the same Guangzhou hospital is split by each insured city's own policy; the
fund money comes from the insured city's funds; accumulators are kept per insured region; the
catalogue is the treatment city's (city overrides on the province catalogue).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from tests.integration.crossregion import traffic
from tests.integration.crossregion.people import insured
from yibao.catalog import service as catalog
from yibao.encounter.store import encounter_accumulator
from yibao.institutions import demo as institutions_demo
from yibao.ledger import fund_balances, verify

GZ, SZ, HZ, ZH = "440100", "440300", "441300", "440400"
DAY = date(2026, 10, 12)


def test_one_bill_four_insured_cities(engine: Engine) -> None:
    institutions_demo.seed(engine)
    bill = ((80_000, "01"), (60_000, "02"), (20_000, "03"))
    splits = {}
    with engine.begin() as conn:
        people = {r: insured(conn, r) for r in (GZ, SZ, HZ, ZH)}
        for region, psn_no in people.items():
            s = traffic.outpatient(conn, "H44010000001", psn_no, region, DAY, traffic.items(*bill))
            splits[region] = s.record
    # each split by the insured city's own policy: the same bill, different fund payments
    pays = {r: rec.setlinfo["fund_pay_sumamt"] for r, rec in splits.items()}
    assert all(rec.setlinfo["medfee_sumamt"] == 160_000 for rec in splits.values())
    assert len({pays[GZ], pays[SZ]}) == 2, pays  # Guangzhou local vs Shenzhen 异地
    with engine.connect() as conn:
        for region, psn_no in people.items():
            rows = conn.execute(
                encounter_accumulator.select().where(encounter_accumulator.c.psn_no == psn_no)
            ).all()
            assert {r.insuplc_admdvs for r in rows} == {region}  # accumulators by insured region
        for region in (GZ, SZ, HZ, ZH):  # money leaves the insured city's funds only
            spent = -sum(fund_balances(conn, region, DAY).values())
            assert spent == pays[region], (region, spent, pays[region])
        assert verify(conn).ok


def test_catalogue_is_the_treatment_citys(engine: Engine) -> None:
    catalog.seed_demo(engine)
    code = "004500000020000"  # Shenzhen lists it as 甲类 (catalogs/440300-shenzhen/items.csv)
    with engine.connect() as conn:
        sz = catalog.get_entry(conn, SZ, code, DAY)
        gz = catalog.get_entry(conn, GZ, code, DAY)
    assert sz is not None and gz is not None
    assert sz.chrgitm_lv == "01" and gz.chrgitm_lv != "01"
