"""/docs, /redoc and the national-interface pages render with the network blocked (issue 12).

Every request that does not go to this machine is aborted (as on a hospital or bureau network
without internet); Swagger UI and ReDoc must still draw the API, and nothing may even try to
leave (no CDN script, no web font, no validator badge).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.browser.conftest import shot

pytestmark = pytest.mark.browser


@pytest.fixture
def offline(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    blocked: list[str] = []

    def only_local(route: Any) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_local)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page, blocked
    context.close()


def test_docs_render_without_internet(offline: tuple[Any, list[str]], live_server: str) -> None:
    page, blocked = offline
    page.goto(live_server + "/docs")
    page.wait_for_selector(".swagger-ui .info .title:has-text('Yibao')")
    page.wait_for_selector("[data-path='/fsi/api/rsfComIfsService/callService']")
    assert page.locator(".swagger-ui .opblock").count() > 20
    shot(page, "docs-swagger-offline")

    link = page.locator(".swagger-ui .info a[href='/docs/nhsa/']")  # the national-interface pages
    assert link.count() == 1
    page.goto(live_server + str(link.get_attribute("href")))  # (Swagger UI opens it in a new tab)
    page.wait_for_selector("h1:has-text('国家接口')")
    page.click("a[href='outpatient.md']")
    page.wait_for_selector("h1:has-text('门诊 2201–2208')")
    assert page.locator("table").count() > 0
    shot(page, "docs-nhsa-outpatient")
    page.goto(live_server + "/docs/nhsa/frontend.md")
    page.wait_for_selector("h1:has-text('前置机')")

    page.goto(live_server + "/redoc")
    page.wait_for_selector("h1:has-text('Yibao')")
    page.get_by_text("/fsi/api/rsfComIfsService/callService").first.wait_for(state="attached")
    shot(page, "docs-redoc-offline")
    assert blocked == [], f"the docs tried to reach the internet: {blocked}"
