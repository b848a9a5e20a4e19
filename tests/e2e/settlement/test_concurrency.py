"""Two settlements of one person at the same moment never share deductible room (起付线): the
accumulator lock makes one the year's first admission (600.00 at a 三级 hospital in 深圳) and the
other a later admission (300.00, 深圳 358号 2023), exactly as if they had come one after the other."""

from __future__ import annotations

import random
import threading
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Engine

from tests.e2e.settlement.conftest import ClientFactory, patients
from yibao.client import NhsaResponse
from yibao.encounter.store import accumulator_mismatches
from yibao.hissim import flows


def test_concurrent_inpatient_settlements_of_one_person_queue(
    make_client: ClientFactory, world: Engine, rng: random.Random
) -> None:
    a, b = make_client("H44030000001"), make_client("H44030000002")  # both 三级甲等
    checked = 0
    for p in patients(a, insutype="390", region="440300")[:3]:
        stays = [flows.inpatient(c, p, rng, days=5, settle=False) for c in (a, b)]
        inscp = [Decimal(str(flows.ok(v.calls[-1])["setlinfo"]["inscp_scp_amt"])) for v in stays]
        if min(inscp) < 600:
            continue  # a bill below the deductible would not show the room it takes
        checked += 1
        requests = []
        for v in stays:
            data = dict(v.calls[-1].request["input"]["data"])  # the 2303 input
            requests.append({"data": {**data, "invono": "C1"}})
        answers: list[NhsaResponse] = []
        barrier = threading.Barrier(2)

        def settle(
            c: flows.NhsaClient,
            req: dict[str, object],
            p: flows.Patient = p,
            barrier: threading.Barrier = barrier,
            answers: list[NhsaResponse] = answers,
        ) -> None:
            barrier.wait()
            answers.append(c.call("2304", req, insuplc_admdvs=p.insuplc_admdvs))

        threads = [
            threading.Thread(target=settle, args=(c, r))
            for c, r in zip((a, b), requests, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        deductibles = sorted(Decimal(str(flows.ok(r)["setlinfo"]["act_pay_dedc"])) for r in answers)
        assert deductibles == [Decimal("300.00"), Decimal("600.00")]
        with world.connect() as conn:
            counters = conn.execute(
                sa.text("SELECT counters FROM encounter_accumulator WHERE psn_no = :p"),
                {"p": p.psn_no},
            ).scalar_one()
            assert counters["admissions"] == 2
            assert counters["dedc.inpatient"] == 90_000
            assert accumulator_mismatches(conn) == []
    assert checked >= 1


def test_many_outpatient_settlements_of_one_person_at_once_all_settle(
    make_client: ClientFactory, world: Engine, rng: random.Random
) -> None:
    """Eight counters settle (2207) visits of one person at the same moment: every one settles
    (the optimistic writes run again after a concurrent change, with a random pause, instead of
    failing after a few tries), and the person's counters and account add up."""
    counters_n = 8
    clients = [make_client() for _ in range(counters_n)]
    p = patients(clients[0], insutype="310", region="440300")[0]
    requests = []
    for c in clients:
        v = flows.outpatient(c, p, rng, lines=3, settle=False)
        data = dict(v.calls[-1].request["input"]["data"])
        data.update(flows.plain(flows.split_totals(flows.ok(v.calls[2])["result"])))
        requests.append({"data": data})
    answers: list[NhsaResponse] = []
    barrier = threading.Barrier(counters_n)

    def settle(c: flows.NhsaClient, req: dict[str, object]) -> None:
        barrier.wait()
        answers.append(c.call("2207", req, insuplc_admdvs=p.insuplc_admdvs))

    threads = [
        threading.Thread(target=settle, args=(c, r)) for c, r in zip(clients, requests, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.infcode for r in answers] == [0] * counters_n, [r.err_msg for r in answers]
    with world.connect() as conn:
        settled = conn.execute(
            sa.text("SELECT count(*) FROM encounter_settlement WHERE psn_no = :p"),
            {"p": p.psn_no},
        ).scalar_one()
        assert settled == counters_n
        assert accumulator_mismatches(conn) == []
