"""The console as a bureau user meets it (issue 12 part 4), in Chromium over the demo data.

- one province per deployment: the same database (the demo seeds Guangdong and 广水, Hubei)
  served as the Guangdong deployment (``YIBAO_PROVINCE=44``) shows only Guangdong's regions, by
  name; served as the Hubei deployment (``42``) only Hubei's;
- no identifiers on screen: the 审计日志, 政策查询 and a settlement's 计算过程 show no audit
  action, channel, group or parameter key;
- favicon served and linked; a screenshot of every page of the navigation (province admin) in
  test-artifacts/screenshots/console-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser.conftest import shot, sign_in
from tests.e2e.conftest import ServerProcess
from tests.integration.console.data import Seeded
from yibao.policy.model import DIMENSIONS
from yibao.policy.schema import SPECS
from yibao.voucher.base import CHANNEL_KINDS
from yibao.web.labels_audit import action_choices

pytestmark = pytest.mark.browser

HUBEI_NAMES = ("广水", "湖北", "随州")
DIMENSION_KEYS = {k for keys in DIMENSIONS.values() for k in keys if not k.isdigit()}


@pytest.fixture(scope="module")
def console_url(console_db: tuple[str, Seeded]) -> Iterator[str]:
    """The Guangdong deployment's console (overrides the shared fixture to name the province)."""
    server = ServerProcess(console_db[0], {"YIBAO_PROVINCE": "44"})
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def hubei_url(console_db: tuple[str, Seeded]) -> Iterator[str]:
    server = ServerProcess(console_db[0], {"YIBAO_PROVINCE": "42"})
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def identifiers(text: str, vocabulary: set[str]) -> list[str]:
    """The words of ``text`` that are identifiers of ``vocabulary`` (whole words only)."""
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9_.]*[A-Za-z0-9]", text))
    return sorted(words & vocabulary)


def test_guangdong_console_shows_guangdong_only_by_name(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "admin")
    expect(page.locator(".region-chip")).to_have_text("广东省（全省）")
    main = page.locator("main").inner_text()
    assert "统计范围：广东省（全省）" in main
    charts = " ".join(page.locator("script[type='application/json']").all_text_contents())
    assert "广州市" in charts and not any(n in charts for n in HUBEI_NAMES)
    shot(page, "console-scope-guangdong")

    page.goto(console_url + "/console/policy")
    options = page.locator("#admdvs option").all_inner_texts()
    assert "广州市" in options and "广东省" in options
    assert not any(n in o for o in options for n in HUBEI_NAMES), options
    assert not any(re.search(r"\d{4}", o) for o in options), options  # names, not codes

    for path in ("/console/institutions", "/console/settlements", "/console/campaigns"):
        page.goto(console_url + path)
        text = page.locator("main").inner_text()
        assert not any(n in text for n in HUBEI_NAMES), path
    page.goto(console_url + "/console/institutions/H42138100001")
    expect(page.locator("body")).to_contain_text("未找到该记录")

    page.goto(console_url + "/services/ask")
    options = page.locator("#admdvs option").all_inner_texts()
    assert "广州市" in options and not any(n in o for o in options for n in HUBEI_NAMES)


def test_hubei_deployment_shows_hubei_only(browser: Browser, hubei_url: str) -> None:
    """The same data served as Hubei's deployment: 广水 and its campaign, no Guangdong city."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 860})
    page = context.new_page()
    sign_in(page, hubei_url, "admin")
    expect(page.locator(".region-chip")).to_have_text("湖北省（全省）")
    page.goto(hubei_url + "/console/institutions")
    text = page.locator("main").inner_text()
    assert "广水市第一人民医院" in text and "广州" not in text and "深圳" not in text
    page.goto(hubei_url + "/console/campaigns")
    expect(page.locator("[data-testid=campaigns-table]")).to_contain_text("广水市")
    shot(page, "console-scope-hubei")
    context.close()


def test_city_admin_scope_line_is_a_name(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "gz_admin")
    expect(page.locator(".region-chip")).to_have_text("广州市")
    assert "统计范围：广州市" in page.locator("main").inner_text()


def test_audit_policy_and_trace_show_no_identifiers(
    page: Page, console_url: str, known: Seeded
) -> None:
    sign_in(page, console_url, "admin")
    for setl_id in (known.sz_setl, known.cross_setl, known.gz_setl):  # audited: views
        page.goto(console_url + f"/console/settlements/{setl_id}")
        trace = page.locator("main").inner_text()
        assert "计算过程" in trace and "政策或异地未备案" not in trace
        bad = identifiers(trace, DIMENSION_KEYS | set(SPECS) | {"true", "false", "none"})
        assert not bad, (setl_id, bad)
    shot(page, "console-trace")

    page.goto(console_url + "/console/audit")
    text = page.locator("main table").inner_text()
    assert "查看结算单" in text and "登录成功" in text
    vocabulary = set(action_choices()) | set(CHANNEL_KINDS) | {"chnl", "nhsa"}
    assert not identifiers(text, vocabulary), identifiers(text, vocabulary)
    shot(page, "console-audit")
    page.goto(console_url + "/console/audit?action=voucher.channel.register")
    text = page.locator("main table").inner_text()
    assert "登记激活渠道" in text and "国家医保服务平台" in text  # the demo's channels, by name
    assert not identifiers(text, vocabulary), identifiers(text, vocabulary)

    for region in ("440100", "440300", "441481", "440000"):
        page.goto(console_url + f"/console/policy?admdvs={region}&on=2026-11-20")
        rows = page.locator("table.policy-table td:not(.ref)").all_inner_texts()
        text = " ".join(rows)
        bad = identifiers(text, DIMENSION_KEYS | set(SPECS) | {"true", "false", "none", "tekun"})
        assert rows and not bad, (region, bad)
        assert not re.search(r"[{}\[\]]", text), region  # no JSON
    shot(page, "console-policy")


def test_favicon_is_served_and_linked(page: Page, console_url: str) -> None:
    r = httpx.get(console_url + "/favicon.ico", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    sign_in(page, console_url, "admin")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert href and httpx.get(console_url + href, timeout=10).status_code == 200


def test_screenshot_of_every_page_of_the_navigation(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "admin")
    links = page.locator("nav[aria-label='主导航'] a")
    pages = [(a.get_attribute("data-page"), a.get_attribute("href")) for a in links.all()]
    assert len(pages) == 16, pages
    for name, href in pages:
        assert name and href
        response = page.goto(console_url + href)
        assert response is not None and response.status == 200, href
        page.wait_for_load_state("networkidle")
        expect(page.locator(f"nav a[data-page='{name}']")).to_have_class(re.compile("active"))
        shot(page, f"console-{name}")
