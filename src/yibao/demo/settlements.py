"""Demo settlements (演示结算): a day of counter traffic in every shipped region on first start.

Nothing is inserted directly: the seeder starts the real application in-process on a free
loopback port and plays the HIS simulator's encounters (:mod:`yibao.hissim`) through the
national interface — gateway, handlers, settlement engine, accumulators and ledger — at every
demo institution of the six regions (440100, 440300, 440400, 441300, 441481, 421381):
outpatient (门诊), pharmacy (药店购药) and inpatient (住院) encounters, a share with the 医保码
(电子凭证), filed Huizhou insured treated in Guangzhou/Shenzhen (异地就医), a few cancellations
(2208/2103/2305), then each institution's 3201/3202 reconciliation (对账) for the day.
Afterwards one ledger roll-up (日结汇总) folds the postings into the daily balances.

Past days honestly: the in-process gateway runs on a demo clock (:class:`DemoClock`, passed
to :class:`yibao.api.nhsa.frame.Gateway`; the production server always uses the real clock),
and the simulated HIS's wall clock (:data:`yibao.hissim.flows.his_clock`) follows it, so each
day's settlements carry that day's times from the engine itself — nothing is edited afterwards.
E-voucher codes live for seconds on the real clock, so 医保码 visits are played today only.
Idempotent: if any demo institution already has a settlement, the seeder does nothing.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time

import sqlalchemy as sa
import structlog

from yibao.clock import CHINA

log = structlog.get_logger(__name__)

#: Opening hours of a past demo day (China time).
OPENING, CLOSING = dt_time(8, 30), dt_time(18, 0)

#: Days played: today and the days before it.
DAYS = 4
#: Encounters per institution per day (23 institutions × 4 days → a few hundred encounters).
ENCOUNTERS_PER_INSTITUTION = 3
#: Filed Huizhou (441300) insured treated at these hospitals (异地就医), encounters per day.
CROSS_REGION = (("H44010000001", 2), ("H44030000001", 2))
QR_SHARE = 0.25
CANCEL_RATE = 0.06
DEMO_CHANNEL = ("wechat", "demo-secret-wechat")
PARALLEL = 4
SEED = 2026


@dataclass(slots=True)
class SeedReport:
    """What the seeder played (per kind) and how reconciliation ended."""

    skipped: bool = False
    days: list[date] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    reconciliations: int = 0
    unbalanced: int = 0
    rolled_up: int = 0
    seconds: float = 0.0


@dataclass(slots=True)
class DemoClock:
    """The business time of the seeder's gateway and HIS: the real clock, or a past day.

    On a past day time starts at :data:`OPENING` (China time) and runs ``speed`` times faster
    than real time, so a few seconds of play spread over the counter's opening hours; it stops
    at :data:`CLOSING` (never runs into the next day). Always monotonic.
    """

    origin: datetime | None = None
    started: float = 0.0
    until: datetime | None = None
    speed: float = 2400.0

    def real(self) -> None:
        """Follow the real clock (today)."""
        self.origin = self.until = None

    def past_day(self, day: date) -> None:
        """Start ``day``'s opening hours now."""
        self.origin = datetime.combine(day, OPENING, CHINA)
        self.until = datetime.combine(day, CLOSING, CHINA)
        self.started = time.monotonic()

    @property
    def is_real(self) -> bool:
        return self.origin is None

    def __call__(self) -> datetime:
        if self.origin is None or self.until is None:
            return datetime.now(UTC)
        span = (self.until - self.origin).total_seconds()
        elapsed = min((time.monotonic() - self.started) * self.speed, span)
        return (self.origin + timedelta(seconds=elapsed)).astimezone(UTC)


def demo_settlements_exist(engine: sa.Engine) -> bool:
    """True when any demo institution already has a settlement (then seeding is skipped)."""
    from yibao.encounter.store import encounter_settlement as s
    from yibao.institutions.demo import DEMO_INSTITUTIONS

    codes = [row[0] for row in DEMO_INSTITUTIONS]
    with engine.connect() as conn:
        hit = conn.execute(
            sa.select(s.c.setl_id).where(s.c.fixmedins_code.in_(codes)).limit(1)
        ).first()
    return hit is not None


def filed_certnos(engine: sa.Engine, place: str) -> list[str]:
    """ID numbers of insured persons with a demo filing (备案) for treatment in ``place``."""
    from yibao.filing.store import filing
    from yibao.registry.store import person

    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(person.c.certno)
            .join(filing, filing.c.psn_no == person.c.psn_no)
            .where(filing.c.mdtrtarea_admdvs == place, filing.c.source == "demo")
            .distinct()
            .order_by(person.c.certno)
        ).scalars()
        return [str(c) for c in rows]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def in_process_server(engine: sa.Engine, clock: DemoClock) -> Iterator[str]:
    """The real app on a free loopback port in a background thread; yields its base URL.

    Its national-interface gateway runs on ``clock`` (installed as the app's gateway instance).
    """
    import uvicorn

    from yibao.api.app import create_app
    from yibao.api.nhsa.frame import Gateway

    port = _free_port()
    app = create_app(engine)
    app.state.nhsa_gateway = Gateway(engine, clock=clock)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="demo-settlements-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("演示结算: 内置服务未能启动")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


KINDS = ("outpatient", "pharmacy", "inpatient")


def _encounters(counts: dict[str, int]) -> int:
    return sum(counts.get(kind, 0) for kind in KINDS)


def _play_institution(
    url: str,
    code: str,
    certnos: Sequence[str],
    encounters: int,
    cross: Sequence[str],
    cross_encounters: int,
    seed: int,
    clock: DemoClock,
    report: SeedReport,
    lock: threading.Lock,
) -> None:
    from yibao.hissim import flows, sim
    from yibao.hissim.wallet import Wallet

    book = sim.Book()
    wallet = Wallet(url, *DEMO_CHANNEL)
    qr_share = QR_SHARE if clock.is_real else 0.0  # 医保码 codes live on the real clock
    his_clock = flows.his_clock.set(clock)
    client = sim.client_for(url, code)
    try:
        sim.play(
            client, certnos, encounters, book,
            seed=seed, cancel_rate=CANCEL_RATE, wallet=wallet, qr_share=qr_share,
        )  # fmt: skip
        if cross and cross_encounters:
            before = _encounters(book.counts)
            sim.play(
                client, cross, cross_encounters, book,
                seed=seed + 1, cancel_rate=CANCEL_RATE, wallet=wallet, qr_share=qr_share,
            )  # fmt: skip
            with lock:
                report.counts["cross_region"] += _encounters(book.counts) - before
        results = sim.reconcile(client, book, flows.his_now().date())
    finally:
        client.close()
        wallet.close()
        flows.his_clock.reset(his_clock)
    with lock:
        report.counts.update(book.counts)
        report.errors.extend(f"{code}: {e}" for e in book.errors)
        report.reconciliations += len(results)
        report.unbalanced += sum(1 for r in results if r.get("stmt_rslt") not in (None, "0"))


def seed_settlements(
    engine: sa.Engine,
    *,
    encounters: int = ENCOUNTERS_PER_INSTITUTION,
    cross_region: Sequence[tuple[str, int]] = CROSS_REGION,
    institutions: Sequence[str] | None = None,
    days: int = DAYS,
) -> SeedReport:
    """Play ``encounters`` a day at each demo institution (+ cross-region visits) for ``days``
    days ending today, reconcile each institution-day, roll up the ledger."""
    from yibao.db.engine import make_engine
    from yibao.hissim import sim
    from yibao.institutions.demo import DEMO_INSTITUTIONS
    from yibao.ledger import rollup

    report = SeedReport()
    if demo_settlements_exist(engine):
        report.skipped = True
        return report
    started = time.monotonic()
    codes = list(institutions or [row[0] for row in DEMO_INSTITUTIONS])
    region_of = {row[0]: row[3] for row in DEMO_INSTITUTIONS}
    cross = dict(cross_region)
    app_engine = make_engine(engine.url.render_as_string(hide_password=False), pool_size=PARALLEL)
    lock = threading.Lock()
    clock = DemoClock()
    jobs = []
    for i, code in enumerate(codes):
        region = region_of[code]
        certnos = sim.demo_certnos(region) or sim.demo_certnos("")
        filed = filed_certnos(engine, region) if code in cross else []
        jobs.append((code, certnos, filed, cross.get(code, 0), SEED * 100 + i))
    try:
        with in_process_server(app_engine, clock) as url:
            for back in range(days - 1, -1, -1):  # oldest day first, today last
                day = datetime.now(CHINA).date() - timedelta(days=back)
                if back:
                    clock.past_day(day)
                else:
                    clock.real()
                report.days.append(day)

                def run(job: tuple[str, list[str], list[str], int, int], back: int = back) -> None:
                    code, certnos, filed, n_cross, seed = job
                    _play_institution(
                        url, code, certnos, encounters, filed, n_cross, seed * 10 + back,
                        clock, report, lock,
                    )  # fmt: skip

                with ThreadPoolExecutor(PARALLEL) as pool:
                    list(pool.map(run, jobs))
    finally:
        app_engine.dispose()
    with engine.begin() as conn:
        report.rolled_up = rollup(conn)
    report.seconds = time.monotonic() - started
    return report


def seed(engine: sa.Engine) -> None:
    """Demo seeder entry point (runs last: needs institutions, persons, vouchers, filings)."""
    report = seed_settlements(engine)
    if report.skipped:
        log.info("demo_settlements_skipped", reason="demo settlements already exist")
        return
    log.info(
        "demo_settlements",
        counts=dict(report.counts),
        errors=len(report.errors),
        reconciliations=report.reconciliations,
        unbalanced=report.unbalanced,
        rolled_up=report.rolled_up,
        days=[d.isoformat() for d in report.days],
        seconds=round(report.seconds, 1),
    )
    for err in report.errors[:5]:
        log.warning("demo_settlement_failed", error=err)
