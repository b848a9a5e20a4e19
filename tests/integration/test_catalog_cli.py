"""``yibao catalog load|show|search`` against a real PostgreSQL (YIBAO_DATABASE_URL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from yibao.cli import app

SHIPPED = Path(__file__).resolve().parents[2] / "catalogs"


def test_load_show_search(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("YIBAO_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    first = runner.invoke(app, ["catalog", "load", "--dir", str(SHIPPED)])
    assert first.exit_code == 0, first.output
    assert "已加载目录版本 1" in first.output and "新增 733 行" in first.output
    again = runner.invoke(app, ["catalog", "load", "--dir", str(SHIPPED)])
    assert again.exit_code == 0 and "目录无变化（版本 1）" in again.output

    found = runner.invoke(
        app, ["catalog", "search", "单人间", "--region", "440300", "--date", "2025-07-01"]
    )
    assert found.exit_code == 0 and "001109000030000" in found.output and "80.00" in found.output
    shown = runner.invoke(
        app, ["catalog", "show", "001109000030000", "--region", "440300", "--date", "2025-07-01"]
    )
    assert shown.exit_code == 0, shown.output
    assert "普通病房床位费(单人间)" in shown.output and "440000 →" in shown.output
    assert "80.00" in shown.output and "深圳单人间床位费支付标准" in shown.output
    gone = runner.invoke(
        app, ["catalog", "show", "001102000040000", "--region", "440300", "--date", "2025-07-01"]
    )
    assert "不在医保目录内" in gone.output

    bad = tmp_path / "bad" / "x"
    bad.mkdir(parents=True)
    (bad / "region.yaml").write_text('admdvs: "440000"\nname: 广东省\n', encoding="utf-8")
    (bad / "items.csv").write_text("med_list_codg,chrgitm_lv\nX1,09\n", encoding="utf-8")
    refused = runner.invoke(app, ["catalog", "load", "--dir", str(tmp_path / "bad")])
    assert refused.exit_code == 2
    assert "未写入任何数据" in refused.output and "[chrgitm_lv]" in refused.output
