"""线上结算 in headless Chromium: the phone pays a hospital bill online (the hospital bills, the
insured authorises, sees the split, pays the cash part, gets a receipt), the hospital refunds it;
the console shows the orders, their states, the refund and the day's reconciliation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import shot, sign_in

pytestmark = pytest.mark.browser


def test_phone_pays_online_and_the_console_shows_the_order(
    page: Page, console_url: str, console_db: tuple[str, object]
) -> None:
    page.set_default_timeout(60_000)
    sign_in(page, console_url, "sz_admin")
    page.goto(console_url + "/console/sim/phone")
    page.select_option("#chnl", "wechat")
    page.click("text=实名实人认证并激活")
    expect(page).to_have_url(re.compile(r"/console/sim/phone\?chnl=wechat&user=sim-wechat-"))
    page.select_option("select[name=fixmedins_code]", "H44030000001")
    page.click("button:has-text('互联网医院问诊开单（模拟）')")
    expect(page.locator(".notice.ok")).to_contain_text("医院已开单")
    page.click("button:has-text('授权医保支付')")
    split = page.locator("[data-testid=online-split]")
    expect(split).to_contain_text("需自付现金")
    shot(page, "60-phone-online-split")
    page.click("button:has-text('支付自费部分')")
    receipt = page.locator("[data-testid=online-receipt]")
    expect(receipt).to_contain_text("支付成功")
    expect(receipt).to_contain_text("医保结算编号")
    shot(page, "61-phone-online-receipt")
    page.click("button:has-text('医院退款（模拟）')")
    expect(page.locator(".notice.ok")).to_contain_text("医院已退款")
    expect(page.locator(".phone-screen")).to_contain_text("已退款")

    page.goto(console_url + "/console/online")
    expect(page.locator("h1.page-title")).to_contain_text("线上结算")
    orders = page.locator("[data-testid=online-orders]")
    expect(orders).to_contain_text("已退款")
    expect(page.locator("[data-testid=reconciliation]")).to_contain_text("平")
    shot(page, "62-console-online-orders")
    page.locator("[data-testid=online-orders] a").first.click()
    events = page.locator("[data-testid=order-events]")
    expect(events).to_contain_text("自费部分已支付")
    expect(events).to_contain_text("医保结算完成")
    expect(events).to_contain_text("全部退款")
    shot(page, "63-console-online-order")

    # the hospital writes an e-prescription on that visit (7101 → 7102 → 7103): the console shows it
    hi_rxno = _prescribe(console_db[0], console_url)
    page.goto(console_url + "/console/online/rx")
    expect(page.locator("h1.page-title")).to_contain_text("电子处方")
    expect(page.locator("[data-testid=online-rx]")).to_contain_text(hi_rxno)
    shot(page, "64-console-online-rx")
    page.click(f"text={hi_rxno}")
    expect(page.locator("[data-testid=rx-events]")).to_contain_text("处方上传（7103）")
    shot(page, "65-console-online-rx-flow")


def _prescribe(db_url: str, base: str) -> str:
    import random
    from datetime import datetime
    from types import SimpleNamespace

    import sqlalchemy as sa

    from tests.e2e.online.test_e_prescription import prescribe, upload
    from yibao.db.engine import make_engine
    from yibao.hissim import flows
    from yibao.online.apps import demo_client_keys
    from yibao.online.client import OnlineClient
    from yibao.online.envelope import CHINA

    engine = make_engine(db_url, pool_size=1)
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT o.mdtrt_id, p.psn_no, p.psn_name, p.certno FROM online_order o"
            " JOIN person p ON p.psn_no = o.psn_no ORDER BY o.created_at DESC LIMIT 1")).one()  # fmt: skip
    engine.dispose()
    who = SimpleNamespace(
        row={"psn_name": row.psn_name, "certno": row.certno}, ident={"psnNo": row.psn_no}
    )
    drugs = flows.pick_lines(random.Random(3), "440300", 2, list_types=("101",))
    with OnlineClient(base, demo_client_keys("H44030000001")) as his:
        rx = prescribe(his, who, row.mdtrt_id, drugs, prsc=datetime.now(CHINA))  # type: ignore[arg-type]
        upload(his, rx)
    return str(rx["hiRxno"])
