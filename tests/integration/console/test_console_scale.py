"""The console at province scale (ADR 0018): keyset paging with true totals, sorts, filters and
region scope; daily roll-ups equal to the settlements to the fen; streamed exports."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.integration.console import scale_data
from tests.integration.console.conftest import login
from yibao.console.model import Scope
from yibao.encounter import daily, listing
from yibao.encounter import queries as encounters
from yibao.encounter.amounts import AMOUNT_FIELDS
from yibao.encounter.service import rollup_settlements

N = 130
PROVINCE = Scope(all_regions=True)
GUANGZHOU = Scope(all_regions=False, prefixes=("4401",))


def _expected(
    conn: sa.Connection, where: str = "TRUE", order: str = "setl_time DESC, setl_id DESC"
) -> list[str]:
    sql = f"SELECT setl_id FROM encounter_settlement WHERE {where} ORDER BY {order}"
    return list(conn.execute(sa.text(sql)).scalars())


def _walk(
    conn: sa.Connection, scope: Scope, f: listing.Filter, sort: str, size: int
) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        got = listing.page(conn, scope, f, sort=sort, cursor=cursor, size=size)
        pages.append([r["setl_id"] for r in got.rows])
        if got.next is None:
            return pages
        cursor = got.next


def _flat(pages: list[list[str]]) -> list[str]:
    return [x for p in pages for x in p]


def test_keyset_pages_cover_the_list_once_in_order_forward_and_back(engine: Engine) -> None:
    with engine.begin() as conn:
        scale_data.load(conn, N)
    with engine.connect() as conn:
        everything = _expected(conn)
        assert len(everything) == N + N // 11
        pages = _walk(conn, PROVINCE, listing.Filter(), "time_desc", 50)
        assert [len(p) for p in pages] == [50, 50, len(everything) - 100]
        assert _flat(pages) == everything  # ties on setl_time broken by setl_id
        first = listing.page(conn, PROVINCE, listing.Filter(), size=50)
        assert first.total == len(everything) and first.prev is None
        second = listing.page(conn, PROVINCE, listing.Filter(), cursor=first.next, size=50)
        third = listing.page(conn, PROVINCE, listing.Filter(), cursor=second.next, size=50)
        assert third.next is None
        back = listing.page(conn, PROVINCE, listing.Filter(), cursor=third.prev, size=50)
        assert [r["setl_id"] for r in back.rows] == pages[1]
        assert back.prev is not None and back.next is not None
        back1 = listing.page(conn, PROVINCE, listing.Filter(), cursor=back.prev, size=50)
        assert [r["setl_id"] for r in back1.rows] == pages[0] and back1.prev is None


def test_sorts_filters_and_true_totals(engine: Engine) -> None:
    with engine.begin() as conn:
        scale_data.load(conn, N)
    with engine.connect() as conn:
        for sort, order in (
            ("time_asc", "setl_time ASC, setl_id ASC"),
            ("medfee_desc", "medfee_sumamt DESC, setl_id DESC"),
            ("medfee_asc", "medfee_sumamt ASC, setl_id ASC"),
        ):
            assert _flat(_walk(conn, PROVINCE, listing.Filter(), sort, 40)) == _expected(
                conn, order=order
            )
        day = date(2026, 11, 1)
        cases: list[tuple[listing.Filter, str]] = [
            (listing.Filter(insutype="390"), "insutype = '390'"),
            (listing.Filter(date_from=day, date_to=day), "setl_date = '2026-11-01'"),
            (
                listing.Filter(admdvs="440300"),
                "(insuplc_admdvs = '440300' OR mdtrtarea_admvs = '440300')",
            ),
            (listing.Filter(fixmedins_code="H44010000001"), "fixmedins_code = 'H44010000001'"),
            (listing.Filter(psn_no="P440100000012"), "psn_no = 'P440100000012'"),
            (listing.Filter(setl_id="TS00000011"), "setl_id = 'TS00000011'"),
        ]
        for f, where in cases:
            want = _expected(conn, where)
            assert want, where
            assert _flat(_walk(conn, PROVINCE, f, "time_desc", 20)) == want, where
            assert listing.count(conn, PROVINCE, f) == len(want), where


def test_region_scope_uses_both_ends_without_duplicates(engine: Engine) -> None:
    with engine.begin() as conn:
        scale_data.load(conn, N)
    with engine.connect() as conn:
        want = _expected(conn, "insuplc_admdvs LIKE '4401%' OR mdtrtarea_admvs LIKE '4401%'")
        cross = _expected(
            conn, "insuplc_admdvs <> mdtrtarea_admvs AND mdtrtarea_admvs LIKE '4401%'"
        )
        assert cross  # 深圳/梅州 insured treated in 广州 are in 广州's list too
        got = _flat(_walk(conn, GUANGZHOU, listing.Filter(), "time_desc", 25))
        assert got == want and len(set(got)) == len(got)
        assert listing.count(conn, GUANGZHOU, listing.Filter()) == len(want)
        inst = Scope(all_regions=False, prefixes=("4401",), fixmedins_code="H44010000001")
        assert _flat(_walk(conn, inst, listing.Filter(), "time_asc", 7)) == _expected(
            conn, "fixmedins_code = 'H44010000001'", "setl_time ASC, setl_id ASC"
        )
        county = Scope(all_regions=False, prefixes=("440300",))
        assert _flat(_walk(conn, county, listing.Filter(), "time_desc", 30)) == _expected(
            conn, "insuplc_admdvs = '440300' OR mdtrtarea_admvs = '440300'"
        )


def _direct(conn: sa.Connection) -> dict[tuple[Any, ...], dict[str, int]]:
    sums = ", ".join(f"SUM({a}) AS {a}" for a in AMOUNT_FIELDS)
    dims = ", ".join(daily.DIMENSIONS)
    sql = (
        f"SELECT {dims}, COUNT(*) AS records,"
        f" SUM(CASE WHEN kind = 'cancel' THEN -1 ELSE 1 END) AS n, {sums}"
        f" FROM encounter_settlement GROUP BY {dims}"
    )
    out = {}
    for m in conn.execute(sa.text(sql)).mappings():
        out[tuple(m[d] for d in daily.DIMENSIONS)] = {
            k: int(m[k]) for k in ("records", "n", *AMOUNT_FIELDS)
        }
    return out


def _rolled(conn: sa.Connection) -> dict[tuple[Any, ...], dict[str, int]]:
    rows = daily.totals(conn, "TRUE", {}, group_by=daily.DIMENSIONS, fields=AMOUNT_FIELDS)
    return {
        tuple(r[d] for d in daily.DIMENSIONS): {k: r[k] for k in ("records", "n", *AMOUNT_FIELDS)}
        for r in rows
    }


def test_rollup_equals_the_settlements_to_the_fen_before_between_and_after(engine: Engine) -> None:
    with engine.begin() as conn:
        scale_data.load(conn, 60)
    with engine.connect() as conn:
        assert _rolled(conn) == _direct(conn)  # nothing rolled: all from the live tail
    with engine.begin() as conn:
        assert rollup_settlements(conn) == 60 + 60 // 11
    with engine.begin() as conn:
        scale_data.load(conn, 70, first=61)  # same days and dimensions: rolled + tail
    with engine.connect() as conn:
        assert _rolled(conn) == _direct(conn)
        assert conn.execute(sa.text("SELECT COUNT(*) FROM encounter_settlement_daily")).scalar()
    with engine.begin() as conn:
        assert rollup_settlements(conn) == 70 + (130 // 11 - 60 // 11)
        assert rollup_settlements(conn) == 0  # each record folded exactly once
    with engine.connect() as conn:
        assert _rolled(conn) == _direct(conn)
        month = encounters.Period(conn, GUANGZHOU, date(2026, 11, 1), date(2026, 11, 30))
        got = month.totals(["acct_pay", "psn_cash_pay"])
        want = conn.execute(
            sa.text(
                "SELECT SUM(CASE WHEN kind = 'cancel' THEN -1 ELSE 1 END), SUM(medfee_sumamt),"
                " SUM(fund_pay_sumamt), SUM(acct_pay), SUM(psn_cash_pay)"
                " FROM encounter_settlement WHERE setl_date BETWEEN '2026-11-01' AND '2026-11-30'"
                " AND (insuplc_admdvs LIKE '4401%' OR mdtrtarea_admvs LIKE '4401%')"
            )
        ).one()
        assert (
            got["n"],
            got["medfee"],
            got["fund"],
            got["acct_pay"],
            got["psn_cash_pay"],
        ) == tuple(int(x) for x in want)
        assert got["medfee"] == got["fund"] + got["acct_pay"] + got["psn_cash_pay"]


def test_settlements_page_shows_the_true_total_pages_and_streams_exports(
    client: TestClient, seeded: Engine
) -> None:
    with seeded.begin() as conn:
        scale_data.load(conn, N)
    total = N + N // 11
    login(client, "admin")
    page1 = client.get("/console/settlements")
    assert page1.status_code == 200
    assert f"共 {total:,} 条 · 第 1 / 3 页" in page1.text
    assert '<th class="num">个人账户</th>' in page1.text
    link = page1.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    page2 = client.get("/console/settlements" + link.replace("&amp;", "&"))
    assert f"共 {total:,} 条 · 第 2 / 3 页" in page2.text
    first_ids = {x.split("<")[0] for x in page1.text.split('class="mono">')[1:]}
    second_ids = {x.split("<")[0] for x in page2.text.split('class="mono">')[1:]}
    assert len(first_ids) == 50 and len(second_ids) == 50 and not first_ids & second_ids
    for bad in ("?after=a~not-a-time~TS1&p=x", "?sort=medfee_desc&after=a~12.5~TS1&p=-3"):
        r = client.get("/console/settlements" + bad)  # hand-edited links: page 1, never a 500
        assert r.status_code == 200 and f"共 {total:,} 条 · 第 1 / 3 页" in r.text
    filtered = client.get("/console/settlements?insutype=390&sort=medfee_desc")
    with seeded.connect() as conn:
        n390 = len(_expected(conn, "insutype = '390'"))
    assert f"共 {n390:,} 条" in filtered.text
    r = client.get("/console/settlements.csv?insutype=390")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "结算编号" and "个人账户（元）" in rows[0]
    assert len(rows) == 1 + n390
    x = client.get("/console/settlements.xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(x.content), read_only=True).active
    assert ws is not None
    cells = list(ws.iter_rows(values_only=True))
    assert len(cells) == 1 + total and cells[0][0] == "结算编号"
    acct_fen = sum(round(float(str(r[10])) * 100) for r in cells[1:])  # 个人账户（元）
    assert acct_fen == sum(scale_data.amounts(i)["acct_pay"] for i in range(1, N + 1) if i % 11)
    login(client, "gz_admin")
    gz = client.get("/console/settlements")
    with seeded.connect() as conn:
        n_gz = len(_expected(conn, "insuplc_admdvs LIKE '4401%' OR mdtrtarea_admvs LIKE '4401%'"))
    assert f"共 {n_gz:,} 条" in gz.text


def test_persons_and_institutions_pages_show_true_totals(
    client: TestClient, seeded: Engine
) -> None:
    from yibao.institutions import demo as inst_demo
    from yibao.registry import demo as registry_demo

    inst_demo.seed(seeded)
    registry_demo.seed(seeded)
    with seeded.connect() as conn:
        persons = conn.execute(  # the deployment's province (YIBAO_PROVINCE, default 44)
            sa.text(
                "SELECT COUNT(DISTINCT psn_no) FROM enrolment WHERE insuplc_admdvs LIKE '44%'"
            )
        ).scalar_one()
        gz = conn.execute(
            sa.text(
                "SELECT COUNT(DISTINCT psn_no) FROM enrolment WHERE insuplc_admdvs LIKE '4401%'"
            )
        ).scalar_one()
        insts = conn.execute(
            sa.text("SELECT COUNT(*) FROM institution WHERE admdvs LIKE '44%'")
        ).scalar_one()
    assert persons > 100
    login(client, "admin")
    p1 = client.get("/console/persons")
    assert f"共 {persons:,} 条 · 第 1 / {-(-persons // 50):,} 页" in p1.text
    link = p1.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    p2 = client.get("/console/persons" + link.replace("&amp;", "&"))
    assert f"共 {persons:,} 条 · 第 2 / " in p2.text
    back = p2.text.split('rel="prev"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert client.get("/console/persons" + back.replace("&amp;", "&")).text.count(
        "/console/persons/"
    ) == p1.text.count("/console/persons/")
    assert f"共 {insts:,} 条" in client.get("/console/institutions").text
    login(client, "gz_admin")
    assert f"共 {gz:,} 条" in client.get("/console/persons").text
