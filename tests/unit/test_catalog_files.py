"""Catalogue files (目录文件): every row validated, problems named by file, line and field."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from yibao.catalog.files import (
    CatalogFileError,
    check_references,
    read_catalog_dir,
    row_digest,
)
from yibao.catalog.model import Region

ROOT = Path(__file__).resolve().parents[2]
HEADER = "action,med_list_codg,name,list_type,chrgitm_lv,med_chrgitm_type,selfpay_prop,pric,pric_uplmt_amt,lmt_used_flag,lmt_usescp,begndate,enddate\n"
PROVINCE_YAML = (
    'admdvs: "990000"\nname: 测试省\nbegndate: 2024-01-01\n'
    'selfpay_defaults:\n  - begndate: 2024-01-01\n    selfpay_prop: "0.1"\n'
    "    assumed: true\n    reason: 测试\n"
)


def make(tmp_path: Path, rows: str, *, yaml: str = PROVINCE_YAML, city: str | None = None) -> Path:
    root = tmp_path / "cat"
    (root / "p").mkdir(parents=True)
    (root / "p" / "region.yaml").write_text(yaml, encoding="utf-8")
    (root / "p" / "items.csv").write_text("# 注释\n" + HEADER + rows, encoding="utf-8")
    if city is not None:
        (root / "c").mkdir()
        (root / "c" / "region.yaml").write_text(
            'admdvs: "990100"\nname: 测试市\nparent: "990000"\nbegndate: 2024-01-01\n',
            encoding="utf-8",
        )
        (root / "c" / "items.csv").write_text(HEADER + city, encoding="utf-8")
    return root


def problems(root: Path) -> set[tuple[int, str]]:
    with pytest.raises(CatalogFileError) as err:
        read_catalog_dir(root)
    return {(p.line, p.field) for p in err.value.problems}


def test_good_files_parse(tmp_path: Path) -> None:
    root = make(
        tmp_path,
        ",A1,甲药,101,01,09,,1.00,0.80,0,,,\n"
        ",A2,乙药,101,02,11,0.2,2.50,,1,限二线,,2024-12-31\n"
        ",A2,乙药,101,02,11,,2.00,,1,限二线,2025-01-01,\n",
        city="change,A1,,,03,,,,none,,,,\nremove,A2,,,,,,,,,,,\n",
    )
    files = read_catalog_dir(root)
    rows = {(s.row.med_list_codg, s.row.begndate): s for s in files.rows}
    a1 = rows[("A1", date(2024, 1, 1))].row
    assert (a1.pric, a1.pric_uplmt_amt, a1.lmt_used_flag) == (100, 80, "0")
    a2 = rows[("A2", date(2024, 1, 1))]
    assert a2.row.selfpay_prop == Decimal("0.2") and a2.line == 4  # physical line in the file
    city = [s.row for s in files.rows if s.row.admdvs == "990100"]
    assert city[0].clear_pric_uplmt and city[0].chrgitm_lv == "03"
    assert check_references(files, {}, {}) == []
    assert row_digest(a1) == row_digest(a1) and row_digest(a1) != row_digest(a2.row)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (",B1,药,101,04,09,,1,,0,,,\n", "chrgitm_lv"),
        (",B1,药,109,01,09,,1,,0,,,\n", "list_type"),
        (",B1,药,301,01,09,,1,,0,,,\n", "med_chrgitm_type"),  # a material billed as 西药费
        (",B1,药,101,01,09,0.1,1,,0,,,\n", "selfpay_prop"),  # 甲类 has no first-pay
        (",B1,药,101,02,09,1.5,1,,0,,,\n", "selfpay_prop"),
        (",B1,药,101,02,09,,1.001,,0,,,\n", "pric"),
        (",B1,药,101,02,09,,-1,,0,,,\n", "pric"),
        (",B1,药,101,02,09,,1,,2,,,\n", "lmt_used_flag"),
        (",B1,药,101,02,09,,1,,1,,,\n", "lmt_usescp"),  # limited use needs its scope
        (",B1,,101,02,09,,1,,0,,,\n", "name"),
        (",B 1,药,101,02,09,,1,,0,,,\n", "med_list_codg"),
        (",B1,药,101,02,09,,1,,0,,2024-13-01,\n", "begndate"),
        (",B1,药,101,02,09,,1,,0,,2024-06-01,2024-05-01\n", "enddate"),
        (",B1,药,101,02,09,,1,none,0,,,\n", "pric_uplmt_amt"),  # 'none' only in change rows
        ("change,B1,,,01,,,,,,,,\n", "action"),  # a province cannot 'change'
        ("wipe,B1,药,101,02,09,,1,,0,,,\n", "action"),
    ],
)
def test_each_rule_names_line_and_field(tmp_path: Path, row: str, field: str) -> None:
    assert (3, field) in problems(make(tmp_path, row))


def test_overlapping_periods_and_unknown_column(tmp_path: Path) -> None:
    root = make(
        tmp_path, ",C1,药,101,02,09,,1,,0,,2024-01-01,\n,C1,药,101,02,09,,1,,0,,2024-06-01,\n"
    )
    assert (4, "begndate") in problems(root)
    (root / "p" / "items.csv").write_text("med_list_codg,colour\nC1,red\n", encoding="utf-8")
    assert (1, "colour") in problems(root)


def test_region_yaml_rules(tmp_path: Path) -> None:
    no_default = 'admdvs: "990000"\nname: 测试省\nbegndate: 2024-01-01\n'
    assert (0, "selfpay_defaults") in problems(make(tmp_path / "a", "", yaml=no_default))
    unsourced = (
        no_default + 'selfpay_defaults:\n  - begndate: 2024-01-01\n    selfpay_prop: "0.1"\n'
    )
    assert (0, "selfpay_defaults[1].reference") in problems(
        make(tmp_path / "b", "", yaml=unsourced)
    )
    no_reason = unsourced + "    assumed: true\n"
    assert (0, "selfpay_defaults[1].reason") in problems(make(tmp_path / "c", "", yaml=no_reason))
    assert (0, "admdvs") in problems(
        make(tmp_path / "d", "", yaml=PROVINCE_YAML.replace("990000", "99"))
    )


def test_change_rows_limited_to_overridable_fields(tmp_path: Path) -> None:
    root = make(tmp_path, ",A1,药,101,02,09,,1,,0,,,\n", city="change,A1,新名字,,,,,,,,,,\n")
    assert (2, "name") in problems(root)
    root2 = make(tmp_path / "x", ",A1,药,101,02,09,,1,,0,,,\n", city="change,A1,,,,,,,,,,,\n")
    assert (2, "action") in problems(root2)  # a change that changes nothing


def test_references_checked_against_parents(tmp_path: Path) -> None:
    root = make(tmp_path, ",A1,药,101,02,09,,1,,0,,,\n", city="remove,ZZ9,,,,,,,,,,,\n")
    files = read_catalog_dir(root)
    got = check_references(files, {}, {})
    assert [(p.line, p.field) for p in got] == [(2, "med_list_codg")]
    # a city folder loaded alone: its parent must already be in the database
    (root / "p" / "region.yaml").unlink()
    alone = read_catalog_dir(root)
    assert [p.field for p in check_references(alone, {}, {})] == ["parent"]
    db = {"990000": Region("990000", "测试省")}
    assert check_references(alone, db, {"990000": {"ZZ9"}}) == []


def test_shipped_demo_catalogue_is_valid_and_up_to_date() -> None:
    files = read_catalog_dir(ROOT / "catalogs")
    assert {"440000", "440100", "440300", "440400", "441300", "441481", "420000", "421381"} == set(
        files.regions
    )
    gd = files.regions["440000"]
    assert len(gd.rows) >= 300 and gd.demo and "演示数据" in gd.notice
    assert {s.row.list_type for s in gd.rows} >= {"101", "102", "201", "301"}
    assert check_references(files, {}, {}) == []
    sz = files.regions["440300"].defaults[0]
    assert sz.selfpay_prop == Decimal("0.01") and not sz.assumed and "第二十九条" in sz.reference
    for adm, rf in files.regions.items():
        if adm != "440300":
            assert all(d.assumed and d.reason for d in rf.defaults), adm
    gen = ROOT / "catalogs" / "tools" / "generate_demo.py"
    out = subprocess.run([sys.executable, str(gen), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout


def test_case_files_and_live_classification_read_one_first_pay_default() -> None:
    """The 乙类 default first-pay ratio has one source, catalogs/<region>/region.yaml: a case
    file's 乙类 line without ``first_pay`` gets exactly what live classification
    (``resolve_entry`` over the loaded catalogue) gives a 乙类 item without its own ratio."""
    from yibao.catalog.model import CatalogRow, region_chain, resolve_entry
    from yibao.settlement.case import parse_case

    files = read_catalog_dir(ROOT / "catalogs")
    regions = {a: rf.region for a, rf in files.regions.items()}
    defaults = [d for rf in files.regions.values() for d in rf.defaults]
    for day in (date(2024, 6, 1), date(2025, 7, 1)):
        for adm in files.regions:
            chain = region_chain(adm, regions)
            row = CatalogRow(chain[0], "TESTB", date(2020, 1, 1), name="乙类", list_type="101",
                             chrgitm_lv="02", med_chrgitm_type="09")  # fmt: skip
            live = resolve_entry("TESTB", adm, chain, [row], defaults, day)
            assert live is not None
            case = parse_case({
                "region": adm, "person": {"insutype": "310", "psn_type": "11"},
                "encounter": {"begntime": day, "items": [{"class": "02", "amount": 100}]},
            })  # fmt: skip
            assert case.encounter.items[0].selfpay_prop == live.selfpay_prop, (adm, day)
    assert Decimal("0.01") == next(
        d.selfpay_prop for d in files.regions["440300"].defaults if d.in_force(date(2025, 7, 1))
    )
