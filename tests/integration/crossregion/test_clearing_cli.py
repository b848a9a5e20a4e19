"""``yibao clearing …`` over a real database: run, two-person approval, refusal, export."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from typer.testing import CliRunner

from tests.integration.crossregion import traffic
from tests.integration.crossregion.people import insured
from yibao.cli import app
from yibao.institutions import demo as institutions_demo

SZ, GZ = "440300", "440100"


def test_cli_month(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    institutions_demo.seed(engine)
    with engine.begin() as conn:
        p = insured(conn, SZ)
        for day, amt in ((3, 120_000), (9, 45_000), (20, 300_000)):
            traffic.outpatient(
                conn, "H44010000001", p, SZ, date(2026, 10, day), traffic.items((amt, "01"))
            )
    monkeypatch.setenv("YIBAO_DATABASE_URL", db_url)
    run = CliRunner().invoke
    r = run(app, ["clearing", "run", "--month", "2026-10"])
    assert r.exit_code == 0, r.output
    sid = "CLR-202610-440100-440300"
    assert sid in r.output and "440300 → 440100" in r.output
    print(r.output)
    assert run(app, ["clearing", "confirm", sid, "--operator", "zhang"]).exit_code == 0
    same = run(app, ["clearing", "approve", sid, "--operator", "zhang"])
    assert same.exit_code == 2 and "审批人不能与确认人相同" in same.output
    ok = run(app, ["clearing", "approve", sid, "--operator", "li"])
    assert ok.exit_code == 0 and "状态=approved" in ok.output
    out = tmp_path / "oct.xlsx"
    assert run(app, ["clearing", "export", sid, "--out", str(out)]).exit_code == 0
    wb = load_workbook(out)
    assert wb.sheetnames == ["汇总", "明细"] and wb["明细"].max_row == 4
    bad = run(app, ["clearing", "run", "--month", "2026-13"])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output
