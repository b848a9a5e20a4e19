"""The console at province scale (控制台规模测试): N settlements, each console page timed.

    nice -n 10 .venv/bin/python bench/console_scale.py --rows 200000 [--days 30] [--repeat 3]

Starts a throwaway embedded PostgreSQL, migrates it, seeds the demo institutions, persons and
console users through their real seeders, then bulk-loads ``--rows`` settlement records with
``COPY`` into the real tables (``encounter``, ``encounter_settlement``: realistic amounts that
satisfy the table's identities, 15 % cross-region, 1 % cancelled, spread over ``--days`` days up
to today) and one ledger chain per settlement (fund → institution, personal account →
institution) built from them in SQL. Then it runs the roll-ups and ``ANALYZE``, and times:

- each console page over the ASGI app (signed in as the province admin, a city admin and an
  institution operator): overview, settlements (first page, page 2, filters, sorts), persons,
  institutions, reconciliation — best of ``--repeat``;
- the list query the console used before (``LIKE`` scope, no ``setl_time`` index use) for
  comparison, and the totals with the roll-up watermark at 0 (every row in the live tail);
- ``ledger verify`` incremental (after one more settlement) and ``--full``, and
  ``ledger balances``.

Figures depend on the machine; on a shared one, run it when it is quiet.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

CHINA = timezone(timedelta(hours=8))
AIM_MS = 300.0


def timed(
    label: str, fn: Callable[[], object], repeat: int, results: list[tuple[str, float]]
) -> Any:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, (time.perf_counter() - t0) * 1000)
    flag = "" if best < AIM_MS else "  (over 300 ms)"
    print(f"  {label:<58} {best:9.1f} ms{flag}", flush=True)
    results.append((label, best))
    return out


def settlement_rows(
    n: int, days: int, persons: list[tuple[str, str]], insts: list[tuple[str, str]], seed: int
) -> Iterator[tuple[tuple[object, ...], tuple[object, ...]]]:
    """(encounter row, settlement row) pairs; a cancellation follows 1 % of settlements."""
    rng = random.Random(seed)
    today = datetime.now(CHINA).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=days - 1)
    span = int((datetime.now(CHINA) - start).total_seconds()) - 60
    by_region: dict[str, list[str]] = {}
    for code, admdvs in insts:
        by_region.setdefault(admdvs[:4], []).append(code)
    all_codes = [c for c, _ in insts]
    for i in range(n):
        psn_no, insuplc = persons[rng.randrange(len(persons))]
        local = by_region.get(insuplc[:4])
        inst = rng.choice(local) if local and rng.random() > 0.15 else rng.choice(all_codes)
        mdtrtarea = _region_of(insts, inst)
        t = start + timedelta(seconds=span * i // n + rng.randrange(0, 5))
        medfee = (
            rng.randint(1_000, 80_000) if rng.random() < 0.9 else rng.randint(100_000, 3_000_000)
        )
        own = medfee * rng.randint(0, 20) // 100  # 全自费
        inscp = medfee - own
        hifp = inscp * rng.randint(50, 85) // 100
        fund = hifp
        acct = min((medfee - fund) // 2, rng.randint(0, 20_000))
        cash = medfee - fund - acct
        insutype = "310" if rng.random() < 0.6 else "390"
        mdtrt_id = f"BM{i:012d}"
        setl_id = f"BS{i:012d}"
        setl_date = t.date()
        enc = (mdtrt_id, "otp", "settled", psn_no, insutype, "11", inst, insuplc, mdtrtarea, 1)
        amounts = (medfee, own, 0, 0, inscp, 0, hifp, 0, 0, 0, 0, 0, 0, 0, fund, acct + cash,
                   acct, cash, 0, 0)  # fmt: skip
        row = (setl_id, mdtrt_id, "settle", f"MSG{i:012d}", psn_no, inst, insutype, "11", insuplc,
               mdtrtarea, *amounts, "{}", "[]", setl_date.year, None, "10" if insuplc == mdtrtarea
               else "20", t, setl_date)  # fmt: skip
        yield enc, row
        if rng.random() < 0.01:
            neg = tuple(-a for a in amounts)
            back = t + timedelta(minutes=5)
            yield (), (f"BC{i:012d}", mdtrt_id, "cancel", f"MSC{i:012d}", psn_no, inst, insutype,
                       "11", insuplc, mdtrtarea, *neg, "{}", "[]", setl_date.year, setl_id,
                       row[-3], back, back.date())  # fmt: skip


_REGION: dict[str, str] = {}


def _region_of(insts: list[tuple[str, str]], code: str) -> str:
    if not _REGION:
        _REGION.update(insts)
    return _REGION[code]


ENC_COLS = ("mdtrt_id, kind, state, psn_no, insutype, med_type, fixmedins_code, insuplc_admdvs,"
            " mdtrtarea_admvs, version")  # fmt: skip
SETL_COLS = (
    "setl_id, mdtrt_id, kind, msgid, psn_no, fixmedins_code, insutype, med_type, insuplc_admdvs,"
    " mdtrtarea_admvs, medfee_sumamt, fulamt_ownpay_amt, overlmt_selfpay, preselfpay_amt,"
    " inscp_scp_amt, act_pay_dedc, hifp_pay, cvlserv_pay, hifes_pay, hifmi_pay, hifob_pay,"
    " maf_pay, hifdm_pay, oth_pay, fund_pay_sumamt, psn_part_amt, acct_pay, psn_cash_pay,"
    " hosp_part_amt, acct_mulaid_pay, setlinfo, setldetail, acc_year, reverses, clr_type,"
    " setl_time, setl_date"
)

LEDGER_SQL = [
    # one chain per settlement: 统筹 fund → institution (or → clearing for 异地), account → inst.
    """INSERT INTO ledger_chain (chain_id, kind, value_date, setl_id, msgid, fixmedins_code,
         transfer_count, total, fingerprint)
       SELECT 'setl:' || setl_id, 'settlement', setl_date, setl_id, msgid, fixmedins_code,
              (fund_pay_sumamt > 0)::int + (acct_pay > 0)::int, fund_pay_sumamt + acct_pay, 'bench'
         FROM encounter_settlement WHERE kind = 'settle' AND fund_pay_sumamt + acct_pay > 0""",
    """INSERT INTO ledger_transfer (id, chain_id, debit_account, credit_account, amount, code,
         fund_pay_type, value_date)
       SELECT 'setl:' || setl_id || '/1', 'setl:' || setl_id,
              'FUND:' || insuplc_admdvs || ':310100', 'PAY:' || fixmedins_code, fund_pay_sumamt,
              'settlement.fund', '310100', setl_date
         FROM encounter_settlement WHERE kind = 'settle' AND fund_pay_sumamt > 0""",
    """INSERT INTO ledger_transfer (id, chain_id, debit_account, credit_account, amount, code,
         value_date)
       SELECT 'setl:' || setl_id || '/2', 'setl:' || setl_id, 'ACCT:' || psn_no,
              'PAY:' || fixmedins_code, acct_pay, 'settlement.account', setl_date
         FROM encounter_settlement WHERE kind = 'settle' AND acct_pay > 0""",
    """INSERT INTO ledger_account (code, kind, region, normal_side, name, fund_pay_type, owner)
       SELECT DISTINCT a, split_part(a, ':', 1), '', CASE WHEN a LIKE 'CLR:%' OR a LIKE 'BANK:%'
              THEN 'debit' ELSE 'credit' END, a, '', ''
         FROM (SELECT debit_account AS a FROM ledger_transfer
               UNION SELECT credit_account FROM ledger_transfer) x
       ON CONFLICT DO NOTHING""",
    """UPDATE ledger_account SET kind = CASE kind WHEN 'FUND' THEN 'fund' WHEN 'PAY' THEN 'payable'
              WHEN 'ACCT' THEN 'personal' ELSE lower(kind) END,
              region = CASE WHEN code LIKE 'FUND:%' THEN split_part(code, ':', 2) ELSE '' END,
              fund_pay_type = CASE WHEN code LIKE 'FUND:%' THEN split_part(code, ':', 3) ELSE ''
              END
        WHERE name = code""",
]


def load(url: str, rows: int, days: int) -> None:
    import psycopg

    from yibao.db.engine import make_engine

    engine = make_engine(url, pool_size=1)
    with engine.connect() as conn:
        import sqlalchemy as sa

        persons = [
            (str(r[0]), str(r[1]))
            for r in conn.execute(
                sa.text(
                    "SELECT psn_no, insuplc_admdvs FROM enrolment WHERE insutype IN ('310','390')"
                )
            )
        ]
        insts = [
            (str(r[0]), str(r[1]))
            for r in conn.execute(sa.text("SELECT fixmedins_code, admdvs FROM institution"))
        ]
    engine.dispose()
    t0 = time.perf_counter()
    raw = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw) as pg:
        with pg.cursor() as cur:
            # two passes over the same seeded generator: nothing is held in memory
            with cur.copy(f"COPY encounter ({ENC_COLS}) FROM STDIN") as copy:
                for enc, _ in settlement_rows(rows, days, persons, insts, seed=12):
                    if enc:
                        copy.write_row(enc)
            n = 0
            with cur.copy(f"COPY encounter_settlement ({SETL_COLS}) FROM STDIN") as copy:
                for _, setl in settlement_rows(rows, days, persons, insts, seed=12):
                    copy.write_row(setl)
                    n += 1
        pg.commit()
        print(f"  loaded {n:,} settlement records with COPY in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        with pg.cursor() as cur:
            for sql in LEDGER_SQL:
                cur.execute(sql)
        pg.commit()
        print(f"  built the ledger chains in {time.perf_counter() - t0:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from yibao.db.embedded import EmbeddedPostgres
    from yibao.db.engine import make_engine
    from yibao.db.migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="yibao-console-scale-"))
    pg = EmbeddedPostgres(tmp / "pgdata", delete_on_stop=True)
    try:
        url = pg.ensure_database("console_scale")
        upgrade(url)
        engine = make_engine(url, pool_size=2)
        from yibao.console import demo as console_demo
        from yibao.institutions import demo as inst_demo
        from yibao.registry import demo as registry_demo

        t0 = time.perf_counter()
        inst_demo.seed(engine)
        registry_demo.seed(engine)
        console_demo.seed(engine)
        print(f"seeded institutions, persons and users in {time.perf_counter() - t0:.1f} s")
        load(url, args.rows, args.days)
        run(engine, args.repeat)
        engine.dispose()
    finally:
        pg.stop()


def run(engine: Any, repeat: int) -> None:
    import sqlalchemy as sa
    from fastapi.testclient import TestClient

    from yibao.api.app import create_app
    from yibao.encounter.service import rollup_settlements
    from yibao.ledger.service import account_balances, rollup, verify_full, verify_since

    results: list[tuple[str, float]] = []
    before(engine, repeat, results)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        folded = rollup_settlements(conn)
        transfers = rollup(conn)
    print(f"roll-ups: {folded:,} records, {transfers:,} transfers in "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    with engine.connect() as conn:
        conn.execute(sa.text("ANALYZE"))
        conn.commit()
        days = conn.execute(sa.text("SELECT COUNT(*) FROM encounter_settlement_daily")).scalar()
    print(f"  {days:,} roll-up rows")
    with TestClient(create_app(engine), follow_redirects=False) as client:
        pages(client, repeat, results)
    print("ledger")
    with engine.begin() as conn:
        timed("ledger verify --full (first verification)", lambda: verify_full(conn).ok, 1, results)
    with engine.begin() as conn:
        timed("ledger verify (incremental, nothing new)", lambda: verify_since(conn).ok, 1, results)
    post_more(engine, 1_000)
    with engine.begin() as conn:
        timed("ledger verify (incremental, 1,000 new settlements)",
              lambda: verify_since(conn).ok, 1, results)  # fmt: skip
    with engine.connect() as conn:
        timed("ledger balances (all accounts, roll-up + tail)",
              lambda: len(account_balances(conn, date.today())), repeat, results)  # fmt: skip
        timed("ledger balances --kind fund",
              lambda: len(account_balances(conn, date.today(), kind="fund")), repeat, results)  # fmt: skip
    over = [label for label, ms in results if ms >= AIM_MS and not label.startswith(("before", "ledger verify --full"))]  # fmt: skip
    print("every console page under 300 ms" if not over else f"over 300 ms: {over}")


OLD_MONTH = """
SELECT SUM(CASE WHEN kind = 'cancel' THEN -1 ELSE 1 END), SUM(medfee_sumamt), SUM(fund_pay_sumamt)
  FROM encounter_settlement
 WHERE setl_date >= :first AND setl_date <= :last AND ({scope})
"""
NEW_INDEXES = {
    "ix_encounter_settlement_time": "(setl_time, setl_id)",
    "ix_encounter_settlement_insuplc_time": "(insuplc_city, setl_time, setl_id)",
    "ix_encounter_settlement_mdtrtarea_time": "(mdtrtarea_city, setl_time, setl_id)"
    " WHERE insuplc_admdvs <> mdtrtarea_admvs",
    "ix_encounter_settlement_inst_time": "(fixmedins_code, setl_time, setl_id)",
    "ix_encounter_settlement_medfee": "(medfee_sumamt, setl_id)",
}


def before(engine: Any, repeat: int, results: list[tuple[str, float]]) -> None:
    """The queries the console ran before ADR 0018, without its indexes: the newest 100 with a
    ``LIKE`` scope, and the month totals scanned from the settlements."""
    import sqlalchemy as sa

    from yibao.console.model import Scope
    from yibao.encounter import queries as encounters

    print("before (the old queries, without the new list indexes)")
    with engine.begin() as conn:
        for name in NEW_INDEXES:
            conn.execute(sa.text(f"DROP INDEX {name}"))
        conn.execute(sa.text("ANALYZE encounter_settlement"))
    first, last = date.today().replace(day=1), date.today()
    with engine.connect() as conn:
        for label, scope, like in (
            ("全省", Scope(all_regions=True), "TRUE"),
            ("广州", Scope(all_regions=False, prefixes=("4401",)),
             "insuplc_admdvs LIKE '4401%' OR mdtrtarea_admvs LIKE '4401%'"),
        ):  # fmt: skip
            timed(f"before: newest 100 settlements, {label}",
                  lambda s=scope: encounters.search(conn, s, limit=100), repeat, results)  # fmt: skip
            timed(f"before: month totals scanned, {label}",
                  lambda w=like: conn.execute(sa.text(OLD_MONTH.format(scope=w)),
                                              {"first": first, "last": last}).one(),
                  repeat, results)  # fmt: skip
    t0 = time.perf_counter()
    with engine.begin() as conn:
        for name, cols in NEW_INDEXES.items():
            conn.execute(sa.text(f"CREATE INDEX {name} ON encounter_settlement {cols}"))
    print(f"  list indexes built in {time.perf_counter() - t0:.1f} s")


def post_more(engine: Any, n: int) -> None:
    """``n`` more settlement chains through the ledger's own posting (after the watermark)."""
    from yibao.ledger import SettlementPosting, post_settlement

    with engine.begin() as conn:
        for i in range(n):
            post_settlement(
                conn,
                SettlementPosting(
                    setl_id=f"BN{i:08d}", msgid=f"MBN{i:08d}", fixmedins_code="H44010000001",
                    insuplc_admdvs="440100", mdtrtarea_admvs="440100", insutype="310",
                    value_date=date.today(), fund_lines=[("310100", 10_000 + i)], acct_pay=500,
                    psn_no="44010000000000000001",
                ),
            )  # fmt: skip


def pages(client: Any, repeat: int, results: list[tuple[str, float]]) -> None:
    from yibao.console.demo import DEMO_PASSWORD

    def login(user: str) -> None:
        import re

        client.cookies.clear()
        html = client.get("/console/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert token
        r = client.post("/console/login", data={"username": user, "password": DEMO_PASSWORD,
                                                 "csrf_token": token.group(1), "next": "/console/"})  # fmt: skip
        assert r.status_code == 303, r.text

    def get(path: str) -> Callable[[], str]:
        def go() -> str:
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
            return r.text

        return go

    import re

    for user, label in (
        ("admin", "province"),
        ("gz_admin", "Guangzhou"),
        ("gz_his", "institution"),
    ):
        login(user)
        print(f"console pages as {user} ({label})")
        timed(f"{label}: 概览 /console/", get("/console/"), repeat, results)
        html = timed(f"{label}: 结算查询 page 1", get("/console/settlements"), repeat, results)
        m = re.search(r'href="(\?[^"]*after=[^"]+)" rel="next"', html)
        if m:
            nxt = m.group(1).replace("&amp;", "&")
            timed(f"{label}: 结算查询 page 2", get("/console/settlements" + nxt), repeat, results)
        total = re.search(r"共 ([\d,约 ]+) 条", html)
        print(f"    total shown: {total.group(1) if total else '?'}")
        day = date.today().isoformat()
        for q, name in ((f"?date_from={day}&date_to={day}", "today"),
                        ("?sort=medfee_desc", "by 总费用"),
                        ("?insutype=390", "居民"),
                        ("?admdvs=440300", "深圳 filter"),
                        ("?psn_no=44010000000000000001", "one person")):  # fmt: skip
            timed(f"{label}: 结算查询 {name}", get("/console/settlements" + q), repeat, results)
        if user != "gz_his":
            timed(f"{label}: 参保人 page 1", get("/console/persons"), repeat, results)
            timed(f"{label}: 定点机构", get("/console/institutions"), repeat, results)
        timed(f"{label}: 对账与清算", get("/console/reconciliation"), repeat, results)


if __name__ == "__main__":
    main()
