"""The payment-reform console in headless Chromium, on a month of real 兴宁 settlements.

Two experts review a 特例单议 application through the page's form (the same expert cannot give a
second opinion); the overview shows 预算执行率 per institution and per 医共体, DRG results and
CMI; the year-end button clears the year; the analyst sees aggregates only, the institution
operator only their own institution. Screenshots go to test-artifacts/screenshots/payment-*.png.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from time import monotonic

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser.conftest import CHROMIUM_ARGS, shot, sign_in
from tests.e2e.payment.conftest import START
from tests.e2e.payment.test_payment_month_to_year_end import (
    HOSPITAL,
    REGION,
    _advance,
    _people,
    _play_stays,
    _staff,
    _upload_lists,
)
from tests.e2e.settlement.conftest import make
from tests.e2e.staff_login import PASSWORD, create_staff
from yibao.console.model import Role
from yibao.db.engine import make_engine
from yibao.hissim import flows
from yibao.payment import service

pytestmark = pytest.mark.browser
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def chromium() -> Iterator[Browser]:
    import shutil
    from pathlib import Path

    if not Path("/usr/bin/chromium").exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (python3 dev.py test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield b
        finally:
            b.close()


def _page(browser: Browser) -> Page:
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 860})
    p = ctx.new_page()
    p.set_default_timeout(20_000)
    return p


def _prepare(server: str, db_url: str) -> str:
    """A month of stays with lists, a 医共体 with its July allocation, the July advance and one
    特例单议 application; returns the application id."""
    start, t0 = datetime.fromisoformat(START), monotonic()
    token = flows.his_clock.set(lambda: start + timedelta(seconds=monotonic() - t0 - 1))
    his = make(server, HOSPITAL)
    try:
        stays = _play_stays(his, _people(his), random.Random(2025))
        _upload_lists(his, stays, db_url)
        ic29 = next(v for s, v, _ in stays if s.expect == "IC29")
        r = his.call(
            "3602",
            {
                "data": {
                    "setl_id": ic29.setl_id,
                    "appy_exit_type": "1",
                    "exit_rea": "使用新纳入目录的人工关节，费用远高于病组标准",
                }
            },
        )
        appy_id = str(flows.ok(r)["appy_chk_setl_list_id"])
    finally:
        flows.his_clock.reset(token)
        his.close()
    admin, _ = _staff(server, db_url)
    _advance(admin, db_url)
    engine = make_engine(db_url, pool_size=1)
    try:
        service.save_community(
            engine,
            actor="t",
            ycm_id="YCM441481A",
            name="兴宁市紧密型县域医共体",
            admdvs=REGION,
            lead=HOSPITAL,
            members=["H44148100002"],
            population=23,
        )
        service.set_community_budget(engine, "YCM441481A", 2025, 60_000_000, actor="t")
        service.community_month(engine, "YCM441481A", "2025-07", actor="t")
        service.set_institution_budget(engine, HOSPITAL, 2025, 50_000_000, actor="t")
    finally:
        engine.dispose()
    create_staff(db_url, "xn_analyst", Role.ANALYST)
    create_staff(
        db_url, "xn_his", Role.INSTITUTION_OPERATOR, admdvs=REGION, fixmedins_code=HOSPITAL
    )
    return appy_id


def _review(page: Page, base: str, appy_id: str, decision: str, text: str) -> None:
    page.goto(base + "/console/payment/special")
    form = page.get_by_test_id(f"review-{appy_id}")
    form.locator(f"input[name=decision][value={decision}]").check()
    form.locator("textarea[name=opinion]").fill(text)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")


def test_payment_console(server: str, db_url: str, chromium: Browser) -> None:
    appy_id = _prepare(server, db_url)
    url = f"{server}/console/payment?admdvs={REGION}&year=2025"

    p = _page(chromium)
    sign_in(p, server, "prov_expert", PASSWORD)
    p.goto(url)
    expect(p.locator("h1.page-title")).to_have_text("支付方式改革")
    body = p.locator("main.content").inner_text()
    for text in (
        "按病组(DRG)付费",
        "预算执行率",
        "CMI",
        "兴宁市人民医院",
        "兴宁市紧密型县域医共体",
        "10893.2463",
    ):
        assert text in body, text
    assert p.evaluate("document.documentElement.scrollWidth") <= 1366
    shot(p, "payment-01-overview")
    p.get_by_role("link", name="兴宁市人民医院").click()
    expect(p.locator("h1.page-title")).to_have_text("DRG/DIP 分组结果")
    assert "ES35" in p.locator("main.content").inner_text()
    p.locator("details").first.click()
    shot(p, "payment-02-institution-groups")

    _review(p, server, appy_id, "approve", "符合特例单议条件，同意按项目付费")
    expect(p.locator(".notice.ok")).to_contain_text("评审中")
    assert (
        p.get_by_test_id(f"review-{appy_id}").count() == 0
    )  # no second opinion for the same expert
    shot(p, "payment-03-special-first-opinion")

    q = _page(chromium)
    sign_in(q, server, "mz_expert", PASSWORD)
    _review(q, server, appy_id, "approve", "同意")
    expect(q.locator(".notice.ok")).to_contain_text("审定通过")
    expect(q.get_by_test_id(f"special-{appy_id}")).to_contain_text("单议通过后")
    shot(q, "payment-04-special-approved")

    p.goto(url)
    p.get_by_test_id("run-year-end").click()
    p.wait_for_load_state("networkidle")
    expect(p.locator(".notice.ok")).to_contain_text("年度清算完成")
    expect(p.locator("main.content")).to_contain_text("已清算")
    assert p.get_by_test_id("run-advance").count() == 0  # a cleared year takes no more runs
    shot(p, "payment-05-year-end")

    a = _page(chromium)
    sign_in(a, server, "xn_analyst", PASSWORD)
    a.goto(url)
    expect(a.locator("main.content")).to_contain_text("兴宁市人民医院")
    assert a.get_by_role("link", name="兴宁市人民医院").count() == 0  # aggregates only
    assert a.get_by_test_id("run-year-end").count() == 0
    assert a.goto(server + "/console/payment/special").status == 403  # type: ignore[union-attr]
    h = _page(chromium)
    sign_in(h, server, "xn_his", PASSWORD)
    h.goto(url)
    rows = h.locator("main.content table").first.locator("tbody tr")
    expect(rows).to_have_count(1)
    assert h.get_by_test_id("run-advance").count() == 0
    shot(h, "payment-06-institution-operator")
    for pg in (p, q, h):
        assert len(CJK.findall(pg.locator("main.content").inner_text())) > 10
