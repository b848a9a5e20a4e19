"""Browser fixtures: Debian's Chromium driven by Playwright, against a real Yibao server.

The browser is launched from ``/usr/bin/chromium`` (Playwright's own download cannot work on the
build machines); tests are skipped with a reason if it is missing. Each test gets a fresh context
(no cookies shared) on a server whose database holds every capability's demo data.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import new_database
from tests.e2e.conftest import ARTIFACTS, ServerProcess
from tests.integration.console.data import Seeded, seed_console_data
from yibao.console.demo import DEMO_PASSWORD
from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=zh-CN",
]
SCREENSHOTS = ARTIFACTS / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (python3 dev.py test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def console_db(pg: EmbeddedPostgres, template_url: str) -> tuple[str, Seeded]:
    """A database for this test module: every capability's demo data (as ``yibao serve``) plus
    two known persons and three settlements made through the capabilities' services."""
    from yibao.demo import seed_all

    url = new_database(pg, template_url)
    engine = make_engine(url, pool_size=2)
    try:
        seed_all(engine)
        seeded = seed_console_data(engine)
    finally:
        engine.dispose()
    return url, seeded


@pytest.fixture(scope="module")
def known(console_db: tuple[str, Seeded]) -> Seeded:
    return console_db[1]


@pytest.fixture(scope="module")
def console_url(console_db: tuple[str, Seeded]) -> Iterator[str]:
    """One real server (uvicorn) per test module; tests use fresh browser contexts."""
    server = ServerProcess(console_db[0])
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def page(browser: object, console_url: str) -> Iterator[object]:
    """A fresh browser page (own cookies) that refuses every request leaving the server (no CDN)."""
    from playwright.sync_api import Browser, Route

    assert isinstance(browser, Browser)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 860})
    foreign: list[str] = []

    def guard(route: Route) -> None:
        if route.request.url.startswith(console_url):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()
    assert not foreign, f"the console asked for non-local resources: {foreign}"


def shot(page: object, name: str) -> Path:
    """Save a full-page screenshot to test-artifacts/screenshots/<name>.png."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: object, base: str, username: str, password: str = DEMO_PASSWORD) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.goto(base + "/console/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
