"""Console lists in headless Chromium (issue 12 part 4): the true total, page 2 and back, sort and
filter, on a database holding the demo persons, institutions and 180 settlements (plus their
cancellations) written straight into the real tables. Screenshots go to
test-artifacts/screenshots/ (30-…)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import new_database
from tests.e2e.browser.conftest import shot, sign_in
from tests.integration.console import scale_data
from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine

pytestmark = pytest.mark.browser

SETTLEMENTS = 180
TOTAL = SETTLEMENTS + SETTLEMENTS // 11  # with the cancellation records


@pytest.fixture(scope="module")
def console_db(pg: EmbeddedPostgres, template_url: str) -> Iterator[tuple[str, None]]:
    from yibao.console import demo as console_demo
    from yibao.encounter.service import rollup_settlements
    from yibao.institutions import demo as inst_demo
    from yibao.registry import demo as registry_demo

    url = new_database(pg, template_url)
    engine = make_engine(url, pool_size=2)
    try:
        console_demo.seed(engine)
        inst_demo.seed(engine)
        registry_demo.seed(engine)
        with engine.begin() as conn:
            scale_data.load(conn, SETTLEMENTS)
        with engine.begin() as conn:
            rollup_settlements(conn)
    finally:
        engine.dispose()
    yield url, None


def _first_id(page: Page) -> str:
    return page.locator("table.table tbody tr td a.mono").first.inner_text()


def test_settlements_page_shows_the_true_total_and_moves_to_page_2(
    page: Page, console_url: str
) -> None:
    sign_in(page, console_url, "admin")
    page.goto(console_url + "/console/settlements")
    pages = -(-TOTAL // 50)
    total = page.locator(".pager-total").first
    expect(total).to_have_text(f"共 {TOTAL:,} 条 · 第 1 / {pages} 页")
    expect(page.locator("table.table thead")).to_contain_text("个人账户")
    expect(page.locator("table.table tbody tr")).to_have_count(50)
    first_on_1 = _first_id(page)
    shot(page, "30-settlements-paging-page1")
    page.locator("a[rel=next]").first.click()
    page.wait_for_load_state("networkidle")
    expect(total).to_have_text(f"共 {TOTAL:,} 条 · 第 2 / {pages} 页")
    expect(page.locator("table.table tbody tr")).to_have_count(50)
    assert _first_id(page) != first_on_1
    assert re.search(r"after=", page.url)
    shot(page, "31-settlements-paging-page2")
    page.locator("a[rel=prev]").first.click()
    page.wait_for_load_state("networkidle")
    expect(total).to_have_text(f"共 {TOTAL:,} 条 · 第 1 / {pages} 页")
    assert _first_id(page) == first_on_1


def test_filter_and_sort_keep_the_total_true(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "gz_admin")
    page.goto(console_url + "/console/settlements")
    page.select_option("#insutype", "390")
    page.select_option("#sort", "medfee_desc")
    page.click("form.card button[type=submit]")
    page.wait_for_load_state("networkidle")
    text = page.locator(".pager-total").first.inner_text()
    m = re.match(r"共 (\d+) 条 · 第 1 / (\d+) 页", text)
    assert m, text
    fees = [
        float(x.replace(",", ""))
        for x in page.locator("table.table tbody tr td:nth-child(7)").all_inner_texts()
    ]
    assert fees == sorted(fees, reverse=True) and len(fees) == min(50, int(m.group(1)))
    shot(page, "32-settlements-filter-sort")


def test_persons_page_pages_through_every_insured(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "admin")
    page.goto(console_url + "/console/persons")
    text = page.locator(".pager-total").first.inner_text()
    m = re.match(r"共 ([\d,]+) 条 · 第 1 / ([\d,]+) 页", text)
    assert m and int(m.group(1).replace(",", "")) > 1000, text
    page.locator("a[rel=next]").first.click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".pager-total").first).to_contain_text("第 2 / ")
    shot(page, "33-persons-paging-page2")
