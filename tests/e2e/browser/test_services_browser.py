"""Campaign pages and the 零星报销 workflow in a real browser, over the demo province (issue 16).

The demo loads the 广水 2021 plan from campaigns/; a second plan over the demo registry's 2026
activations (Guangzhou) shows the daily chart. A claim is entered at the counter with an invoice
file, accepted and reviewed by one administrator, refused approval for the same person, approved
and paid by a second. The public catalogue and Q&A pages are drawn. Screenshots go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser.conftest import shot, sign_in
from tests.e2e.conftest import ServerProcess
from yibao.campaigns import service as campaigns
from yibao.client import CHINA
from yibao.db.engine import make_engine
from yibao.hissim import flows
from yibao.registry import demo as registry_demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GZ_PLAN = """
id: GZ2026DEMO
name: 广州市医保码激活巩固提升（演示）
admdvs: "440100"
region_name: 广州市
source: {title: 演示方案（按演示参保数据编制，非真实文件）, issuer: 演示}
period: {start: 2026-01-01, end: 2026-12-31}
overall: {base: 1000, target_rate: "0.60", deadline: 2026-12-31, responsible: 市医保局}
categories:
  - {code: staff, name: 在职职工, insutype: "310", psn_types: ["11"], target_rate: "0.90",
     deadline: 2026-11-30, responsible: 用工单位, per_unit: true}
  - {code: resident, name: 城乡居民（含退休人员）, rest: true, target: towns, deadline: 2026-12-31, responsible: 各街道}
towns:
  rows:
    - {name: 天河区石牌街道, base: 80, target: 48}
    - {name: 越秀区北京街道, base: 80, target: 48}
    - {name: 荔湾区沙面街道, base: 80, target: 48}
    - {name: 白云区京溪街道, base: 80, target: 48}
"""


@pytest.fixture(scope="module")
def zhang(console_db: tuple[str, object]) -> str:
    engine = make_engine(console_db[0], pool_size=1)
    try:
        with engine.begin() as conn:
            campaigns.load_text(
                conn, GZ_PLAN, source_file="demo.yaml", actor="e2e", now=campaigns.now()
            )
            psn = conn.execute(sa.text("SELECT psn_no FROM person WHERE certno = :c"),
                               {"c": registry_demo.ZHANG}).scalar_one()  # fmt: skip
    finally:
        engine.dispose()
    return str(psn)


@pytest.fixture(scope="module")
def hubei_url(console_db: tuple[str, object]) -> Iterator[str]:
    """The same database served as the Hubei deployment (one province per deployment, ADR 0019):
    the 广水 plan is Hubei's and shows in Hubei's console, not in Guangdong's."""
    server = ServerProcess(console_db[0], {"YIBAO_PROVINCE": "42"})
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def test_campaign_pages(
    page: Page, browser: Browser, console_url: str, hubei_url: str, zhang: str
) -> None:
    hubei = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 860})
    hb = hubei.new_page()
    sign_in(hb, hubei_url, "admin")
    hb.goto(hubei_url + "/console/campaigns")
    table = hb.locator("[data-testid=campaigns-table]")
    expect(table).to_contain_text("广水市医保电子凭证推广应用")
    expect(table).to_contain_text("432,386")
    shot(hb, "60-campaigns")
    hb.goto(hubei_url + "/console/campaigns/GS2021EC?on=2026-12-01")
    expect(hb.locator("[data-testid=towns-table]")).to_contain_text("长岭镇")
    expect(hb.locator("main")).to_contain_text("表中印刷总计 407236")
    hb.wait_for_selector("[data-chart=towns] canvas")
    shot(hb, "61-campaign-guangshui")
    hubei.close()
    sign_in(page, console_url, "admin")
    page.goto(console_url + "/console/campaigns")
    table = page.locator("[data-testid=campaigns-table]")
    expect(table).to_contain_text("广州市医保码激活巩固提升")
    expect(table).not_to_contain_text("广水")
    page.goto(console_url + "/console/campaigns/GZ2026DEMO?on=2026-11-20")
    page.wait_for_selector("[data-chart=daily] canvas")
    page.wait_for_selector("[data-chart=channels] canvas")
    assert (
        int(
            page.locator("[data-testid=kpi-activated]").inner_text().split("人")[0].replace(",", "")
        )
        > 0
    )
    expect(page.locator("[data-testid=units-table]")).to_contain_text("广州示范电子有限公司")
    shot(page, "62-campaign-progress")
    with page.expect_download() as info:
        page.click("[data-testid=report-pdf]")
    assert open(info.value.path(), "rb").read(5) == b"%PDF-"  # noqa: SIM115


def _act(page: Page, action: str) -> None:
    page.click(f"[data-testid=act-{action}]")
    page.wait_for_load_state("networkidle")


def test_claim_workflow_two_people(page: Page, console_url: str, zhang: str) -> None:
    lines = flows.pick_lines(random.Random(5), "440100", 4, max_pric=None)
    total = sum(ln["det_item_fee_sumamt"] for ln in lines)
    today = datetime.now(CHINA).date().isoformat()
    sign_in(page, console_url, "admin")
    page.goto(console_url + "/console/claims/new")
    page.fill("#psn_no", zhang)
    page.select_option("#insutype", "310")
    page.select_option("#med_type", "21")  # 住院: a bill above the deductible
    page.select_option("#reason", "network")
    page.fill("#fixmedins_code", "H44010000001")
    page.fill("#begndate", today)
    page.fill("#enddate", today)
    page.fill("#fees", "\n".join(f"{ln['feedetl_sn']},{ln['med_list_codg']},项目{i},{ln['pric']},{ln['cnt']},"
                                 f"{ln['det_item_fee_sumamt']}" for i, ln in enumerate(lines)))  # fmt: skip
    page.fill("#invoices", f"44010021,0000088001,{total},{today}")
    page.fill("#payee_name", "张医保")
    page.fill("#payee_bank", "工商银行")
    page.fill("#payee_account", "6222020000005678")
    page.set_input_files("[data-testid=file-invoice]",
                         files=[{"name": "发票.png", "mimeType": "image/png", "buffer": b"\x89PNG-demo-invoice"}])  # fmt: skip
    shot(page, "63-claim-new")
    page.click("button[type=submit].btn-primary")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=error]").count() == 0, page.locator(
        "[data-testid=error]"
    ).inner_text()
    expect(page.locator("[data-testid=claim-status]")).to_have_text("待受理")
    _act(page, "accept")
    _act(page, "review")
    expect(page.locator("[data-testid=claim-status]")).to_have_text("已审核（待复核）")
    _act(page, "approve")
    expect(page.locator("[data-testid=error]")).to_contain_text("另一名经办人员")
    shot(page, "64-claim-reviewed")
    url = page.url.split("?")[0]
    page.context.clear_cookies()
    sign_in(page, console_url, "gz_admin")
    page.goto(url)
    _act(page, "approve")
    _act(page, "pay")
    expect(page.locator("[data-testid=claim-status]")).to_have_text("已支付")
    expect(page.locator("[data-testid=events]")).to_contain_text("gz_admin")
    expect(page.locator("[data-testid=files]")).to_contain_text("发票.png")
    shot(page, "65-claim-paid")
    page.goto(console_url + "/console/claims?status=")
    expect(page.locator("[data-testid=claims-table]")).to_contain_text("已支付")
    shot(page, "66-claims-queue")


def test_public_catalogue_and_ask(page: Page, console_url: str) -> None:
    page.goto(console_url + "/services")
    expect(page.locator("[data-testid=services-table]")).to_contain_text("异地就医备案")
    shot(page, "67-services-catalogue")
    page.goto(
        console_url
        + "/services/ask?q="
        + "外地医院没联网，自己垫付的钱怎么报销？"
        + "&admdvs=440300"
    )
    expect(page.locator("[data-testid=answer-source]")).to_contain_text("医保发〔2022〕22号")
    expect(page.locator("[data-testid=answer-service]")).to_have_text("医疗费用零星报销申请")
    shot(page, "68-services-ask")
