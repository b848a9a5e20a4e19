"""Export from PostgreSQL: settlements played through the real gateway (demo seeder) are written
to partitioned Parquet, pseudonymised, and their baseline replay reproduces the recorded fund
and patient amounts to the fen."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import sqlalchemy as sa

from yibao.demo import seeders
from yibao.demo.settlements import seed_settlements
from yibao.policy.loader import default_tree
from yibao.simulation.dataset import Manifest, partitions, read_partition
from yibao.simulation.engine import run_partition
from yibao.simulation.export import export
from yibao.simulation.rules import Scenario

INSTITUTIONS = (
    "H44010000001",
    "H44030000001",
    "P44040000001",
    "H44130000001",
    "H44148100001",
    "H42138100001",
)


def test_exported_settlements_replay_to_the_recorded_amounts(
    engine: sa.Engine, tmp_path: Path
) -> None:
    for name, seed in seeders():
        if name != "settlements":
            seed(engine)
    seed_settlements(
        engine, encounters=4, cross_region=(("H44030000001", 3),), institutions=INSTITUTIONS, days=2
    )
    with engine.connect() as conn:
        year = int(
            conn.execute(sa.text("SELECT MAX(acc_year) FROM encounter_settlement")).scalar_one()
        )
        in_force = int(conn.execute(sa.text(
            "SELECT COUNT(*) FROM encounter_settlement s WHERE s.reverses IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM encounter_settlement c WHERE c.reverses = s.setl_id)")).scalar_one())  # fmt: skip
        psn_nos = set(conn.execute(sa.text("SELECT psn_no FROM encounter_settlement")).scalars())
    seen: list[int] = []
    m = export(engine, tmp_path, date(year, 1, 1), date(year, 12, 31), partition_bills=5,
               progress=lambda done, total: seen.append(done))  # fmt: skip
    assert (
        Manifest.read(tmp_path).bills
        == m.bills
        == in_force - sum(m.notes["skipped_regions"].values())
    )
    assert m.bills > 30 and len(m.partitions) > 6 and seen[-1] == in_force
    assert {p.region for p in m.partitions} == {
        "440100",
        "440300",
        "440400",
        "441300",
        "441481",
        "421381",
    }
    base = Scenario("baseline", "基线", default_tree())
    compared = 0
    for ref in partitions(tmp_path):
        bills, items = read_partition(tmp_path, ref)
        text = str(pq.read_table(Path(tmp_path) / ref.path / "bills.parquet").to_pylist())
        assert not any(p in text for p in psn_nos)  # pseudonymised: no psn_no in the files
        prep, (out,) = run_partition(bills, items, [base])
        order = np.argsort(prep.cols["bill_id"])
        for name, rec in (("hifp_pay", "rec_hifp_pay"), ("fund_pay_sumamt", "rec_fund_pay_sumamt"),
                          ("psn_part_amt", "rec_psn_part_amt")):  # fmt: skip
            recorded = bills[rec].to_numpy()
            assert np.array_equal(
                out.cols[name][order], recorded[np.argsort(bills["bill_id"].to_numpy())]
            ), (ref.path, name)
        compared += bills.num_rows
    assert compared == m.bills
