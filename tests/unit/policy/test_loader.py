"""Policy files: the shipped set loads; dates, inheritance and overrides resolve; bad files are
refused naming file, key and rule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from yibao.policy.loader import PolicyFileError, load_tree, parse_region, resolve, resolve_in
from yibao.policy.model import PolicyError

GOOD = """
admdvs: "990100"
name: 测试市
parameters:
  employee.inpatient.deductible:
    values:
      2020-01-01: {value: 1000, reference: 测试文件 2020}
      2024-01-01: {value: 800, reference: 测试文件 2024}
"""


def _refused(body: str, match: str) -> PolicyFileError:
    with pytest.raises(PolicyFileError, match=match) as info:
        parse_region("t.yaml", GOOD.split("parameters:")[0] + "parameters:\n" + body)
    assert "t.yaml" in str(info.value)
    return info.value


def test_shipped_policies_load_and_every_region_resolves() -> None:
    tree = load_tree()
    assert {"440000", "440100", "440300", "440400", "441300", "441481", "420000", "421381"} <= set(
        tree.regions
    )
    for code in tree.regions:
        pol = resolve(code, date(2025, 7, 1))
        for p in pol.params.values():
            assert p.use.reference, p.use.key  # every value in force names its source or reason


def test_value_in_force_is_the_latest_dated_on_or_before_the_day() -> None:
    tree = load_tree()
    old = resolve_in(tree, "440300", date(2023, 9, 30))
    new = resolve_in(tree, "440300", date(2023, 10, 1))
    assert (
        not old.has("employee.inpatient.deductible_later")
        or old.use("employee.inpatient.deductible_later").region != "440300"
    )
    # (this used catalog.first_pay_ratio, which moved to the catalogue: see the test below)
    assert new.use("employee.inpatient.cap").since == date(2023, 10, 1)
    assert new.use("employee.inpatient.cap").assumed
    assert old.use("employee.inpatient.cap").since == date(2018, 7, 1)
    assert not old.use("employee.inpatient.cap").assumed


def test_a_moved_key_is_refused_with_where_it_lives_now(tmp_path: Path) -> None:
    """The 乙类 default first-pay ratio has one source, the catalogue (catalogs/…/region.yaml)."""
    f = tmp_path / "x.yaml"
    f.write_text(
        'admdvs: "440300"\nname: x\nparameters:\n  catalog.first_pay_ratio:\n'
        "    values: {2024-01-01: {value: 0.1, reference: x 2024}}\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyFileError, match=r"catalog.first_pay_ratio: .*selfpay_defaults"):
        parse_region(f)


def test_city_inherits_from_province_and_nation() -> None:
    pol = resolve("441481", date(2025, 7, 1))
    assert pol.chain == ("441481", "440000", "000000")
    assert pol.use("med_type.setting").region == "000000"
    assert pol.use("employee.inpatient.deductible").region == "440000"
    assert pol.use("resident.inpatient.deductible").region == "441481"


def test_assumed_values_carry_their_reason() -> None:
    use = resolve("441300", date(2025, 7, 1)).use("employee.inpatient.ratio")
    assert use.assumed and "[D]" in use.reference and use.source().startswith("假设")


def test_overrides_apply_and_unknown_override_is_refused() -> None:
    pol = resolve(
        "440100",
        date(2025, 7, 1),
        {"employee.inpatient.deductible": {"value": 1300, "reference": "EX1"}},
    )
    assert pol.value("employee.inpatient.deductible") == 130000
    with pytest.raises(PolicyFileError, match=r"overrides: no\.such\.key: unknown key"):
        resolve("440100", date(2025, 7, 1), {"no.such.key": 1})


def test_good_file_parses() -> None:
    region = parse_region("t.yaml", GOOD)
    values = region.params["employee.inpatient.deductible"]
    assert [v.value for v in values] == [100000, 80000]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (
            "  employee.inpatient.deductible:\n    values:\n      2020-13-01: {value: 1, reference: x 2020}\n",
            "not a date",
        ),
        (
            "  employee.inpatient.ratio:\n    values:\n      2020-01-01: {value: 1.2, reference: x 2020}\n",
            "outside 0..1",
        ),
        (
            "  employee.inpatient.ratio:\n    values:\n      2020-01-01: {value: 0.12345, reference: x 2020}\n",
            "4 decimal",
        ),
        (
            "  employee.inpatient.deductible:\n    values:\n      2020-01-01: {value: 100}\n",
            "missing reference",
        ),
        (
            "  employee.inpatient.deductible:\n    values:\n      2020-01-01: {value: 100, reference: 某文件}\n",
            "document and its year",
        ),
        (
            "  employee.inpatient.deductible:\n    values:\n      2020-01-01: {value: 100, assumed: true}\n",
            "needs a 'reason'",
        ),
        (
            "  employee.inpatient.deducible:\n    values:\n      2020-01-01: {value: 100, reference: x 2020}\n",
            "employee.inpatient.deducible: unknown key",
        ),
        (
            "  employee.inpatient.deductible:\n    values:\n      2020-01-01: {value: -5, reference: x 2020}\n",
            "negative",
        ),
        (
            "  employee.inpatient.deductible:\n    values:\n      2020-01-01: {value: 1.005, reference: x 2020}\n",
            "2 decimal",
        ),
        (
            "  employee.inpatient.deductible:\n    values:\n      2020-01-01: {value: {staff: 100}, reference: x 2020}\n",
            "'staff' is not a group",
        ),
        (
            "  employee.inpatient.deductible:\n    values:\n      2020-01-01: {value: {default: {'4': 100}}, reference: x 2020}\n",
            "'4' is not a level",
        ),
        (
            "  employee.serious.bands:\n    values:\n      2020-01-01:\n        value: [{from: 100, ratio: 0.5}, {from: 50, ratio: 0.6}]\n        reference: x 2020\n",
            "bands not ascending",
        ),
        (
            "  employee.serious.bands:\n    values:\n      2020-01-01: {value: [{from: 0}], reference: x 2020}\n",
            "exactly 'from'",
        ),
        (
            "  employee.inpatient.cap:\n    values:\n      2020-01-01: {value: [{from_months: 6, amount: 1}], reference: x 2020}\n",
            "must start at 0",
        ),
        (
            "  employee.inpatient.cap:\n    values:\n      2020-01-01: {value: [{from_months: 0, amount: 1, wage_multiple: 2}], reference: x 2020}\n",
            "exactly one of",
        ),
        (
            "  employee.inpatient.cross_region:\n    values:\n      2020-01-01: {value: {adjust: halve}, reference: x 2020}\n",
            "'halve' is not one of",
        ),
        (
            "  employee.inpatient.cross_region:\n    values:\n      2020-01-01: {value: {adjust: multiply}, reference: x 2020}\n",
            "needs a 'value'",
        ),
        (
            "  employee.inpatient.cap_basis:\n    values:\n      2020-01-01: {value: cost, reference: x 2020}\n",
            "not one of",
        ),
        (
            "  employee.serious.enabled:\n    values:\n      2020-01-01: {value: 'yes', reference: x 2020}\n",
            "true or false",
        ),
        (
            "  med_type.setting:\n    values:\n      2020-01-01: {value: {'11': dental}, reference: x 2020}\n",
            "'dental' is not one of",
        ),
        (
            "  employee.serious.tilt_classes:\n    values:\n      2020-01-01: {value: [rich], reference: x 2020}\n",
            "not an assistance class",
        ),
        (
            "  employee.inpatient.deductible:\n    values:\n      2020-01-01: {value: 1, reference: x 2020, source: y}\n",
            "unknown field",
        ),
        ("  employee.inpatient.deductible: 100\n", "needs a 'values' mapping"),
    ],
)
def test_bad_values_are_refused_naming_key_and_rule(body: str, match: str) -> None:
    _refused(body, match)


def test_bad_top_level_is_refused() -> None:
    with pytest.raises(PolicyFileError, match="admdvs"):
        parse_region("t.yaml", GOOD.replace('"990100"', '"99"'))
    with pytest.raises(PolicyFileError, match="unknown top-level key"):
        parse_region("t.yaml", GOOD + "\nversion: 2\n")
    with pytest.raises(PolicyFileError, match="not valid YAML"):
        parse_region("t.yaml", "admdvs: [")


def test_tree_refuses_missing_parent_duplicates_and_loops(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        GOOD.replace("name: 测试市", 'name: 测试市\nparent: "990000"'), encoding="utf-8"
    )
    with pytest.raises(PolicyFileError, match="parent: region 990000 has no policy file"):
        load_tree(tmp_path)
    (tmp_path / "b.yaml").write_text(
        GOOD.replace("990100", "990000").replace("name: 测试市", 'name: 省\nparent: "990100"'),
        encoding="utf-8",
    )
    with pytest.raises(PolicyError, match="inheritance loop"):
        load_tree(tmp_path)
    (tmp_path / "b.yaml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(PolicyFileError, match="already defined"):
        load_tree(tmp_path)


def test_missing_value_in_force_is_reported() -> None:
    tree = load_tree()
    pol = resolve_in(tree, "000000", date(2025, 7, 1))
    with pytest.raises(PolicyError, match=r"employee\.inpatient\.deductible: no value in force"):
        pol.value("employee.inpatient.deductible")
