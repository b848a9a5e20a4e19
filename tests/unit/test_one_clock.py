"""One business clock (北京时间): no module defines its own China zone or asks the machine for
its date — servers run in UTC, where after 16:00 it is still yesterday (yibao.clock)."""

from __future__ import annotations

import re
from pathlib import Path

import yibao
from yibao import clock

SRC = Path(yibao.__file__).parent
OWN_ZONE = re.compile(r"ZoneInfo\(\s*[\"']Asia/Shanghai|timezone\(\s*timedelta\(\s*hours\s*=\s*8")
MACHINE_DAY = re.compile(r"\bdate\.today\(\)|\bdatetime\.(?:now|today)\(\)")


def test_only_the_clock_module_names_the_zone_or_reads_the_machine_day() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{n}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "clock.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OWN_ZONE.search(line) or MACHINE_DAY.search(line)
    ]
    assert offenders == []


def test_the_clock_is_beijing_time() -> None:
    moment = clock.now()
    assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 8 * 3600
    assert clock.today() in {moment.date(), clock.now().date()}
