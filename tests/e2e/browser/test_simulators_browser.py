"""The two simulators in headless Chromium, end to end over the public APIs:

activate on the phone → show the code → paste it at the pharmacy counter → 1101 → 2101 pre-settle →
settlement refused until the person confirms with the payment password on the phone → 2102 →
the same settlement opened in the console with the same breakdown → 2103 cancel.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import shot, sign_in

pytestmark = pytest.mark.browser


def test_phone_and_counter_play_a_pharmacy_purchase(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "gz_admin")
    page.goto(console_url + "/console/sim")
    expect(page.locator("h1.page-title")).to_have_text("培训模拟器")
    shot(page, "20-sim-index")

    # 参保人手机: activate a 广州 demo person on 微信, set the payment password, show the code
    page.goto(console_url + "/console/sim/phone")
    shot(page, "21-phone-activate")
    page.select_option("#chnl", "wechat")
    page.click("text=实名实人认证并激活")
    expect(page).to_have_url(re.compile(r"/console/sim/phone\?chnl=wechat&user=sim-wechat-"))
    phone_url = page.url
    page.fill("input[placeholder='设置 6 位数字密码']", "135790")
    page.click("button:has-text('设置')")
    expect(page.locator(".notice.ok")).to_have_text("支付密码已设置")
    page.click("button:has-text('出示医保码')")
    expect(page.locator(".countdown")).to_contain_text("秒后失效")
    code = page.input_value("#code-text")
    assert code.startswith("YB1.")
    shot(page, "22-phone-code")

    # 收费窗口: a 广州 pharmacy scans (pastes) the code, picks items, pre-settles
    counter = page.context.new_page()
    counter.set_default_timeout(60_000)
    counter.goto(console_url + "/console/sim/counter?fixmedins_code=P44010000001")
    counter.fill("#qr_code", code)
    counter.click("button:has-text('识别')")
    expect(counter.locator(".notice.ok")).to_contain_text("已识别参保人")
    counter.click("button:has-text('预结算（2101）')")
    expect(counter.locator("h2", has_text="预结算结果")).to_be_visible()
    # settling before the person confirmed is refused, clearly
    counter.click("button:has-text('结算（2102）')")
    expect(counter.locator(".notice.error").first).to_contain_text("尚未在手机上验证支付密码")
    shot(counter, "23-counter-presettled")

    # the person confirms on the phone
    page.goto(phone_url)
    page.fill("input[placeholder='6 位支付密码']", "135790")
    page.click("button:has-text('确认支付')")
    expect(page.locator(".notice.ok")).to_contain_text("支付密码验证通过")

    counter.click("button:has-text('结算（2102）')")
    expect(counter.locator(".notice.ok")).to_have_text("结算成功")
    fund = counter.locator("tr", has_text="基金支付合计").locator("td").inner_text()
    cash = counter.locator("tr", has_text="个人现金").locator("td").inner_text()
    shot(counter, "24-counter-settled")
    setl_id = counter.locator("#setl-link").inner_text()

    # the console shows the same settlement with the same amounts
    counter.click("#setl-link")
    expect(counter.locator("h1.page-title")).to_have_text("结算单详情")
    main = counter.locator("main")
    expect(main).to_contain_text(setl_id)
    expect(counter.locator("tr", has_text="基金支付总额").locator("td")).to_have_text(
        f"{float(fund):,.2f}"
    )
    expect(counter.locator("tr", has_text="个人现金支出").locator("td")).to_have_text(
        f"{float(cash):,.2f}"
    )
    expect(main).to_contain_text("计算过程")
    shot(counter, "25-console-same-settlement")

    # the phone's records show it; then the counter cancels it (2103)
    page.goto(phone_url)
    expect(page.locator("details.record").first).to_contain_text("已结算")
    shot(page, "26-phone-records")
    counter.go_back()
    counter.click("button:has-text('撤销结算（2103）')")
    expect(counter.locator(".notice.ok")).to_have_text("已撤销结算")


def test_outpatient_counter_settles_and_cancels(
    page: Page, console_url: str, tmp_path: Path
) -> None:
    """Outpatient at a hospital, code read from a QR photo: 1101 → 2201/2203/2204/2206 → 2207 →
    2208, for 张医保 (demo)."""
    sign_in(page, console_url, "admin")
    page.goto(console_url + "/console/sim/phone?chnl=wechat&user=demo-openid-zhang")
    page.click("button:has-text('出示医保码')")
    code = page.input_value("#code-text")
    # the counter reads the code from a photo of the QR (jsQR in the browser), not by pasting
    png = page.request.get(console_url + "/api/voucher/qr", params={"code": code, "format": "png"})
    assert png.ok
    photo = tmp_path / "qr.png"
    photo.write_bytes(png.body())
    page.goto(console_url + "/console/sim/counter?fixmedins_code=H44030000001")
    page.set_input_files("#qr_image", str(photo))
    expect(page.locator("#scan-status")).to_have_text("已读取医保码，请点击“识别”")
    assert page.input_value("#qr_code") == code
    page.click("button:has-text('识别')")
    expect(page.locator(".notice.ok")).to_contain_text("已识别参保人")
    page.click("button:has-text('预结算（2206）')")
    expect(page.locator("h2", has_text="预结算结果")).to_be_visible()
    page.click("button:has-text('结算（2207）')")
    expect(page.locator(".notice.ok")).to_have_text("结算成功")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366  # no sideways scrolling
    shot(page, "27-counter-outpatient")
    page.click("button:has-text('撤销结算（2208）')")
    expect(page.locator(".notice.ok")).to_have_text("已撤销结算")
    cancel_id = page.locator("main a.mono").last.inner_text()
    page.click(f"text={cancel_id}")
    expect(page.locator("main")).to_contain_text("撤销（冲销）记录")
