"""Crash test (崩溃测试): kill -9 the server during a settlement load, restart, and check that

- every acknowledged settlement and cancellation is there exactly once (its retry answers the
  same bytes, and the institution's 3202 result lists its msgid once);
- every call that was in flight at the kill (outcome unknown to the HIS) is retried with the
  same msgid after the restart and gets exactly one outcome: two retries answer the same bytes,
  and the 3202 result lists its msgid once if it settled or cancelled, not at all if refused;
- the ledger sums to zero, every accumulator equals the sum of its settlements' deltas.

The load covers every settling kind: pharmacy 2102 (some cancelled by 2103), outpatient 2207
(some cancelled by 2208) and inpatient 2304 (some cancelled by 2305).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.e2e.conftest import ServerProcess
from tests.e2e.settlement.conftest import PERSONS
from yibao.checkout import demo as persons
from yibao.client import NhsaClient, NhsaError, NhsaResponse
from yibao.encounter.store import accumulator_mismatches
from yibao.gateway.tabzip import make_tab_zip, read_tab_zip
from yibao.hissim import flows
from yibao.institutions import demo as institutions
from yibao.ledger import verify

SHOPS = ("P44030000001", "P44030000002")
HOSPITALS = ("H44030000001", "H44030000003")
SETTLES = ("2102", "2207", "2304")
CANCELS = ("2103", "2208", "2305")


@dataclass
class Sent:
    infno: str
    request: dict[str, Any]
    body: bytes | None  # None: no answer (in flight at the crash)


class RecordingClient(NhsaClient):
    """A HIS client that remembers the envelope it is sending until the answer arrives, and
    pulls the trigger (``fire``) when it sends a settlement or cancellation while armed."""

    def __init__(
        self, *args: Any, armed: threading.Event, fire: threading.Event, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.in_flight: Sent | None = None
        self.armed, self.fire = armed, fire

    def post(self, infno: str, body: Any, **kw: Any) -> NhsaResponse:
        self.in_flight = Sent(infno, body if isinstance(body, dict) else {}, None)
        if infno in (*SETTLES, *CANCELS) and self.armed.is_set():
            self.fire.set()  # the kill lands while this request is on its way or in the server
        r = super().post(infno, body, **kw)
        self.in_flight = None
        return r


def client(url: str, code: str, cls: type[NhsaClient] = NhsaClient, **kw: Any) -> NhsaClient:
    row = next(r for r in institutions.DEMO_INSTITUTIONS if r[0] == code)
    return cls(
        url,
        **kw,
        fixmedins_code=code,
        fixmedins_name=row[1],
        mdtrtarea_admvs=row[3],
        app_key=institutions.demo_app_key(code),
        app_secret=institutions.demo_secret(code),
    )


@dataclass
class Load:
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    armed: threading.Event = field(default_factory=threading.Event)
    fire: threading.Event = field(default_factory=threading.Event)
    acked: list[Sent] = field(default_factory=list)  # answered settlements and cancellations
    in_flight: list[Sent] = field(default_factory=list)

    def ack(self, r: NhsaResponse) -> None:
        with self.lock:
            self.acked.append(Sent(r.infno, r.request, r.body))

    def kinds(self) -> Counter[str]:
        with self.lock:
            return Counter(s.infno for s in self.acked)


def _visit(c: NhsaClient, p: flows.Patient, rng: random.Random, n: int) -> list[NhsaResponse]:
    """The n-th encounter of a thread: pharmacy at a shop; outpatient / inpatient alternating
    at a hospital; every other settlement is cancelled again."""
    if c.fixmedins_code.startswith("P"):
        v, undo = flows.pharmacy(c, p, rng, lines=2), "2103"
    elif n % 2 == 0:
        v, undo = flows.outpatient(c, p, rng, lines=2), "2208"
    else:
        v, undo = flows.inpatient(c, p, rng, days=1), "2305"
    if n % 4 not in (2, 3):
        return [v.calls[-1]]
    data = {"setl_id": v.setl_id, "mdtrt_id": v.mdtrt_id, "psn_no": p.psn_no}
    r = c.call(undo, {"data": data}, insuplc_admdvs=p.insuplc_admdvs)
    flows.ok(r)
    return [v.calls[-1], r]


def _run(url: str, code: str, seed: int, load: Load) -> None:
    rng = random.Random(seed)
    c = client(url, code, RecordingClient, armed=load.armed, fire=load.fire)
    assert isinstance(c, RecordingClient)
    try:
        c.sign_in()
        certnos = [
            r["certno"] for r in persons.demo_rows(PERSONS) if r["insuplc_admdvs"] == "440300"
        ]
        who = [flows.lookup(c, n) for n in rng.sample(certnos, 6)]
        n = 0
        while not load.stop.is_set():
            for r in _visit(c, rng.choice(who), rng, n):
                load.ack(r)
            n += 1
    except (httpx.HTTPError, NhsaError):
        pass  # the server died (or answered with an error after the crash)
    finally:
        if c.in_flight is not None:
            with load.lock:
                load.in_flight.append(c.in_flight)
        c.close()


def _enough(kinds: Counter[str]) -> bool:
    return sum(kinds.values()) >= 40 and all(kinds[k] for k in (*SETTLES, *CANCELS))


def _today_result(url: str, code: str) -> Counter[tuple[str, str]]:
    """(msgid, refd_setl_flag) of every settlement and cancellation of the institution over the
    last two days, from its 3202 result file (public behaviour, whatever the tables are)."""
    c = client(url, code)
    c.sign_in()
    up = c.upload_file(
        make_tab_zip({"d.txt": [["NONE", "NONE", "NONE", "0", "0", "0", "0"]]}), "d.zip"
    )
    today = flows.his_now().date()
    data = {"setl_optins": "440300", "file_qury_no": flows.ok(up)["file_qury_no"],
            "stmt_begndate": f"{today - timedelta(days=1)}", "stmt_enddate": f"{today}"}  # fmt: skip
    info = flows.ok(c.call("3202", {"data": data}))["fileinfo"]
    got = c.download_file(info["file_qury_no"], info["filename"])
    c.close()
    rows = read_tab_zip(got.body)["result.txt"]
    return Counter((r[3], r[5]) for r in rows if r[2] != "NONE")


def test_kill_minus_nine_mid_load_loses_and_duplicates_nothing(
    world: Engine, db_url: str, server_factory: type[ServerProcess]
) -> None:
    server = server_factory(db_url)
    server.start()
    load = Load()
    threads = [
        threading.Thread(target=_run, args=(server.url, code, i, load))
        for i, code in enumerate(SHOPS + HOSPITALS)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not _enough(load.kinds()):
        time.sleep(0.1)
    load.armed.set()  # the next settlement or cancellation sent pulls the trigger
    load.fire.wait(30)
    server.kill()  # kill -9 in the middle of the load
    load.stop.set()
    for t in threads:
        t.join(30)
    acked, in_flight = list(load.acked), list(load.in_flight)
    assert _enough(Counter(s.infno for s in acked)), Counter(s.infno for s in acked)
    assert in_flight, "no call was in flight at the kill"

    again = server_factory(db_url)
    again.start()
    clients = {code: client(again.url, code) for code in SHOPS + HOSPITALS}
    for s in acked:  # every acknowledged answer: the retry answers the same bytes
        assert clients[str(s.request["fixmedins_code"])].post(s.infno, s.request).body == s.body
    outcomes: list[tuple[Sent, int]] = []
    for s in in_flight:  # every unknown outcome: retried with the same msgid, one outcome
        c = clients[str(s.request["fixmedins_code"])]
        first = c.post(s.infno, s.request)
        assert first.status_code == 200 and first.infcode in (0, -1), first.body
        assert c.post(s.infno, s.request).body == first.body
        outcomes.append((Sent(s.infno, s.request, first.body), int(first.infcode or 0)))
    for c in clients.values():
        c.close()
    print(  # what this run covered (pytest -s): acknowledged kinds, in-flight retries
        "acked", dict(Counter(s.infno for s in acked)),
        "in flight", [(s.infno, code) for s, code in outcomes],
    )  # fmt: skip

    listed: Counter[tuple[str, str]] = Counter()
    for code in SHOPS + HOSPITALS:
        listed += _today_result(again.url, code)
    for s in acked:
        flag = "1" if s.infno in CANCELS else "0"
        assert listed[(str(s.request["msgid"]), flag)] == 1, s.infno
    for s, infcode in outcomes:
        if s.infno in SETTLES or s.infno in CANCELS:
            flag = "1" if s.infno in CANCELS else "0"
            assert listed[(str(s.request["msgid"]), flag)] == (1 if infcode == 0 else 0), s
    assert all(n == 1 for n in listed.values())  # no msgid settled or cancelled twice

    with world.connect() as conn:
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
