"""Grouper table files: the shipped sets load; a bad table is refused with file, line and reason."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import pytest

from yibao.payment import tables
from yibao.payment.model import dip, drg

ROOT = Path(__file__).resolve().parents[3] / "grouper"
DRG_SET = ROOT / "441481" / "CHS-DRG-1.1" / "2025.1"
DIP_SET = ROOT / "440300" / "DIP-2.0" / "2025.1"


def test_shipped_sets_load_and_are_found_by_region_and_date() -> None:
    lib = tables.load_library(ROOT)
    d = lib.find("drg", "441481", date(2025, 7, 1))
    assert isinstance(d, drg.DrgTables) and len(d.mdcs) == 10 and d.manifest.assumed
    assert lib.find("drg", "441481", date(2024, 12, 31)) is None  # not in force before 2025
    assert lib.find("drg", "440300", date(2025, 7, 1)) is None
    assert isinstance(lib.find("dip", "440300", date(2025, 7, 1)), dip.DipTables)


def _copy(src: Path, tmp: Path) -> Path:
    target = tmp / "set"
    shutil.copytree(src, target)
    return target


def _edit(folder: Path, name: str, old: str, new: str) -> int:
    """Replace the first line containing ``old``; return its 1-based line number."""
    path = folder / name
    lines = path.read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        if old in line:
            lines[i] = line.replace(old, new)
            path.write_text("\n".join(lines), encoding="utf-8")
            return i + 1
    raise AssertionError(f"{old!r} not in {name}")


@pytest.mark.parametrize(
    ("name", "old", "new", "reason"),
    [
        ("adrg.tsv", "ES3\tMDCE", "ES3\tMDCQ", "mdc MDCQ is not in mdc.tsv"),
        (
            "adrg.tsv",
            "GS1\tMDCG\t胃肠出血\tmedical",
            "GS1\tMDCG\t胃肠出血\tsurgical",
            "contradicts the second letter",
        ),
        ("drg.tsv", "ES31\tES3", "ES37\tES3", "one digit 1/3/5/9"),
        (
            "drg.tsv",
            "ES33\tES3\t呼吸系统感染/炎症，伴并发症或合并症\tcc",
            "ES33\tES3\t呼吸系统感染/炎症，伴并发症或合并症\tnone",
            "contradicts the suffix 3",
        ),
        ("weights.tsv", "ES35\t0.6300", "ES35\t0.63001", "at most 4 decimal places"),
        ("weights.tsv", "ES35\t0.6300", "ES35\t0", "must be > 0"),
        ("mdc_dx.tsv", "MDCE\tJ18.900", "MDCE\tJ18 900", "is not a diagnosis code"),
        (
            "adrg_list.tsv",
            "FM1\tmain_proc\t36.0601",
            "FM1\tmain_proc\tXX.01",
            "is not a procedure code",
        ),
        (
            "cc.tsv",
            "A41.900\tMCC\t7-4",
            "A41.900\tMCC\t7-999",
            "exclusion table '7-999' is not in cc_excl.tsv",
        ),
        ("cc.tsv", "A41.900\tMCC\t7-4", "A41.900\tSEVERE\t7-4", "level 'SEVERE' must be MCC or CC"),
        (
            "mdc.tsv",
            "MDCM\t男性生殖系统疾病及功能障碍\t5\tprincipal_dx\t1",
            "MDCM\t男性生殖系统疾病及功能障碍\t5\tprincipal_dx\tM",
            "sex 'M'",
        ),
        ("adrg.tsv", "weight_g=0-1500", "weight_g=1500-0", "write field=lo-hi"),
    ],
)
def test_a_bad_drg_row_is_refused_with_file_line_and_reason(
    tmp_path: Path, name: str, old: str, new: str, reason: str
) -> None:
    folder = _copy(DRG_SET, tmp_path)
    line = _edit(folder, name, old, new)
    with pytest.raises(tables.TableError) as err:
        tables.load_drg(folder)
    assert err.value.file == str(folder / name) and err.value.line == line
    assert reason in err.value.reason
    assert f"{name}:{line}: " in str(err.value)


def test_missing_weight_header_and_column_count(tmp_path: Path) -> None:
    folder = _copy(DRG_SET, tmp_path)
    _edit(folder, "weights.tsv", "PU15\t0.4100", "")
    with pytest.raises(tables.TableError, match="no weight for PU15"):
        tables.load_drg(folder)
    folder = _copy(DRG_SET, tmp_path / "b")
    line = _edit(folder, "drg.tsv", "drg\tadrg\tname\tsplit", "drg\tadrg\tname")
    with pytest.raises(tables.TableError, match="header must be") as err:
        tables.load_drg(folder)
    assert err.value.line == line
    folder = _copy(DRG_SET, tmp_path / "c")
    line = _edit(folder, "cc_excl.tsv", "7-101\tJ18.900", "7-101\tJ18.900\textra")
    with pytest.raises(tables.TableError, match="3 columns, expected 2") as err:
        tables.load_drg(folder)
    assert err.value.line == line


def test_an_adrg_without_its_list_and_a_split_without_fallback(tmp_path: Path) -> None:
    folder = _copy(DRG_SET, tmp_path)
    text = (folder / "adrg_list.tsv").read_text(encoding="utf-8")
    (folder / "adrg_list.tsv").write_text(
        "\n".join(ln for ln in text.split("\n") if not ln.startswith("FR3\t")), encoding="utf-8"
    )
    with pytest.raises(tables.TableError, match="adrg FR3 \\(rule main_dx\\) has no main_dx list"):
        tables.load_drg(folder)
    folder = _copy(DRG_SET, tmp_path / "b")
    _edit(folder, "drg.tsv", "ES35\tES3", "#ES35\tES3")
    _edit(folder, "weights.tsv", "ES35\t", "#ES35\t")
    with pytest.raises(tables.TableError, match="adrg ES3: split groups need a 5 group"):
        tables.load_drg(folder)


def test_manifest_rules(tmp_path: Path) -> None:
    folder = _copy(DRG_SET, tmp_path)
    _edit(folder, "manifest.yaml", "assumed: true", "assumed: yes-ish")
    with pytest.raises(tables.TableError, match="assumed must be true or false"):
        tables.load_drg(folder)
    folder = _copy(DRG_SET, tmp_path / "b")
    _edit(folder, "manifest.yaml", 'region: "441481"', 'region: "4414"')
    with pytest.raises(tables.TableError, match="not a 6-digit admdvs"):
        tables.load_drg(folder)
    folder = _copy(DRG_SET, tmp_path / "c")
    digest = hashlib.sha256(b"something else").hexdigest()
    with (folder / "manifest.yaml").open("a", encoding="utf-8") as f:
        f.write(f"files:\n  weights.tsv: {digest}\n")
    with pytest.raises(tables.TableError, match="sha256") as err:
        tables.load_drg(folder)
    assert err.value.file.endswith("weights.tsv")


def test_dip_rows(tmp_path: Path) -> None:
    folder = _copy(DIP_SET, tmp_path)
    line = _edit(
        folder,
        "dip_groups.tsv",
        "J18.9-33.2\tcore\tJ18.9\t33.2\tdiagnostic",
        "J18.9-33.2\tcore\tJ18.9\t\tdiagnostic",
    )
    with pytest.raises(tables.TableError, match="a core group has procs") as err:
        tables.load_dip(folder)
    assert err.value.line == line
    folder = _copy(DIP_SET, tmp_path / "b")
    _edit(folder, "dip_groups.tsv", "ZH-J18-BS\t", "J18.9-BS\t")
    with pytest.raises(tables.TableError, match="appears twice"):
        tables.load_dip(folder)
    folder = _copy(DIP_SET, tmp_path / "c")
    _edit(folder, "dip_proc_type.tsv", "47.0\tsurgery", "47.0\tcosmetic")
    with pytest.raises(tables.TableError, match="treat_type 'cosmetic'"):
        tables.load_dip(folder)


def test_library_refuses_two_sets_for_the_same_start(tmp_path: Path) -> None:
    shutil.copytree(DRG_SET, tmp_path / "a")
    shutil.copytree(DRG_SET, tmp_path / "b")
    with pytest.raises(tables.TableError, match="same kind, region and effective_from"):
        tables.load_library(tmp_path)
