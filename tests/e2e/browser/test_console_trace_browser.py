"""The console's 计算过程 of a settlement made through the national interface (gateway, over
real HTTP) shows every parameter the engine used with its value and its 依据, in Chinese.

The settlement is a 深圳 employee's outpatient visit (1101 → 2201 → 2203 → 2204 → 2206 → 2207)
at 深圳市人民医院 by :mod:`yibao.hissim.flows`; the page is then read in Chromium and compared
with the trace the gateway stored. Screenshot: test-artifacts/screenshots/16-trace-gateway.png.
"""

from __future__ import annotations

import json
import random
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.conftest import new_database
from tests.e2e.browser.conftest import shot, sign_in
from yibao.checkout import demo as persons
from yibao.client import NhsaClient
from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine
from yibao.hissim import flows
from yibao.institutions import demo as institutions

pytestmark = pytest.mark.browser

HOSPITAL = "H44030000001"  # 深圳市人民医院 (三级)
PERSONS = 20


@pytest.fixture(scope="module")
def console_db(pg: EmbeddedPostgres, template_url: str) -> tuple[str, None]:
    """Only what a gateway settlement and the console need (no demo traffic): the catalogue,
    console users, institutions and a few demo insured."""
    from yibao.catalog.service import seed_demo as catalog_seed
    from yibao.checkout import demo as persons
    from yibao.console import demo as console_demo

    url = new_database(pg, template_url)
    engine = make_engine(url, pool_size=2)
    try:
        for seed in (catalog_seed, console_demo.seed, institutions.seed):
            seed(engine)
        persons.seed(engine, PERSONS)
    finally:
        engine.dispose()
    return url, None


@pytest.fixture(scope="module")
def gateway_setl(console_url: str, console_db: tuple[str, None]) -> tuple[str, list[dict]]:
    """One outpatient settlement through the gateway; its id and the trace it stored."""
    row = next(r for r in institutions.DEMO_INSTITUTIONS if r[0] == HOSPITAL)
    with NhsaClient(
        console_url, fixmedins_code=HOSPITAL, fixmedins_name=row[1], mdtrtarea_admvs=row[3],
        app_key=institutions.demo_app_key(HOSPITAL), app_secret=institutions.demo_secret(HOSPITAL),
    ) as client:  # fmt: skip
        client.sign_in()
        row = next(
            r for r in persons.demo_rows(PERSONS)
            if r["insutype"] == "310" and r["insuplc_admdvs"] == "440300"
        )  # fmt: skip
        patient = flows.lookup(client, row["certno"])
        visit = flows.outpatient(client, patient, random.Random(11), lines=5)
    engine = make_engine(console_db[0], pool_size=1)
    try:
        with engine.connect() as conn:
            trace = conn.execute(
                sa.text("SELECT trace FROM encounter_settlement WHERE setl_id = :s"),
                {"s": visit.setl_id},
            ).scalar_one()
    finally:
        engine.dispose()
    return visit.setl_id, trace


def test_trace_of_a_gateway_settlement_shows_values_and_references(
    page: Page, console_url: str, gateway_setl: tuple[str, list[dict]]
) -> None:
    setl_id, stored = gateway_setl
    params = [p for step in stored for p in step["params"]]
    assert len(params) >= 5, "the gateway stored the trace with its parameters"
    assert all(isinstance(p, dict) and p.get("value") for p in params)
    sign_in(page, console_url, "admin")
    resp = page.goto(f"{console_url}/console/settlements/{setl_id}")
    assert resp is not None and resp.status == 200
    expect(page.locator("h1.page-title")).to_have_text("结算单详情")
    page.evaluate("document.querySelectorAll('ol.trace details').forEach(d => d.open = true)")
    trace = page.locator("ol.trace")
    text = trace.text_content() or ""
    rows = trace.locator(".trace-params > li")
    assert rows.count() == len(params)
    for i, p in enumerate(params):
        row = " ".join((rows.nth(i).text_content() or "").split())
        assert p["label"] in row and p["value"] in row, (row, p)
        ref = " ".join((p["reason"] if p.get("assumed") else p["reference"]).split())
        assert f"依据：{ref}" in row, (row, p)
        if p.get("assumed"):
            assert "假设值" in row
        assert p["key"] not in text  # no raw parameter keys on screen
    assert re.search(r"起付线\S* = [\d,]+\.\d\d 元", text), "the deductible applied, in 元"
    assert re.search(r"支付比例 = \d+(\.\d+)?%", text), "the ratio applied, in %"
    for raw in ("none", "false", "true", '{"', "default", "employee."):
        assert raw not in text, f"raw value {raw!r} on screen"
    assert "深圳市" in text  # the region that set the parameter, by name
    shot(page, "16-trace-gateway")


def test_old_traces_with_bare_keys_still_render(
    page: Page, console_url: str, console_db: tuple[str, None], gateway_setl: tuple[str, list]
) -> None:
    """Settlements stored before the one serialiser kept only parameter keys: the page still
    renders them by name, says the value was not kept, and shows no key."""
    setl_id, stored = gateway_setl
    old = [
        {"step": s["step"], "label": s["label"], "amount": 1234, "detail": s["detail"],
         "params": [p["key"] for p in s["params"]]}
        for s in stored
    ]  # fmt: skip
    engine = make_engine(console_db[0], pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE encounter_settlement SET trace = CAST(:t AS jsonb) WHERE setl_id = :s"
                ),
                {"t": json.dumps(old), "s": setl_id},
            )
        sign_in(page, console_url, "admin")
        resp = page.goto(f"{console_url}/console/settlements/{setl_id}")
        assert resp is not None and resp.status == 200
        text = page.locator("ol.trace").text_content() or ""
        assert "12.34 元" in text and "该结算记录未保存参数取值和依据" in text
        labels = [p["label"] for s in stored for p in s["params"]]
        assert labels and all(label in text for label in labels)  # named, not keyed
        assert "employee." not in text and "resident." not in text
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE encounter_settlement SET trace = CAST(:t AS jsonb) WHERE setl_id = :s"
                ),
                {"t": json.dumps(stored), "s": setl_id},
            )
        engine.dispose()
