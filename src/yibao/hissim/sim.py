"""A day of counter traffic (一天的门诊、药店、住院业务) and the HIS's end-of-day reconciliation.

Each simulated institution keeps its own settlement book (the HIS's 结算记录) from the answers it
received — settlements and cancellations (2208/2103/2305) — and reconciles it with the platform:
3201 per (insutype, clr_type, setl_optins) and 3202 with the TAB/ZIP detail file via 9101/9102.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from yibao.checkout import demo as demo_persons
from yibao.client import NhsaClient, NhsaError
from yibao.gateway.tabzip import make_tab_zip, read_tab_zip
from yibao.hissim import flows
from yibao.hissim.wallet import VoucherError, Wallet
from yibao.institutions import demo as demo_institutions


@dataclass(frozen=True, slots=True)
class BookRow:
    """One settlement in the HIS's book (positive settlement or negative cancellation)."""

    setl_id: str
    mdtrt_id: str
    psn_no: str
    insutype: str
    clr_type: str
    setl_optins: str
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    acct_pay: Decimal
    refd_setl_flag: str
    setl_time: str


@dataclass(slots=True)
class Book:
    """An institution's settlement book, thread-safe."""

    rows: list[BookRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, setlinfo: dict[str, Any], refd: str) -> None:
        row = BookRow(
            setl_id=str(setlinfo["setl_id"]),
            mdtrt_id=str(setlinfo["mdtrt_id"]),
            psn_no=str(setlinfo["psn_no"]),
            insutype=str(setlinfo["insutype"]),
            clr_type=str(setlinfo["clr_type"]),
            setl_optins=str(setlinfo["clr_optins"]),
            medfee_sumamt=Decimal(str(setlinfo["medfee_sumamt"])),
            fund_pay_sumamt=Decimal(str(setlinfo["fund_pay_sumamt"])),
            acct_pay=Decimal(str(setlinfo["acct_pay"])),
            refd_setl_flag=refd,
            setl_time=str(setlinfo["setl_time"]),
        )
        with self.lock:
            self.rows.append(row)


def CHINA_TODAY() -> date:
    """Today in China time (the business date of settlements)."""
    return datetime.now(flows.CHINA).date()


def client_for(url: str, code: str, opter: str = "0001") -> NhsaClient:
    """A signed-in client of a demo institution (public demo credentials)."""
    row = next(r for r in demo_institutions.DEMO_INSTITUTIONS if r[0] == code)
    c = NhsaClient(
        url,
        fixmedins_code=code,
        fixmedins_name=row[1],
        mdtrtarea_admvs=row[3],
        app_key=demo_institutions.demo_app_key(code),
        app_secret=demo_institutions.demo_secret(code),
        opter=opter,
    )
    c.sign_in()
    return c


def demo_certnos(region: str = "", count: int = demo_persons.DEMO_COUNT) -> list[str]:
    """ID numbers of demo persons (optionally insured in ``region``)."""
    return [
        r["certno"]
        for r in demo_persons.demo_rows(count)
        if not region or r["insuplc_admdvs"] == region
    ]


def _cancel(client: NhsaClient, v: flows.Visit, p: flows.Patient) -> dict[str, Any]:
    infno = {"outpatient": "2208", "pharmacy": "2103", "inpatient": "2305"}[v.kind]
    r = client.call(
        infno,
        {"data": {"setl_id": v.setl_id, "mdtrt_id": v.mdtrt_id, "psn_no": p.psn_no}},
        insuplc_admdvs=p.insuplc_admdvs,
    )
    out: dict[str, Any] = flows.ok(r)["setlinfo"]
    return out


def play(
    client: NhsaClient,
    certnos: Sequence[str],
    n: int,
    book: Book,
    *,
    seed: int,
    cancel_rate: float = 0.05,
    inpatient_rate: float = 0.1,
    wallet: Wallet | None = None,
    qr_share: float = 0.0,
) -> None:
    """Play ``n`` encounters at ``client``'s institution into ``book``; a ``qr_share`` of the
    visits start with the insured's 医保码 (``wallet``): scan → ecToken → 1101 with type 01."""
    rng = random.Random(seed)
    pharmacy = client.fixmedins_code.startswith("P")
    patients: dict[str, flows.Patient] = {}
    for _ in range(n):
        certno = rng.choice(certnos)
        try:
            p = patients.get(certno) or flows.lookup(client, certno)
            patients[certno] = p
            if wallet is not None and rng.random() < qr_share:
                wallet.activate(certno, p.psn_name)
                token = wallet.scan(
                    wallet.show_code(certno),
                    client.fixmedins_code,
                    "02121" if pharmacy else "01101",
                )
                p = flows.lookup(client, certno, cert_type="01", token=token)
                with book.lock:
                    book.counts["qr"] += 1
            if pharmacy:
                v = flows.pharmacy(client, p, rng)
            elif rng.random() < inpatient_rate:
                v = flows.inpatient(client, p, rng, days=rng.randint(1, 4))
            else:
                v = flows.outpatient(client, p, rng, lines=rng.randint(1, 6))
            book.add(v.setlinfo, "0")
            with book.lock:
                book.counts[v.kind] += 1
            if rng.random() < cancel_rate:
                book.add(_cancel(client, v, p), "1")
                with book.lock:
                    book.counts["cancel"] += 1
        except (NhsaError, VoucherError) as exc:
            with book.lock:
                book.errors.append(str(exc))


def reconcile(
    client: NhsaClient, book: Book, day: date, *, refd_setl_flag: str = ""
) -> list[dict[str, Any]]:
    """3201 for every (insutype, clr_type, setl_optins) of the book, then 3202 with the file.

    ``refd_setl_flag`` "" (or "1"): every row, cancellations as their own negative rows; "0":
    only settlements that were not cancelled (a book that learnt of a 2601 冲正 drops the
    reversed settlement, whose reversal it never received as a row).
    """
    groups: dict[tuple[str, str, str], list[BookRow]] = defaultdict(list)
    mine = [r for r in book.rows if r.setl_time[:10] == day.isoformat()]
    if refd_setl_flag == "0":
        cancelled = {r.mdtrt_id for r in mine if r.refd_setl_flag == "1"}
        mine = [r for r in mine if r.refd_setl_flag == "0" and r.mdtrt_id not in cancelled]
    for row in mine:
        groups[(row.insutype, row.clr_type, row.setl_optins)].append(row)
    results = []
    for (insutype, clr_type, optins), rows in sorted(groups.items()):
        r = client.call(
            "3201",
            {
                "data": {
                    "insutype": insutype,
                    "clr_type": clr_type,
                    "setl_optins": optins,
                    "stmt_begndate": day.isoformat(),
                    "stmt_enddate": day.isoformat(),
                    "medfee_sumamt": str(sum(x.medfee_sumamt for x in rows)),
                    "fund_pay_sumamt": str(sum(x.fund_pay_sumamt for x in rows)),
                    "acct_pay": str(sum(x.acct_pay for x in rows)),
                    "fixmedins_setl_cnt": len(rows),
                    "refd_setl_flag": refd_setl_flag,
                }
            },
        )
        info = flows.ok(r)["stmtinfo"]
        results.append(
            {"infno": "3201", "insutype": insutype, "clr_type": clr_type, "rows": len(rows), **info}
        )
    by_optins: dict[str, list[BookRow]] = defaultdict(list)
    for row in mine:
        by_optins[row.setl_optins].append(row)
    for optins, rows in sorted(by_optins.items()):
        content = make_tab_zip(
            {
                "detail.txt": [
                    [
                        x.setl_id,
                        x.mdtrt_id,
                        x.psn_no,
                        x.medfee_sumamt,
                        x.fund_pay_sumamt,
                        x.acct_pay,
                        x.refd_setl_flag,
                    ]
                    for x in rows
                ]
            }
        )
        up = flows.ok(client.upload_file(content, f"3202_{day:%Y%m%d}.zip"))
        r = client.call(
            "3202",
            {
                "data": {
                    "setl_optins": optins,
                    "file_qury_no": up["file_qury_no"],
                    "stmt_begndate": day.isoformat(),
                    "stmt_enddate": day.isoformat(),
                    "medfee_sumamt": str(sum(x.medfee_sumamt for x in rows)),
                    "fund_pay_sumamt": str(sum(x.fund_pay_sumamt for x in rows)),
                    "cash_payamt": "0",
                    "fixmedins_setl_cnt": len(rows),
                    "refd_setl_flag": refd_setl_flag,
                }
            },
        )
        info = flows.ok(r)["fileinfo"]
        dl = client.download_file(info["file_qury_no"], info["filename"])
        table = read_tab_zip(dl.body)
        lines = [row for rows_ in table.values() for row in rows_]
        unbalanced = [row for row in lines if row[4] != "0"]
        results.append(
            {
                "infno": "3202",
                "setl_optins": optins,
                "rows": len(lines),
                "unbalanced": len(unbalanced),
                "stmt_rslt": "0" if not unbalanced else "1",
            }
        )
    return results


@dataclass(slots=True)
class DayReport:
    books: dict[str, Book]
    reconciliation: dict[str, list[dict[str, Any]]]
    started: datetime
    finished: datetime


def run_day(
    url: str,
    institutions: Sequence[str],
    *,
    encounters: int,
    seed: int = 1,
    threads_per_institution: int = 1,
    cancel_rate: float = 0.05,
    reconcile_day: bool = True,
    persons: int = demo_persons.DEMO_COUNT,
    qr_share: float = 0.0,
    channel: tuple[str, str] | None = None,
) -> DayReport:
    """Play ``encounters`` at each institution (in parallel), then reconcile each book."""
    started = datetime.now(flows.CHINA)
    books = {code: Book() for code in institutions}
    jobs = []
    for i, code in enumerate(institutions):
        region = next(r[3] for r in demo_institutions.DEMO_INSTITUTIONS if r[0] == code)
        certnos = demo_certnos(region, persons) or demo_certnos("", persons)
        for t in range(threads_per_institution):
            share = encounters // threads_per_institution + (
                1 if t < encounters % threads_per_institution else 0
            )
            jobs.append((code, certnos, share, seed * 1000 + i * 10 + t))
    clients: list[NhsaClient] = []

    wallet = Wallet(url, *channel) if channel else (Wallet(url) if qr_share > 0 else None)

    def work(job: tuple[str, list[str], int, int]) -> None:
        code, certnos, share, s = job
        c = client_for(url, code)
        clients.append(c)
        play(
            c,
            certnos,
            share,
            books[code],
            seed=s,
            cancel_rate=cancel_rate,
            wallet=wallet,
            qr_share=qr_share,
        )

    with ThreadPoolExecutor(max(1, len(jobs))) as pool:
        list(pool.map(work, jobs))
    recon: dict[str, list[dict[str, Any]]] = {}
    if reconcile_day:
        today = CHINA_TODAY()
        for code in institutions:
            c = client_for(url, code)
            clients.append(c)
            recon[code] = reconcile(c, books[code], today)
    for c in clients:
        c.close()
    if wallet is not None:
        wallet.close()
    return DayReport(books, recon, started, datetime.now(flows.CHINA))
