"""What ``yibao serve`` shows while it starts (启动进度): a few lines, then the addresses.

Starting the embedded PostgreSQL, applying the migrations and seeding the demo province log a
great deal at INFO (initdb's output, one line per migration, one ``HTTP Request`` line per
national-interface call the demo settlements make: ~2,000 lines). While :func:`quiet` is active
the one log handler only passes warnings and errors; the steps are drawn as a progress bar
(:class:`Steps`) on a terminal, or as one line per step otherwise. :func:`welcome` ends the start
with the console, API-docs and national-interface-docs addresses and the demo logins (read from
:data:`yibao.console.demo.DEMO_USERS`, the seeder's own list).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

#: the demo seeders (yibao.demo.seeders) in words a new user reads
SEEDER_LABELS = {
    "catalog": "医保目录",
    "console": "控制台演示账户",
    "institutions": "定点医药机构",
    "registry": "参保人",
    "voucher": "医保电子凭证",
    "filing": "异地就医备案",
    "funds": "缴费与基金",
    "settlements": "演示结算（经国家接口）",
    "payment": "支付方式改革",
    "campaigns": "激活推广专项",
    "online": "线上结算应用",
}


def seeder_label(name: str) -> str:
    return "演示数据：" + SEEDER_LABELS.get(name, name)


@contextmanager
def quiet(level: int = logging.WARNING) -> Iterator[None]:
    """Let only ``level`` and above through the root handlers (every logger ends there, uvicorn's
    access log and httpx included) until the block ends."""
    handlers = logging.getLogger().handlers
    before = [h.level for h in handlers]
    for h in handlers:
        h.setLevel(max(h.level, level))
    try:
        yield
    finally:
        for h, lv in zip(handlers, before, strict=False):
            h.setLevel(lv)


def hush(level: int = logging.WARNING) -> None:
    """From now on only ``level`` and above (the process is stopping: no shutdown chatter)."""
    for h in logging.getLogger().handlers:
        h.setLevel(max(h.level, level))


class Steps:
    """A progress bar over the start's steps (a line per step when not on a terminal)."""

    def __init__(self, total: int, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.total = total
        self.done = 0
        self._progress: Progress | None = None
        self._task = TaskID(0)

    def __enter__(self) -> Steps:
        if self.console.is_terminal:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("准备", total=self.total)
        return self

    def step(self, label: str) -> None:
        """Begin the next step (the previous one is done)."""
        if self._progress is not None:
            self._progress.update(self._task, description=label, completed=self.done)
        else:
            self.console.print(f"[{self.done + 1}/{self.total}] {label} …")
        self.done += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            if exc_type is None:
                self._progress.update(self._task, description="准备完成", completed=self.total)
            self._progress.stop()


def welcome(host: str, port: int, *, demo: bool) -> str:
    """The closing lines: where to go, and (with the demo) who to sign in as."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    lines = [
        "Yibao 医保平台已启动（Ctrl-C 停止服务和数据库）",
        f"  控制台        {base}/console",
        f"  API 文档      {base}/docs",
        f"  国家接口文档  {base}/docs/nhsa/",
    ]
    if demo:
        from yibao.console.demo import DEMO_PASSWORD, DEMO_USERS

        lines.append(f"演示账户（密码均为 {DEMO_PASSWORD}，仅供演示）：")
        width = max(len(u[0]) for u in DEMO_USERS)
        lines += [f"  {name:<{width}}  {display}" for name, display, *_ in DEMO_USERS]
    return "\n".join(lines)
