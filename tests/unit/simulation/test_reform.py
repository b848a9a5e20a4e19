"""Reforms as data: validated like policy files (file: key: rule), applied as dated patches."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from yibao.policy.loader import PolicyFileError, default_tree, resolve_in
from yibao.simulation.reform import apply_patches, parse_reform

GOOD = """
reform: xingning-dedc
name: 兴宁 居民三级住院起付线 650 → 500
regions:
  "441481":
    parameters:
      resident.inpatient.deductible:
        values:
          2025-07-01:
            value: {default: {default: 200, "2": 450, "3": 500}}
            reference: 测算方案 (2025)
"""


def _refused(text: str, match: str) -> PolicyFileError:
    with pytest.raises(PolicyFileError, match=match) as info:
        parse_reform("r.yaml", text, default_tree())
    assert str(info.value).startswith("r.yaml: ")
    return info.value


def test_a_reform_changes_its_key_from_its_date_and_nothing_else() -> None:
    tree = default_tree()
    reform = parse_reform("r.yaml", GOOD, tree)
    patched = apply_patches(tree, reform.regions)
    key = "resident.inpatient.deductible"
    before = resolve_in(patched, "441481", date(2025, 6, 30))
    after = resolve_in(patched, "441481", date(2025, 7, 1))
    assert before.pick(key, ("adult",), ("3",)) == 65000
    assert after.pick(key, ("adult",), ("3",)) == 50000
    assert after.use(key).reference == "测算方案 (2025)"
    base = resolve_in(tree, "441481", date(2025, 7, 1))
    assert base.pick(key, ("adult",), ("3",)) == 65000  # the baseline tree is untouched
    assert after.value("resident.inpatient.ratio") == base.value("resident.inpatient.ratio")
    assert reform.summary() == [
        ("441481", key, "2025-07-01", '{"default":{"default":200,"2":450,"3":500}}')
    ]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            GOOD.replace("resident.inpatient.deductible", "resident.inpatient.deducible"),
            r"resident\.inpatient\.deducible: unknown key",
        ),
        (
            GOOD.replace("reference: 测算方案 (2025)", "reference: 测算方案"),
            r"resident\.inpatient\.deductible@2025-07-01: reference must name the document and its year",
        ),
        (
            GOOD.replace('"441481"', '"990100"'),
            r"regions\.990100: region 990100 has no policy file",
        ),
        (GOOD.replace("2025-07-01", "2025-13-01"), r"2025-13-01.*is not a date"),
        (GOOD.replace('"3": 500', '"3": -5'), r"amount -5 is negative"),
        (GOOD.replace("reform: xingning-dedc", "reform: Baseline!"), r"reform: .*lower-case"),
        (
            GOOD.replace("name: 兴宁 居民三级住院起付线 650 → 500\n", ""),
            r"name: a reform needs a name",
        ),
        (GOOD + "extra: 1\n", r"extra: unknown top-level key"),
        ("reform: x\nname: y\n", r"regions: a reform must change at least one parameter"),
    ],
)
def test_bad_reforms_are_refused_naming_file_key_and_rule(text: str, match: str) -> None:
    _refused(text, match)


def test_fund_side_keys_are_checked_against_their_own_catalogue() -> None:
    text = (
        GOOD
        + """funds:
  "440300":
    parameters:
      funds.employee.relief_eligible_share:
        values:
          2020-02-01: {value: 1.5, reference: 粤医保函〔2020〕62号 (2020)}
"""
    )
    _refused(text, r"funds\.employee\.relief_eligible_share@2020-02-01: .*outside 0\.\.1")


def test_shipped_reforms_are_valid() -> None:
    folder = Path(__file__).parents[3] / "simulation" / "reforms"
    files = sorted(folder.glob("*.yaml"))
    assert len(files) >= 3
    from yibao.simulation.income import load_fund_tree

    funds = set(load_fund_tree(folder.parent / "funds").regions)
    for path in files:
        parse_reform(path, tree=default_tree(), fund_regions=funds)
