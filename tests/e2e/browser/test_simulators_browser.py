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


def _no_raw_json(page: Page) -> None:
    body = page.locator("body").inner_text()
    assert "detail" not in body and "Method Not Allowed" not in body, body[:200]


def test_simulator_steps_survive_refresh_and_back(page: Page, console_url: str) -> None:
    """Every step page is a GET after a redirect: a refresh or the back button shows the step again
    (never a resubmission or a raw 405); the phone shows one prompt per pre-settlement with its
    amount, refreshes itself, and loses the prompt once the counter settled; the defaults make a
    local, ordinary outpatient visit with presets that fit a hospital."""
    sign_in(page, console_url, "gz_admin")
    page.goto(console_url + "/console/sim/phone")
    default_person = page.locator("#psn_no option").first.inner_text()
    assert "广州" in default_person
    page.click("text=实名实人认证并激活")
    expect(page).to_have_url(re.compile(r"/console/sim/phone\?chnl=wechat&user=sim-wechat-"))
    page.reload()
    expect(page.locator(".phone-user")).to_be_visible()
    page.fill("input[placeholder='设置 6 位数字密码']", "246802")
    page.click("button:has-text('设置')")
    expect(page.locator(".notice.ok")).to_have_text("支付密码已设置")
    page.reload()  # the step's message survives a refresh (no resubmission)
    expect(page.locator(".notice.ok")).to_have_text("支付密码已设置")
    page.click("button:has-text('出示医保码')")
    code = page.input_value("#code-text")
    phone_url = page.url.split("&s=")[0]
    page.go_back()
    _no_raw_json(page)
    page.goto(phone_url)
    expect(page.locator("[data-testid=payment-prompt]")).to_have_count(0)

    counter = page.context.new_page()
    counter.set_default_timeout(60_000)
    counter.goto(console_url + "/console/sim/counter")  # the default: a 广州 hospital, 门诊
    assert counter.input_value("#fixmedins_code").startswith("H4401")
    counter.fill("#qr_code", code)
    counter.click("button:has-text('识别')")
    expect(counter.locator(".notice.ok")).to_contain_text("已识别参保人")
    expect(counter.locator("main")).not_to_contain_text("异地")
    presets = {
        r.locator("td").first.inner_text(): r.locator("input.qty").input_value()
        for r in counter.locator("tbody tr:has(input.qty)").all()
    }
    assert presets["挂号费"] == "1" and presets["普通门诊诊查费"] == "1", presets
    assert max(int(v) for v in presets.values() if v) <= 24, presets
    counter.reload()
    expect(counter.locator("h2", has_text="选择项目并预结算")).to_be_visible()
    counter.click("button:has-text('预结算（2206）')")
    expect(counter.locator("h2", has_text="预结算结果")).to_be_visible()
    total = counter.locator("tr", has_text="医疗费总额").locator("td").inner_text()
    counter.reload()
    expect(counter.locator("h2", has_text="预结算结果")).to_be_visible()
    counter.go_back()  # the items step, as it was
    _no_raw_json(counter)
    expect(counter.locator("h2", has_text="选择项目并预结算")).to_be_visible()
    counter.go_forward()
    expect(counter.locator("h2", has_text="预结算结果")).to_be_visible()
    shot(counter, "28-counter-presettled-outpatient")

    # the phone, left open, shows the prompt by itself: one, with the pre-settlement's amount
    prompt = page.locator("[data-testid=payment-prompt]")
    expect(prompt).to_have_count(1, timeout=20_000)
    expect(prompt).to_contain_text(f"{float(total):,.2f} 元")
    page.reload()
    expect(prompt).to_have_count(1)
    shot(page, "29-phone-prompt")
    prompt.locator("input[type=password]").fill("246802")
    prompt.locator("button:has-text('确认支付')").click()
    expect(page.locator(".notice.ok")).to_contain_text("支付密码验证通过")
    expect(prompt).to_contain_text("已确认")

    counter.click("button:has-text('结算（2207）')")
    expect(counter.locator(".notice.ok")).to_have_text("结算成功")
    counter.reload()
    expect(counter.locator("h2", has_text="结算结果")).to_be_visible()
    expect(counter.locator("#setl-link")).to_be_visible()
    # the settled pre-settlement's prompt disappears from the phone without a reload
    expect(prompt).to_have_count(0, timeout=20_000)
    expect(page.locator("#prompts")).to_contain_text("没有需要确认的支付")
    expect(page.locator("#prompts details.record").first).to_contain_text("已结算", timeout=20_000)
    shot(page, "30-phone-after-settlement")

    # a step's form address opened directly returns to the counter, in Chinese
    counter.goto(console_url + "/console/sim/counter/settle")
    expect(counter.locator("h1.page-title")).to_have_text("收费窗口模拟器")
    counter.goto(console_url + "/console/sim/phone/confirm")
    expect(counter.locator("h1.page-title")).to_have_text("参保人手机模拟器")


def test_unknown_console_addresses_get_chinese_pages(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "gz_admin")
    got = page.goto(console_url + "/console/no-such-page")
    assert got is not None and got.status == 404
    expect(page.locator("h1")).to_have_text("页面不存在")
    _no_raw_json(page)
    shot(page, "31-console-404")
    got = page.goto(console_url + "/console/logout")  # a form-only address
    assert got is not None and got.status == 405
    expect(page.locator("h1")).to_have_text("无法直接打开此地址")
    _no_raw_json(page)
    # API clients keep JSON
    api = page.request.get(
        console_url + "/console/no-such-page", headers={"Accept": "application/json"}
    )
    assert api.status == 404 and api.json() == {"detail": "Not Found"}
