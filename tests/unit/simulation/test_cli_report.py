"""``yibao simulate generate|run|report``: the commands, the result folder and the Excel report."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from yibao.cli import app
from yibao.simulation.results import Results
from yibao.simulation.runner import simulation_dir

REFORMS = simulation_dir() / "reforms"


def test_generate_run_report_and_excel(tmp_path: Path) -> None:
    runner = CliRunner()
    data, out = tmp_path / "data", tmp_path / "out"
    r = runner.invoke(app, ["simulate", "generate", "--out", str(data), "--bills", "20000",
                            "--partition-bills", "5000"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "已生成 20,000 笔结算" in r.output
    r = runner.invoke(app, [
        "simulate", "run", "--data", str(data), "--from", "2025-01-01", "--to", "2025-12-31",
        "--out", str(out), "--reform", str(REFORMS / "gz-employee-dedc.yaml"),
        "--reform", str(REFORMS / "no-relief-2020.yaml"),
        "--projection-years", "2", "--projection-start", "2020-01-01",
    ])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "表1 各方案基金支出与个人负担" in r.output and "表3 基金预测" in r.output
    res = Results.read(out)
    assert res.meta["bills"] == 20_000 and len(res.meta["scenarios"]) == 3
    wb = load_workbook(out / "report.xlsx", read_only=True)
    assert wb.sheetnames == ["汇总", "分组明细", "变化分布", "按月支出", "基金预测", "方案参数"]
    head = next(wb["汇总"].iter_rows(values_only=True))
    assert head[0] == "方案" and "统筹基金" in head
    rows = list(wb["方案参数"].iter_rows(values_only=True))
    assert any(row[2] == "employee.inpatient.deductible" for row in rows)
    r = runner.invoke(app, ["simulate", "report", str(out), "--by", "psn_group"])
    assert r.exit_code == 0 and "表2 按人员类别" in r.output


def test_a_bad_reform_is_refused_naming_file_key_and_rule(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        'reform: bad\nname: 错误方案\nregions:\n  "440100":\n    parameters:\n'
        "      employee.inpatient.ratio:\n        values:\n"
        "          2025-01-01: {value: 1.5, reference: 测试 2025}\n",
        encoding="utf-8",
    )
    r = CliRunner().invoke(app, ["simulate", "run", "--data", str(tmp_path), "--from", "2025-01-01",
                                 "--to", "2025-12-31", "--out", str(tmp_path / "o"), "--reform", str(bad)])  # fmt: skip
    assert r.exit_code == 2
    assert (
        "bad.yaml: employee.inpatient.ratio@2025-01-01" in r.output and "outside 0..1" in r.output
    )
    assert not (tmp_path / "o").exists()


def test_the_dataset_document_lists_every_column() -> None:
    from yibao.simulation.schema import BILL_COLUMNS, ITEM_COLUMNS

    doc = (Path(__file__).parents[3] / "docs" / "simulation-data.md").read_text(encoding="utf-8")
    for name, *_ in (*BILL_COLUMNS, *ITEM_COLUMNS):
        assert f"| `{name}` |" in doc, name
