"""Funds console pages in a real browser (单位缴费, 基金收支, 可支付月数) over the demo province.

The demo seeds a year of contributions before its settlements; each page is drawn, its chart
rendered by the vendored ECharts, its Excel export downloaded and read back, and the roles'
limits checked (the analyst sees aggregates only; a city administrator only their region).
Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _xlsx(page: Page, link: str) -> list[tuple[object, ...]]:
    with page.expect_download() as info:
        page.click(link)
    data = open(info.value.path(), "rb").read()  # noqa: SIM115
    ws = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


def test_funds_pages_draw_real_data_and_export(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "admin")
    page.goto(console_url + "/console/funds/units?admdvs=440100")
    expect(page.locator("h1")).to_have_text("单位缴费")
    page.wait_for_selector("[data-chart=collection] canvas")
    units = page.locator("[data-testid=units-table]")
    expect(units).to_contain_text("广州示范电子有限公司")
    expect(units).to_contain_text("缓缴")  # the demo's deferral, with who approved it
    shot(page, "40-funds-units")
    rows = _xlsx(page, "[data-testid=export-xlsx]")
    assert rows[0][:3] == ("费款所属期", "核定人次", "核定金额(元)") and len(rows) == 13

    page.goto(console_url + "/console/funds/flows?admdvs=440300")
    expect(page.locator("h1")).to_have_text("基金收支")
    page.wait_for_selector("[data-chart=flows] canvas")
    expect(page.locator("main")).to_contain_text("职工基本医疗保险统筹基金")
    shot(page, "41-fund-flows")
    rows = _xlsx(page, "[data-testid=export-xlsx]")
    assert rows[0] == ("基金", "月份", "收入(元)", "支出(元)", "期初结转(元)", "期末余额(元)")

    page.goto(console_url + "/console/funds/months?admdvs=440300")
    expect(page.locator("h1")).to_have_text("可支付月数")
    page.wait_for_selector("[data-chart=months] canvas")
    page.wait_for_selector("[data-chart=trend] canvas")
    table = page.locator("[data-testid=months-table]")
    expect(table).to_contain_text("职工基本医疗保险统筹基金")
    assert "-" not in "".join(table.locator("td.num").all_inner_texts()).replace("—", "")
    shot(page, "42-fund-months")
    rows = _xlsx(page, "[data-testid=export-xlsx]")
    assert rows[0][0] == "基金" and rows[0][5] == "可支付月数"


def test_analyst_sees_aggregates_and_city_admin_its_region(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "analyst")
    page.goto(console_url + "/console/funds/units?admdvs=440100")
    expect(page.locator("main")).to_contain_text("政策分析员只查看汇总数据")
    assert page.locator("[data-testid=units-table]").count() == 0
    expect(page.locator("main")).to_contain_text("按缴费类别汇总")
    shot(page, "43-funds-units-analyst")
    page.goto(console_url + "/console/logout")
    page.context.clear_cookies()
    sign_in(page, console_url, "sz_admin")
    nav = page.locator("nav[aria-label=主导航]")
    expect(nav).to_contain_text("单位缴费")
    r = page.goto(console_url + "/console/funds/months?admdvs=440100")
    assert r is not None and r.status == 404
