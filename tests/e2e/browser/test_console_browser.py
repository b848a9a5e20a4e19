"""The console in headless Chromium: login, CSRF, logout, roles and scope, every page in Chinese.

Each page is saved to test-artifacts/screenshots/ for a human to look at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import shot, sign_in
from tests.integration.console.data import Seeded

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u4e00-\u9fff]")

# (path, page title h1, screenshot name)
ADMIN_PAGES = [
    ("/console/", "总览", "01-overview"),
    ("/console/persons", "参保人查询", "02-persons"),
    ("/console/settlements", "结算查询", "03-settlements"),
    ("/console/institutions", "定点机构", "04-institutions"),
    ("/console/policy", "政策查询", "05-policy"),
    ("/console/reconciliation", "对账与清算", "06-reconciliation"),
    ("/console/audit", "审计日志", "07-audit"),
    ("/console/account", "修改密码", "08-account"),
]


def test_login_page_failure_then_success(page: Page, console_url: str) -> None:
    page.goto(console_url + "/")
    expect(page).to_have_url(re.compile(r"/console/login"))
    expect(page.locator(".login-title")).to_have_text("医保经办管理平台")
    shot(page, "00-login")
    sign_in(page, console_url, "admin", "wrong-password-1")
    expect(page.locator(".notice.error")).to_have_text("用户名或密码错误")
    shot(page, "00-login-failed")
    sign_in(page, console_url, "admin")
    expect(page.locator("h1.page-title")).to_have_text("总览")
    expect(page.get_by_test_id("user-name")).to_have_text("省医保局管理员")
    expect(page.locator(".region-chip")).to_contain_text("全省")


def test_every_page_renders_in_chinese(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "admin")
    for path, title, name in ADMIN_PAGES:
        resp = page.goto(console_url + path)
        assert resp is not None and resp.status == 200, path
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        expect(page.locator("h1.page-title")).to_have_text(title)
        expect(page.locator("nav.crumbs")).to_contain_text("首页")
        body = page.locator("main.content").inner_text()
        assert len(CJK.findall(body)) > 10, f"{path} shows little Chinese text"
        assert "Internal Server Error" not in body and "Traceback" not in body
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366, (
            f"{path} scrolls sideways"
        )
        shot(page, name)
    # the vendored chart library is served locally and loads
    page.goto(console_url + "/console/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof echarts") == "object"


def test_logout_form_without_valid_csrf_is_refused(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "gz_admin")
    page.eval_on_selector(
        "form[action='/console/logout'] input[name=csrf_token]", "e => e.value = 'forged'"
    )
    page.click("form[action='/console/logout'] button")
    expect(page.locator("h1")).to_have_text("安全校验失败")
    shot(page, "09-csrf-refused")
    # still signed in: the forged post changed nothing
    page.goto(console_url + "/console/")
    expect(page.get_by_test_id("user-name")).to_have_text("广州市医保局管理员")


def test_logout_ends_the_session(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "sz_admin")
    page.click("form[action='/console/logout'] button")
    expect(page.locator(".notice.ok")).to_have_text("您已安全退出。")
    page.goto(console_url + "/console/settlements")
    expect(page).to_have_url(re.compile(r"/console/login\?next="))


def test_roles_limit_pages_and_navigation(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "analyst")
    nav = page.locator("aside nav").inner_text()
    assert "总览" in nav and "政策查询" in nav
    assert "参保人查询" not in nav and "结算查询" not in nav
    page.goto(console_url + "/console/persons")
    expect(page.locator("h1")).to_have_text("无权访问")
    shot(page, "10-forbidden")
    page.goto(console_url + "/console/settlements/ANY")
    expect(page.locator("h1")).to_have_text("无权访问")


def test_city_admin_region_is_shown_and_audit_is_closed(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "gz_admin")
    expect(page.locator(".region-chip")).to_have_text("广州市")
    page.goto(console_url + "/console/audit")
    expect(page.locator("h1")).to_have_text("无权访问")


def test_city_admin_cannot_open_another_citys_records_even_by_url(
    page: Page, console_url: str, known: Seeded
) -> None:
    sign_in(page, console_url, "gz_admin")
    for path in (f"/console/persons/{known.sz_psn}", f"/console/settlements/{known.sz_setl}"):
        resp = page.goto(console_url + path)
        assert resp is not None and resp.status == 404
        expect(page.locator("h1")).to_have_text("未找到记录")
        expect(page.locator("body")).not_to_contain_text("林晓燕")
    shot(page, "11-out-of-scope")
    resp = page.goto(console_url + f"/console/persons/{known.gz_psn}")
    assert resp is not None and resp.status == 200
    expect(page.locator("main")).to_contain_text("陈志强")


def test_person_and_settlement_detail_pages(page: Page, console_url: str, known: Seeded) -> None:
    sign_in(page, console_url, "admin")
    page.goto(console_url + "/console/persons?q=陈志强")
    row = page.locator("table.table tbody tr").first
    expect(row).to_contain_text("陈志强")
    assert re.search(r"\*{8}", row.inner_text())  # masked ID number
    shot(page, "12-persons-search")
    row.locator("a").first.click()
    expect(page.locator("h1.page-title")).to_have_text("参保人详情")
    expect(page.locator("main")).to_contain_text("职工基本医疗保险（310）")
    shot(page, "13-person-detail")
    page.locator(f"a[href='/console/settlements/{known.gz_setl}']").first.click()
    expect(page.locator("h1.page-title")).to_have_text("结算单详情")
    main = page.locator("main")
    for text in ("费用构成", "基金支付明细", "费用明细分割", "计算过程", "依据"):
        expect(main).to_contain_text(text)
    shot(page, "14-settlement-detail")
    # the list pages 50 at a time among the demo's hundreds: filter to the person's settlements
    page.goto(console_url + f"/console/settlements?psn_no={known.gz_psn}")
    expect(page.locator("table.table")).to_contain_text(known.cross_setl)
    shot(page, "15-settlements-list")


def test_overview_draws_charts_from_real_data(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "admin")
    page.wait_for_selector("[data-chart=settle_by_region] canvas")
    page.wait_for_selector("[data-chart=fund_pay] canvas")
    page.wait_for_selector("[data-chart=cross_region] canvas")
    shot(page, "01-overview-data")
    page.goto(console_url + "/console/institutions")
    expect(page.locator("table.table")).to_contain_text("广州市第一人民医院")
    page.goto(console_url + "/console/policy?admdvs=440300")
    expect(page.locator("main")).to_contain_text("执行的政策参数")
    shot(page, "05-policy-440300")
