"""Catalogue data files (目录数据文件): parse and validate, writing nothing.

A catalogue directory holds one folder per region layer, each with ``region.yaml`` (the region,
its parent, its 乙类 default first-pay ratios with their references, a notice) and a CSV of
rows (``items.csv`` unless ``items:`` says otherwise). See ``docs/catalog.md``.

Every row is checked; all problems are collected as :class:`RowProblem` (file, line, field,
reason) and raised together as :class:`CatalogFileError`. Nothing is written by this module.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import yaml

from yibao.catalog.item_rows import COLUMNS, NO_LIMIT, SourcedRow, read_rows
from yibao.catalog.model import (
    CatalogRow,
    Region,
    SelfpayDefault,
)
from yibao.catalog.problems import CatalogFileError, RowProblem, as_plain
from yibao.money import MoneyError, parse_ratio

__all__ = [
    "COLUMNS",
    "DEFAULT_ITEMS_FILE",
    "NO_LIMIT",
    "REGION_FILE",
    "CatalogFileError",
    "CatalogFiles",
    "RegionFile",
    "RowProblem",
    "SourcedRow",
    "as_plain",
    "check_references",
    "defaults_digest",
    "read_catalog_dir",
    "read_defaults",
    "row_digest",
]

REGION_FILE = "region.yaml"
DEFAULT_ITEMS_FILE = "items.csv"

_ADMDVS_RE = re.compile(r"^\d{6}$")
_REGION_KEYS = {
    "admdvs",
    "name",
    "parent",
    "begndate",
    "demo",
    "notice",
    "reference",
    "items",
    "selfpay_defaults",
}
_DEFAULT_KEYS = {"begndate", "enddate", "selfpay_prop", "reference", "assumed", "reason"}




@dataclass(slots=True)
class RegionFile:
    """One region layer as read from its folder."""

    region: Region
    defaults: list[SelfpayDefault]
    notice: str
    demo: bool
    reference: str
    file: str
    rows: list[SourcedRow] = field(default_factory=list)


@dataclass(slots=True)
class CatalogFiles:
    """Everything read from a catalogue directory, validated."""

    root: Path
    regions: dict[str, RegionFile]

    @property
    def rows(self) -> list[SourcedRow]:
        return [r for rf in self.regions.values() for r in rf.rows]


def row_digest(row: CatalogRow) -> str:
    """A stable fingerprint of a row's content (for idempotent loading)."""
    data = {k: _jsonable(v) for k, v in asdict(row).items()}
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def defaults_digest(region: Region, defaults: Iterable[SelfpayDefault], notice: str) -> str:
    data = {
        "region": {k: _jsonable(v) for k, v in asdict(region).items()},
        "defaults": [{k: _jsonable(v) for k, v in asdict(d).items()} for d in defaults],
        "notice": notice,
    }
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _jsonable(v: object) -> object:
    if isinstance(v, date | Decimal):
        return str(v)
    return v


def _as_date(value: object) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def read_catalog_dir(root: Path) -> CatalogFiles:
    """Read and validate every region folder under ``root`` (``region.yaml`` + its CSV).

    Checks that do not need the database: formats, code tables, required fields per action,
    date order, duplicate and overlapping periods, and references between the folders read.
    """
    root = Path(root)
    problems: list[RowProblem] = []
    if not root.is_dir():
        raise CatalogFileError([RowProblem(str(root), 0, "dir", "目录不存在")])
    region_files = sorted(
        p for p in root.rglob(REGION_FILE) if "tools" not in p.relative_to(root).parts
    )
    if not region_files:
        raise CatalogFileError([RowProblem(str(root), 0, REGION_FILE, "未找到任何 region.yaml")])
    regions: dict[str, RegionFile] = {}
    for path in region_files:
        rf = _read_region(root, path, problems)
        if rf is None:
            continue
        if rf.region.admdvs in regions:
            problems.append(RowProblem(rf.file, 0, "admdvs", f"统筹区 {rf.region.admdvs} 重复定义"))
            continue
        regions[rf.region.admdvs] = rf
    files = CatalogFiles(root, regions)
    _check_periods(files, problems)
    if problems:
        raise CatalogFileError(problems)
    return files


def _rel(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _read_region(root: Path, path: Path, problems: list[RowProblem]) -> RegionFile | None:
    fname = _rel(root, path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append(RowProblem(fname, 0, "yaml", f"无法解析: {exc}"))
        return None
    if not isinstance(raw, dict):
        problems.append(RowProblem(fname, 0, "yaml", "应为键值映射"))
        return None
    n0 = len(problems)
    for key in sorted(set(raw) - _REGION_KEYS):
        problems.append(RowProblem(fname, 0, str(key), "未知字段"))
    admdvs = str(raw.get("admdvs", "")).strip()
    if not _ADMDVS_RE.match(admdvs):
        problems.append(RowProblem(fname, 0, "admdvs", f"应为6位医保区划代码，实际 {admdvs!r}"))
    name = str(raw.get("name") or "").strip()
    if not name:
        problems.append(RowProblem(fname, 0, "name", "必填"))
    parent_raw = raw.get("parent")
    parent = None if parent_raw in (None, "") else str(parent_raw).strip()
    if parent is not None and (not _ADMDVS_RE.match(parent) or parent == admdvs):
        problems.append(RowProblem(fname, 0, "parent", f"无效的上级统筹区 {parent!r}"))
    default_begn: date | None = None
    if raw.get("begndate") not in (None, ""):
        try:
            default_begn = _as_date(raw["begndate"])
        except ValueError:
            problems.append(RowProblem(fname, 0, "begndate", "日期格式应为 YYYY-MM-DD"))
    defaults = read_defaults(fname, admdvs, raw.get("selfpay_defaults"), problems)
    if parent is None and not defaults:
        problems.append(
            RowProblem(
                fname,
                0,
                "selfpay_defaults",
                "省级目录必须给出乙类先行自付比例（可标 assumed: true 并说明理由）",
            )
        )
    demo = raw.get("demo", False)
    if not isinstance(demo, bool):
        problems.append(RowProblem(fname, 0, "demo", "应为 true/false"))
        demo = False
    rf = RegionFile(
        region=Region(admdvs, name, parent),
        defaults=defaults,
        notice=str(raw.get("notice") or "").strip(),
        demo=demo,
        reference=str(raw.get("reference") or "").strip(),
        file=fname,
    )
    region_bad = len(problems) > n0
    items_name = str(raw.get("items") or DEFAULT_ITEMS_FILE)
    items_path = path.parent / items_name
    if not items_path.is_file():
        problems.append(RowProblem(fname, 0, "items", f"找不到目录明细文件 {items_name}"))
        return None
    if not _ADMDVS_RE.match(admdvs):
        return None
    # rows are checked even when region.yaml has problems, so one run reports everything
    rf.rows = read_rows(_rel(root, items_path), items_path, rf.region, default_begn, problems)
    return None if region_bad else rf


def read_defaults(
    fname: str, admdvs: str, raw: object, problems: list[RowProblem]
) -> list[SelfpayDefault]:
    """A region's ``selfpay_defaults`` (乙类先行自付比例), problems appended to ``problems``."""
    if raw in (None, []):
        return []
    if not isinstance(raw, list):
        problems.append(RowProblem(fname, 0, "selfpay_defaults", "应为列表"))
        return []
    out: list[SelfpayDefault] = []
    for i, d in enumerate(raw, start=1):
        where = f"selfpay_defaults[{i}]"
        if not isinstance(d, dict):
            problems.append(RowProblem(fname, 0, where, "应为键值映射"))
            continue
        for key in sorted(set(d) - _DEFAULT_KEYS):
            problems.append(RowProblem(fname, 0, f"{where}.{key}", "未知字段"))
        try:
            begn = _as_date(d.get("begndate"))
            endd = None if d.get("enddate") in (None, "") else _as_date(d["enddate"])
        except ValueError:
            problems.append(RowProblem(fname, 0, f"{where}.begndate", "日期格式应为 YYYY-MM-DD"))
            continue
        if endd is not None and endd < begn:
            problems.append(RowProblem(fname, 0, f"{where}.enddate", "结束日期早于开始日期"))
        try:
            ratio = parse_ratio(str(d.get("selfpay_prop", "")), "selfpay_prop")
        except MoneyError as exc:
            problems.append(RowProblem(fname, 0, f"{where}.selfpay_prop", str(exc)))
            continue
        assumed = d.get("assumed", False)
        if not isinstance(assumed, bool):
            problems.append(RowProblem(fname, 0, f"{where}.assumed", "应为 true/false"))
            assumed = False
        reference = str(d.get("reference") or "").strip()
        reason = str(d.get("reason") or "").strip()
        if assumed and not reason:
            problems.append(RowProblem(fname, 0, f"{where}.reason", "assumed: true 时必须说明理由"))
        if not assumed and not reference:
            problems.append(
                RowProblem(
                    fname, 0, f"{where}.reference", "必须给出出处（或标 assumed: true 并说明理由）"
                )
            )
        out.append(SelfpayDefault(admdvs, begn, endd, ratio, reference, assumed, reason))
    out.sort(key=lambda x: x.begndate)
    for a, b in itertools.pairwise(out):
        if a.enddate is None or a.enddate >= b.begndate:
            problems.append(
                RowProblem(
                    fname, 0, "selfpay_defaults", f"有效期重叠：{a.begndate} 与 {b.begndate}"
                )
            )
    return out


def _check_periods(files: CatalogFiles, problems: list[RowProblem]) -> None:
    """Per region and code: no duplicate begndate, no overlapping periods."""
    by_key: dict[tuple[str, str], list[SourcedRow]] = {}
    for sr in files.rows:
        by_key.setdefault((sr.row.admdvs, sr.row.med_list_codg), []).append(sr)
    for (_, code), rows in by_key.items():
        rows.sort(key=lambda s: s.row.begndate)
        for a, b in itertools.pairwise(rows):
            if a.row.enddate is None or a.row.enddate >= b.row.begndate:
                problems.append(
                    RowProblem(
                        b.file,
                        b.line,
                        "begndate",
                        f"{code} 的有效期与第 {a.line} 行重叠（同一统筹区同一编码的有效期不能重叠）",
                    )
                )


def check_references(
    files: CatalogFiles,
    db_regions: Mapping[str, Region],
    db_add_codes: Mapping[str, set[str]],
) -> list[RowProblem]:
    """Checks against what is already stored: parents exist; a city's ``change``/``remove`` rows
    name a code that some ancestor layer adds. ``db_add_codes`` maps admdvs → codes with ``add``
    rows in the database (for regions not being reloaded)."""
    problems: list[RowProblem] = []
    all_regions: dict[str, Region] = dict(db_regions)
    all_regions.update({k: rf.region for k, rf in files.regions.items()})
    add_codes: dict[str, set[str]] = {k: set(v) for k, v in db_add_codes.items()}
    for k, rf in files.regions.items():
        add_codes[k] = {s.row.med_list_codg for s in rf.rows if s.row.action == "add"}
    for k, rf in files.regions.items():
        parent = rf.region.parent
        if parent is not None and parent not in all_regions:
            problems.append(
                RowProblem(rf.file, 0, "parent", f"上级统筹区 {parent} 不存在（未加载）")
            )
            continue
        ancestors: list[str] = []
        seen = {k}
        while parent is not None and parent in all_regions and parent not in seen:
            ancestors.append(parent)
            seen.add(parent)
            parent = all_regions[parent].parent
        if parent is not None and parent in seen:
            problems.append(RowProblem(rf.file, 0, "parent", "上级统筹区形成循环"))
            continue
        inherited = (
            set().union(*(add_codes.get(a, set()) for a in ancestors)) if ancestors else set()
        )
        for s in rf.rows:
            if s.row.action != "add" and s.row.med_list_codg not in inherited:
                problems.append(
                    RowProblem(
                        s.file,
                        s.line,
                        "med_list_codg",
                        f"{s.row.action}: 上级目录中没有编码 {s.row.med_list_codg}",
                    )
                )
    return problems


