"""``yibao serve``'s start display (yibao.startup): quiet logs, one line per step, the addresses and
the demo logins from the seeder's own list."""

from __future__ import annotations

import io
import logging

from rich.console import Console

from yibao import startup
from yibao.console.demo import DEMO_PASSWORD, DEMO_USERS
from yibao.demo import seeders


def test_quiet_lets_only_warnings_through_and_restores_the_handler() -> None:
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        httpx_log = logging.getLogger("httpx")
        with startup.quiet():
            httpx_log.warning("kept")
            logging.getLogger("yibao.test.startup").error("also kept")
            httpx_log.info("HTTP Request: POST http://127.0.0.1/fsi")
        assert handler.level == logging.NOTSET
    finally:
        root.removeHandler(handler)
    assert "kept" in sink.getvalue() and "also kept" in sink.getvalue()
    assert "HTTP Request" not in sink.getvalue()


def test_steps_print_one_line_per_step_off_a_terminal() -> None:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=False, width=80)
    with startup.Steps(3, console) as steps:
        steps.step("启动数据库")
        steps.step("升级数据库结构")
        steps.step(startup.seeder_label("settlements"))
    assert buf.getvalue().splitlines() == [
        "[1/3] 启动数据库 …",
        "[2/3] 升级数据库结构 …",
        "[3/3] 演示数据：演示结算（经国家接口） …",
    ]


def test_every_seeder_has_a_chinese_label() -> None:
    assert {name for name, _ in seeders()} <= set(startup.SEEDER_LABELS)


def test_welcome_ends_with_the_addresses_and_every_demo_login() -> None:
    text = startup.welcome("0.0.0.0", 8000, demo=True)
    for url in ("/console", "/docs", "/docs/nhsa/"):
        assert f"http://127.0.0.1:8000{url}" in text
    assert DEMO_PASSWORD in text
    for username, display, *_ in DEMO_USERS:
        assert username in text and display in text
    assert DEMO_PASSWORD not in startup.welcome("127.0.0.1", 8000, demo=False)
