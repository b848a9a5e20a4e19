"""The settlements demo seeder plays real encounters through the gateway (PostgreSQL, HTTP)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from yibao.demo import seeders
from yibao.demo.settlements import CLOSING, OPENING, seed_settlements
from yibao.encounter.store import accumulator_mismatches
from yibao.ledger import verify

ONE_PER_REGION = (
    "H44010000001",
    "H44030000001",
    "P44040000001",
    "H44130000001",
    "H44148100001",
    "H42138100001",
)
SHIPPED_REGIONS = {"440100", "440300", "440400", "441300", "441481", "421381"}


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def test_settlements_seeder_fills_every_region_consistently_and_once(engine: sa.Engine) -> None:
    names = [name for name, _ in seeders()]
    at = names.index("settlements")  # after everything it plays over
    assert {"institutions", "registry", "voucher", "filing", "funds"} <= set(names[:at])
    assert names.index("payment") > at  # the settlement lists of these settlements
    for _, seed in seeders()[:at]:
        seed(engine)

    report = seed_settlements(
        engine,
        encounters=3,
        cross_region=(("H44030000001", 3),),
        institutions=ONE_PER_REGION,
        days=2,
    )

    assert not report.skipped
    assert report.errors == []
    assert report.counts["cross_region"] == 3 * 2
    assert report.counts["qr"] > 0
    assert report.days[1] - report.days[0] == timedelta(days=1)
    assert report.reconciliations > 0 and report.unbalanced == 0
    with engine.connect() as conn:
        regions = set(
            conn.execute(
                sa.text("SELECT DISTINCT mdtrtarea_admvs FROM encounter_settlement")
            ).scalars()
        )
        cross = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM encounter_settlement "
                "WHERE insuplc_admdvs = '441300' AND mdtrtarea_admvs = '440300'"
            )
        ).scalar_one()
        days = set(
            conn.execute(sa.text("SELECT DISTINCT setl_date FROM encounter_settlement")).scalars()
        )
        past_hours = (
            conn.execute(
                sa.text(
                    "SELECT DISTINCT (setl_time AT TIME ZONE 'Asia/Shanghai')::time "
                    "FROM encounter_settlement WHERE setl_date < :today"
                ),
                {"today": report.days[-1]},
            )
            .scalars()
            .all()
        )
        visits_after_settlement = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM encounter e JOIN encounter_settlement s USING (mdtrt_id) "
                "WHERE e.begntime > s.setl_time"
            )
        ).scalar_one()
        assert regions == SHIPPED_REGIONS
        assert days == set(report.days)  # the engine's own settlement dates, one per day played
        assert past_hours and all(OPENING <= t <= CLOSING for t in past_hours)
        assert visits_after_settlement == 0  # the HIS's clock follows the gateway's
        assert cross > 0
        assert accumulator_mismatches(conn) == []
        rep = verify(conn)
        assert rep.transfers > 0
        assert not (
            rep.unbalanced_chains
            or rep.incomplete_chains
            or rep.bad_reversals
            or rep.unknown_accounts
            or rep.rollup_mismatches
        )
    settlements, transfers = _count(engine, "encounter_settlement"), rep.transfers

    again = seed_settlements(engine, encounters=2)

    assert again.skipped
    assert _count(engine, "encounter_settlement") == settlements
    with engine.connect() as conn:
        assert verify(conn).transfers == transfers
