"""``yibao institutions add|list|credential|status`` against a real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from yibao.cli import app
from yibao.institutions import store


def test_add_list_status(db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIBAO_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "240")
    runner = CliRunner()
    added = runner.invoke(
        app,
        [
            "institutions",
            "add",
            "H44030000099",
            "深圳市测试医院",
            "--admdvs",
            "440300",
            "--hosp-lv",
            "5",
        ],
    )
    assert added.exit_code == 0, added.output
    assert "AK: h44030000099-" in added.output
    bad = runner.invoke(app, ["institutions", "add", "X1", "坏", "--admdvs", "44"])
    assert bad.exit_code == 2 and "fixmedins_code" in bad.output
    listed = runner.invoke(app, ["institutions", "list", "--admdvs", "440300"])
    assert (
        listed.exit_code == 0 and "深圳市测试医院" in listed.output and "正常联网" in listed.output
    )
    paused = runner.invoke(app, ["institutions", "status", "H44030000099", "0"])
    assert paused.exit_code == 0 and "暂停联网" in paused.output
    with engine.connect() as conn:
        inst = store.get_institution(conn, "H44030000099")
    assert inst is not None and inst.fix_onln_open_flag == "0"
    rotated = runner.invoke(app, ["institutions", "credential", "H44030000099"])
    assert rotated.exit_code == 0
    with engine.connect() as conn:
        assert len(store.credentials_of(conn, "H44030000099")) == 2
