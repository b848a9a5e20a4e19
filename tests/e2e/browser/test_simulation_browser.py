"""政策测算 in headless Chromium: the analyst chooses data, reforms and period, watches the
progress, reads the results with charts and downloads the Excel report; bad input is refused
with the field named; other roles are kept out. Screenshots: test-artifacts/screenshots/sim-*."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import shot, sign_in
from tests.e2e.conftest import ServerProcess
from tests.integration.console.data import Seeded
from yibao.policy.loader import default_tree
from yibao.simulation.synthetic import generate

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def console_url(
    console_db: tuple[str, Seeded], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    data = tmp_path_factory.mktemp("data")
    generate(data / "simulation" / "datasets" / "guangdong-2025", 40_000, 2025, default_tree(),
             partition_bills=10_000)  # fmt: skip
    server = ServerProcess(console_db[0], {"YIBAO_DATA_DIR": str(data)})
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def test_analyst_runs_reforms_and_reads_results(
    page: Page, console_url: str, tmp_path: Path
) -> None:
    sign_in(page, console_url, "analyst")
    expect(page.locator("aside nav")).to_contain_text("政策测算")
    page.goto(console_url + "/console/simulation")
    expect(page.locator("h1.page-title")).to_have_text("政策测算")
    expect(page.locator("#dataset")).to_contain_text("guangdong-2025")
    assert page.locator("input[name=reform]").count() >= 3
    shot(page, "sim-01-form")
    page.fill("#projection_years", "3")
    page.click("#sim-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/console/simulation/runs/\d{8}-"))
    expect(page.locator("#sim-summary")).to_be_visible(timeout=120_000)  # progress, then reload
    rows = page.locator("#sim-summary tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("基线")
    page.wait_for_function("document.querySelectorAll('.chart canvas').length >= 4", timeout=20_000)
    body = page.locator("main.content").inner_text()
    assert "广州 职工三级医院住院起付线下调" in body and "可支付月数" in body
    assert "Traceback" not in body
    shot(page, "sim-02-results")
    with page.expect_download() as dl:
        page.click("#dl-xlsx")
    path = tmp_path / "r.xlsx"
    dl.value.save_as(path)
    wb = load_workbook(path, read_only=True)
    assert "汇总" in wb.sheetnames and "基金预测" in wb.sheetnames
    with page.expect_download() as dl2:
        page.click("#dl-parquet")
    assert dl2.value.suggested_filename.endswith(".zip")


def test_bad_period_is_refused_naming_the_field(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "analyst")
    page.goto(console_url + "/console/simulation")
    page.eval_on_selector(
        "#date_from", "e => { e.removeAttribute('pattern'); e.value = '2025-13-01'; }"
    )
    page.click("#sim-form button[type=submit]")
    expect(page.locator(".notice.error")).to_contain_text("期间起")
    shot(page, "sim-03-refused")


def test_institution_operator_cannot_open_the_simulation(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "gz_his")
    assert "政策测算" not in page.locator("aside nav").inner_text()
    page.goto(console_url + "/console/simulation")
    expect(page.locator("h1")).to_have_text("无权访问")
