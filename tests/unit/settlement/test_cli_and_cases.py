"""`yibao calc`, `yibao policy show|check`, and case-file refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.settlement.case import CaseError, parse_case

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


def test_calc_prints_the_split_and_checks_expectations() -> None:
    res = runner.invoke(app, ["calc", str(ROOT / "cases/ex1.yaml")])
    assert res.exit_code == 0, res.output
    assert "基本医疗保险统筹基金支出" in res.output and "6560.00" in res.output
    assert "与预期一致" in res.output


def test_calc_json_uses_national_field_names() -> None:
    res = runner.invoke(app, ["calc", str(ROOT / "cases/ex3.yaml"), "--json"])
    data = json.loads(res.output)
    assert data["setlinfo"]["hifmi_pay"] == "93800.00"
    assert {d["fund_pay_type"] for d in data["setldetail"]} == {"390100", "390200"}
    assert data["result"][0]["inscp_scp_amt"] == "120000.00"
    assert "trace" not in data


def test_calc_explain_names_parameters_and_references() -> None:
    res = runner.invoke(app, ["calc", str(ROOT / "cases/ex4.yaml"), "--explain"])
    assert "resident.serious.bands" in res.output and "山东 2014" in res.output
    data = json.loads(
        runner.invoke(app, ["calc", str(ROOT / "cases/ex4.yaml"), "--json", "--explain"]).output
    )
    steps = [t["step"] for t in data["trace"]]
    assert steps[:4] == ["split", "line", "deductible", "pooled"] and "serious" in steps


def test_calc_exit_codes(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yaml"
    text = (
        (ROOT / "cases/ex1.yaml")
        .read_text(encoding="utf-8")
        .replace("hifp_pay: 6560.00", "hifp_pay: 6561.00")
    )
    wrong.write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["calc", str(wrong)])
    assert res.exit_code == 1 and "hifp_pay: expected 6561.00, got 6560.00" in res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        text.replace('class: "01", amount: 3000', 'class: "04", amount: 3000'), encoding="utf-8"
    )
    res = runner.invoke(app, ["calc", str(bad)])
    assert res.exit_code == 2 and "encounter.items[1].class" in res.output


def test_policy_show_and_check() -> None:
    res = runner.invoke(app, ["policy", "show", "440300", "--date", "2025-07-01"])
    assert res.exit_code == 0, res.output
    assert "深圳市" in res.output and "358号" in res.output and "假设" in res.output
    assert runner.invoke(app, ["policy", "show", "999999", "--date", "2025-07-01"]).exit_code == 2
    assert "OK" in runner.invoke(app, ["policy", "check"]).output


BASE = {
    "region": "440300",
    "person": {"insutype": "310", "psn_type": "11"},
    "encounter": {"med_type": "11", "begntime": "2025-07-01", "items": [{"amount": 10}]},
}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"colour": 1}, "case: unknown field"),
        ({"person": {"insutype": "310"}}, "person.psn_type: required"),
        (
            {"encounter": {"med_type": "11", "begntime": "2025-07-01", "items": []}},
            "encounter.items",
        ),
        ({"encounter": {"begntime": "2025-07-01", "items": [{"amount": 1.234}]}}, "2 decimal"),
        ({"encounter": {"begntime": "2025-07-01", "items": [{"name": "x"}]}}, "give 'amount'"),
        (
            {"encounter": {"begntime": "2025-07-01", "items": [{"amount": 1, "price": 2}]}},
            "items\\[0\\]: unknown field",
        ),
        (
            {"person": {"insutype": "390", "psn_type": "50", "assistance": [{"class": "rich"}]}},
            "assistance\\[0\\].class",
        ),
        ({"accumulators": {"hifp": 5}}, "accumulators.hifp"),
        ({"accumulators": {"deductible": 5}}, "accumulators: unknown field"),
    ],
)
def test_case_refusals_name_the_field(patch: dict[str, object], message: str) -> None:
    with pytest.raises(CaseError, match=message):
        parse_case({**BASE, **patch})


def test_case_defaults() -> None:
    case = parse_case(BASE)
    assert case.person.insuplc_admdvs == "440300" and case.encounter.mdtrtarea_admvs == "440300"
    assert case.accumulators.year == 2025 and case.on.isoformat() == "2025-07-01"


def test_a_year_of_encounters_in_one_case() -> None:
    year = {k: v for k, v in BASE.items() if k != "encounter"}
    enc = BASE["encounter"]
    case = parse_case({**year, "encounters": [enc, {**enc, "begntime": "2025-08-01"}]})
    assert len(case.steps) == 2 and len(case.run_all()) == 2
    with pytest.raises(CaseError, match="either 'encounter' or 'encounters'"):
        parse_case({**BASE, "encounters": [enc]})
    with pytest.raises(CaseError, match="put expect under each encounter"):
        parse_case({**year, "encounters": [enc], "expect": {"hifp_pay": 1}})
    res = runner.invoke(
        app, ["calc", str(ROOT / "tests/golden/shenzhen_resident_year.yaml"), "--json"]
    )
    assert [r["setlinfo"]["hifmi_pay"] for r in json.loads(res.output)] == [
        "0.00",
        "0.00",
        "2856.00",
        "0.00",
    ]


def test_a_class_b_line_takes_the_treatment_places_catalogue_default() -> None:
    """The 乙类 default first-pay ratio comes from the catalogue (catalogs/…/region.yaml) of the
    place of treatment (就医地目录): 深圳 1 %, 广州 10 % (assumed); none before any is in force."""

    def case(where: str, day: str, **item: object) -> dict[str, object]:
        return {
            "region": "440100",
            "person": {"insutype": "310", "psn_type": "11"},
            "encounter": {"begntime": day, "mdtrtarea_admvs": where, "filing": "long_term",
                          "items": [{"class": "02", "amount": 100, **item}]},
        }  # fmt: skip

    from decimal import Decimal

    assert parse_case(case("440300", "2025-07-01")).encounter.items[0].selfpay_prop == Decimal(
        "0.01"
    )
    assert parse_case(case("440100", "2025-07-01")).encounter.items[0].selfpay_prop == Decimal(
        "0.10"
    )
    with pytest.raises(CaseError, match=r"items\[0\]\.first_pay: .*selfpay_defaults"):
        parse_case(case("440100", "2021-06-01"))
    early = parse_case(case("440100", "2021-06-01", first_pay=0.2))
    assert early.encounter.items[0].selfpay_prop == Decimal("0.2")
