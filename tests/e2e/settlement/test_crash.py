"""Crash test (崩溃测试): kill -9 the server during a settlement load, restart, and check that every
acknowledged settlement is there exactly once, the ledger sums to zero and every accumulator
equals the sum of its settlements' deltas."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.e2e.conftest import ServerProcess
from tests.e2e.settlement.conftest import PERSONS, make
from yibao.checkout import demo as persons
from yibao.client import NhsaClient
from yibao.encounter.store import accumulator_mismatches
from yibao.hissim import flows
from yibao.institutions import demo as institutions
from yibao.ledger import verify

SHOPS = ("P44030000001", "P44030000002")
HOSPITALS = ("H44030000001", "H44030000003")


@dataclass
class Sent:
    infno: str
    request: dict[str, object]
    body: bytes | None  # None: no answer (in flight at the crash)


def _load(
    url: str, code: str, seed: int, stop: threading.Event, sent: list[Sent], lock: threading.Lock
) -> None:
    rng = random.Random(seed)
    c = make(url, code)
    certnos = [r["certno"] for r in persons.demo_rows(PERSONS) if r["insuplc_admdvs"] == "440300"]
    who = [flows.lookup(c, n) for n in rng.sample(certnos, 6)]
    while not stop.is_set():
        p = rng.choice(who)
        try:
            v = (
                flows.pharmacy(c, p, rng)
                if code.startswith("P")
                else flows.outpatient(c, p, rng, lines=2)
            )
            last = v.calls[-1]
            with lock:
                sent.append(Sent(last.infno, last.request, last.body))
        except (httpx.HTTPError, flows.NhsaError):
            break  # the server died (or answered with an error after the crash)
    c.close()


def test_kill_minus_nine_mid_load_loses_and_duplicates_nothing(
    world: Engine, db_url: str, server_factory: type[ServerProcess]
) -> None:
    server = server_factory(db_url)
    server.start()
    stop = threading.Event()
    sent: list[Sent] = []
    lock = threading.Lock()
    threads = [
        threading.Thread(target=_load, args=(server.url, code, i, stop, sent, lock))
        for i, code in enumerate(SHOPS + HOSPITALS)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with lock:
            if len(sent) >= 40:
                break
        time.sleep(0.1)
    server.kill()  # kill -9 in the middle of the load
    stop.set()
    for t in threads:
        t.join(30)
    acked = list(sent)
    assert len(acked) >= 40

    again = server_factory(db_url)
    again.start()
    for s in acked:  # every acknowledged settlement: the retry answers the same bytes
        code = str(s.request["fixmedins_code"])
        c = NhsaClient(
            again.url,
            fixmedins_code=code,
            fixmedins_name=str(s.request["fixmedins_name"]),
            mdtrtarea_admvs=str(s.request["mdtrtarea_admvs"]),
            app_key=f"demo-{code}",
            app_secret=institutions.demo_secret(code),
        )
        assert c.post(s.infno, s.request).body == s.body
        c.close()
    msgids = [str(s.request["msgid"]) for s in acked]
    with world.connect() as conn:
        per_msgid = dict(
            conn.execute(
                sa.text(
                    "SELECT msgid, count(*) FROM encounter_settlement"
                    " WHERE kind = 'settle' AND msgid = ANY(:m) GROUP BY msgid"
                ),
                {"m": msgids},
            ).all()
        )
        assert per_msgid == dict.fromkeys(msgids, 1)  # there, exactly once
        report = verify(conn)
        assert report.entry_sum == 0 and not report.unbalanced_chains
        assert not report.incomplete_chains
        assert accumulator_mismatches(conn) == []
        # every settlement has its ledger chain, every chain its settlement
        orphans = conn.execute(
            sa.text(
                "SELECT count(*) FROM encounter_settlement s WHERE s.fund_pay_sumamt <> 0"
                " AND NOT EXISTS (SELECT 1 FROM ledger_chain c WHERE c.setl_id = s.setl_id)"
            )
        ).scalar()
        assert orphans == 0
        accounts_ok = conn.execute(
            sa.text(
                "SELECT count(*) FROM personal_account a WHERE a.balc <> (SELECT COALESCE(SUM(amount),0)"
                " FROM personal_account_posting p WHERE p.psn_no = a.psn_no)"
            )
        ).scalar()
        assert accounts_ok == 0
