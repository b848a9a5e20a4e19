"""Grouper table files (分组方案数据文件): read, check, refuse with file/line/reason, select.

One folder per scheme version and region under ``grouper/`` (or ``YIBAO_GROUPER_DIR``), e.g.
``grouper/drg/CHS-DRG-1.1/441481/2025.1/``, holding a ``manifest.yaml`` and UTF-8 TSV files
(tab-separated, a header line, ``#`` comments and blank lines ignored). The format is
documented in docs/grouper-tables.md. A bad file is refused with :class:`TableError`
``file:line: reason`` and nothing of that folder is used.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import yaml

from yibao.money import MoneyError, yuan_to_fen
from yibao.payment.model import dip, drg
from yibao.payment.model.case import DX_CODE, PROC_CODE

DRG_FILES = (
    "mdc.tsv",
    "mdc_dx.tsv",
    "adrg.tsv",
    "adrg_list.tsv",
    "drg.tsv",
    "cc.tsv",
    "cc_excl.tsv",
    "weights.tsv",
)
DIP_FILES = ("dip_groups.tsv", "dip_proc_type.tsv")
_MANIFEST_KEYS = {
    "kind",
    "scheme",
    "region",
    "version",
    "effective_from",
    "effective_to",
    "source",
    "assumed",
    "reason",
    "files",
}
_COND = re.compile(r"^(weight_g|age_days|age_years)=(\d+)-(\d+)$")
_EXCL_TABLE = re.compile(r"^\d+-\d+$")


class TableError(ValueError):
    """A grouper table refused at load (分组方案数据错误): ``file:line: reason``."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}")
        self.file, self.line, self.reason = file, line, reason


Tables = drg.DrgTables | dip.DipTables


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, row)`` of a TSV file whose header must be exactly ``columns``."""
    f = str(path)
    if not path.is_file():
        raise TableError(f, 0, "file missing (缺少数据文件)")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise TableError(f, 0, f"not UTF-8: {exc}") from exc
    header: tuple[str, ...] | None = None
    for n, raw in enumerate(lines, start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        cells = tuple(c.strip() for c in raw.split("\t"))
        if header is None:
            if cells != columns:
                raise TableError(
                    f, n, f"header must be {' | '.join(columns)}, got {' | '.join(cells)}"
                )
            header = cells
            continue
        if len(cells) != len(columns):
            raise TableError(
                f, n, f"{len(cells)} columns, expected {len(columns)} ({', '.join(columns)})"
            )
        yield n, dict(zip(columns, cells, strict=True))
    if header is None:
        raise TableError(f, 0, f"no header line ({' | '.join(columns)})")


def _decimal(f: str, n: int, value: str, what: str, *, places: int, positive: bool) -> Decimal:
    try:
        d = Decimal(value)
    except InvalidOperation as exc:
        raise TableError(f, n, f"{what} {value!r} is not a decimal number") from exc
    if not d.is_finite() or d != d.quantize(Decimal(1).scaleb(-places)):
        raise TableError(f, n, f"{what} {value!r}: at most {places} decimal places")
    if d < 0 or (positive and d == 0):
        raise TableError(f, n, f"{what} {value!r} must be {'> 0' if positive else '≥ 0'}")
    return d


def _dx(f: str, n: int, code: str) -> str:
    if not DX_CODE.match(code):
        raise TableError(f, n, f"{code!r} is not a diagnosis code (医保版ICD-10, e.g. J18.900)")
    return code


def _proc(f: str, n: int, code: str) -> str:
    if not PROC_CODE.match(code):
        raise TableError(f, n, f"{code!r} is not a procedure code (医保版ICD-9-CM-3, e.g. 36.0601)")
    return code


# --------------------------------------------------------------------------------- manifest


def read_manifest(folder: Path) -> drg.Manifest:
    path = folder / "manifest.yaml"
    f = str(path)
    if not path.is_file():
        raise TableError(f, 0, "manifest.yaml missing (缺少清单文件)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TableError(f, 0, f"not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise TableError(f, 1, "must be a mapping (kind, scheme, region, version, …)")
    extra = set(raw) - _MANIFEST_KEYS
    if extra:
        raise TableError(f, 1, f"unknown key(s) {sorted(extra)}")
    for key in ("kind", "scheme", "region", "version", "effective_from", "source"):
        if not str(raw.get(key) or "").strip():
            raise TableError(f, 1, f"{key}: required")
    kind = str(raw["kind"])
    if kind not in ("drg", "dip"):
        raise TableError(f, 1, f"kind: {kind!r} is not drg or dip")
    region = str(raw["region"])
    if not re.fullmatch(r"\d{6}", region):
        raise TableError(f, 1, f"region: {region!r} is not a 6-digit admdvs code")
    dates = []
    for key in ("effective_from", "effective_to"):
        value = raw.get(key)
        if key == "effective_to" and not value:
            dates.append("")
            continue
        try:
            dates.append(
                (value if isinstance(value, date) else date.fromisoformat(str(value))).isoformat()
            )
        except ValueError as exc:
            raise TableError(f, 1, f"{key}: {value!r} is not a date (YYYY-MM-DD)") from exc
    if dates[1] and dates[1] <= dates[0]:
        raise TableError(f, 1, "effective_to must be after effective_from")
    assumed = raw.get("assumed", False)
    if not isinstance(assumed, bool):
        raise TableError(f, 1, "assumed must be true or false")
    reason = str(raw.get("reason") or "").strip()
    if assumed and not reason:
        raise TableError(f, 1, "assumed: true needs a 'reason'")
    files = raw.get("files") or {}
    if not isinstance(files, dict):
        raise TableError(f, 1, "files: a mapping file name → sha256")
    for name, digest in files.items():
        target = folder / str(name)
        if not target.is_file():
            raise TableError(f, 1, f"files: {name} does not exist")
        actual = hashlib.sha256(target.read_bytes()).hexdigest()
        if str(digest) != actual:
            raise TableError(
                str(target), 0, f"sha256 {actual} differs from the manifest's {digest}"
            )
    return drg.Manifest(
        kind,
        str(raw["scheme"]),
        region,
        str(raw["version"]),
        dates[0],
        dates[1],
        str(raw["source"]).strip(),
        assumed,
        reason,
        str(folder),
    )


# --------------------------------------------------------------------------------- DRG


def _conds(f: str, n: int, text: str) -> tuple[drg.Cond, ...]:
    out = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        m = _COND.match(part)
        if not m or int(m.group(2)) >= int(m.group(3)):
            raise TableError(
                f,
                n,
                f"condition {part!r}: write field=lo-hi (lo < hi), field one of {', '.join(drg.COND_FIELDS)}",
            )
        out.append(drg.Cond(m.group(1), int(m.group(2)), int(m.group(3))))
    return tuple(out)


def _load_mdcs(folder: Path) -> list[drg.Mdc]:
    out: dict[str, drg.Mdc] = {}
    path = folder / "mdc.tsv"
    for n, r in _rows(path, ("mdc", "name", "order", "entry", "sex", "max_age_days")):
        f = str(path)
        if not re.fullmatch(r"MDC[A-Z]", r["mdc"]):
            raise TableError(f, n, f"mdc {r['mdc']!r} is not MDCA … MDCZ")
        if r["mdc"] in out:
            raise TableError(f, n, f"mdc {r['mdc']} appears twice")
        if r["entry"] not in drg.ENTRY_RULES:
            raise TableError(
                f, n, f"entry {r['entry']!r} is not one of {', '.join(drg.ENTRY_RULES)}"
            )
        if r["sex"] not in ("", "1", "2"):
            raise TableError(f, n, f"sex {r['sex']!r} must be empty, 1 (男) or 2 (女)")
        if not r["order"].isdigit() or (r["max_age_days"] and not r["max_age_days"].isdigit()):
            raise TableError(f, n, "order and max_age_days must be whole numbers")
        age = int(r["max_age_days"]) if r["max_age_days"] else None
        out[r["mdc"]] = drg.Mdc(r["mdc"], r["name"], int(r["order"]), r["entry"], r["sex"], age)
    return list(out.values())


def _load_adrgs(folder: Path, mdcs: set[str]) -> list[drg.Adrg]:
    out: dict[str, drg.Adrg] = {}
    path = folder / "adrg.tsv"
    f = str(path)
    for n, r in _rows(path, ("adrg", "mdc", "name", "type", "order", "rule", "cond")):
        code = r["adrg"]
        if not re.fullmatch(r"[A-Z]{2}\d", code):
            raise TableError(
                f, n, f"adrg {code!r} is not a letter, a type letter and a digit (e.g. ES3)"
            )
        if code in out:
            raise TableError(f, n, f"adrg {code} appears twice")
        if r["mdc"] not in mdcs:
            raise TableError(f, n, f"mdc {r['mdc']} is not in mdc.tsv")
        if r["mdc"] != "MDC" + code[0]:
            raise TableError(f, n, f"adrg {code} does not belong to {r['mdc']} (first letter)")
        kind = drg.KIND_LETTERS.get(code[1], "")
        if r["type"] != kind:
            raise TableError(
                f,
                n,
                f"type {r['type']!r} contradicts the second letter {code[1]} of {code} ({kind})",
            )
        if r["rule"] not in drg.ADRG_RULES:
            raise TableError(f, n, f"rule {r['rule']!r} is not one of {', '.join(drg.ADRG_RULES)}")
        if not r["order"].isdigit():
            raise TableError(f, n, "order must be a whole number")
        out[code] = drg.Adrg(
            code, r["mdc"], r["name"], kind, int(r["order"]), r["rule"], _conds(f, n, r["cond"])
        )
    return list(out.values())


def _load_lists(folder: Path, adrgs: dict[str, drg.Adrg]) -> list[tuple[str, str, str]]:
    path = folder / "adrg_list.tsv"
    f = str(path)
    out = []
    for n, r in _rows(path, ("adrg", "list", "code")):
        if r["adrg"] not in adrgs:
            raise TableError(f, n, f"adrg {r['adrg']} is not in adrg.tsv")
        if r["list"] not in drg.LIST_NAMES:
            raise TableError(f, n, f"list {r['list']!r} is not one of {', '.join(drg.LIST_NAMES)}")
        code = _dx(f, n, r["code"]) if r["list"].endswith("_dx") else _proc(f, n, r["code"])
        out.append((r["adrg"], r["list"], code))
    have = {(a, name) for a, name, _ in out}
    for a in adrgs.values():
        for name in drg.RULE_LISTS[a.rule]:
            if (a.code, name) not in have:
                raise TableError(f, 0, f"adrg {a.code} (rule {a.rule}) has no {name} list")
    return out


def _load_drgs(folder: Path, adrgs: dict[str, drg.Adrg]) -> list[drg.Drg]:
    path = folder / "drg.tsv"
    f = str(path)
    out: dict[str, drg.Drg] = {}
    for n, r in _rows(path, ("drg", "adrg", "name", "split")):
        code, adrg = r["drg"], r["adrg"]
        if adrg not in adrgs:
            raise TableError(f, n, f"adrg {adrg} is not in adrg.tsv")
        if not re.fullmatch(re.escape(adrg) + r"[1359]", code):
            raise TableError(f, n, f"drg {code!r} must be its ADRG {adrg} and one digit 1/3/5/9")
        if code in out:
            raise TableError(f, n, f"drg {code} appears twice")
        want = {"1": "mcc", "3": "cc", "5": "none", "9": "none"}[code[-1]]
        if r["split"] != want:
            raise TableError(
                f, n, f"split {r['split']!r} contradicts the suffix {code[-1]} (expected {want})"
            )
        out[code] = drg.Drg(code, adrg, r["name"], r["split"])
    for a in adrgs:
        suffixes = {d.code[-1] for d in out.values() if d.adrg == a}
        if not suffixes:
            raise TableError(f, 0, f"adrg {a} has no DRG")
        if "9" in suffixes and len(suffixes) > 1:
            raise TableError(f, 0, f"adrg {a}: a 9 (not split) group cannot have split siblings")
        if "9" not in suffixes and "5" not in suffixes:
            raise TableError(f, 0, f"adrg {a}: split groups need a 5 group (不伴并发症或合并症)")
    return list(out.values())


def load_drg(folder: Path) -> drg.DrgTables:
    """Read and check one DRG table folder."""
    manifest = read_manifest(folder)
    if manifest.kind != "drg":
        raise TableError(str(folder / "manifest.yaml"), 1, "kind must be drg for a DRG folder")
    mdcs = _load_mdcs(folder)
    codes = {m.code for m in mdcs}
    path = folder / "mdc_dx.tsv"
    mdc_dx = []
    for n, r in _rows(path, ("mdc", "dx_code")):
        if r["mdc"] not in codes:
            raise TableError(str(path), n, f"mdc {r['mdc']} is not in mdc.tsv")
        mdc_dx.append((r["mdc"], _dx(str(path), n, r["dx_code"])))
    adrgs = {a.code: a for a in _load_adrgs(folder, codes)}
    lists = _load_lists(folder, adrgs)
    drgs = _load_drgs(folder, adrgs)
    path = folder / "cc_excl.tsv"
    excl = [
        (r["excl_table"], _dx(str(path), n, r["principal_dx"]))
        for n, r in _rows(path, ("excl_table", "principal_dx"))
    ]
    tables = {t for t, _ in excl}
    path = folder / "cc.tsv"
    cc: dict[str, drg.CcEntry] = {}
    for n, r in _rows(path, ("dx_code", "level", "excl_table")):
        code = _dx(str(path), n, r["dx_code"])
        if r["level"] not in ("MCC", "CC"):
            raise TableError(str(path), n, f"level {r['level']!r} must be MCC or CC")
        if not _EXCL_TABLE.match(r["excl_table"]) or r["excl_table"] not in tables:
            raise TableError(
                str(path), n, f"exclusion table {r['excl_table']!r} is not in cc_excl.tsv"
            )
        if code in cc:
            raise TableError(str(path), n, f"{code} appears twice")
        cc[code] = drg.CcEntry(r["level"], r["excl_table"])
    path = folder / "weights.tsv"
    weights: dict[str, Decimal] = {}
    known = {d.code for d in drgs}
    for n, r in _rows(path, ("drg", "weight")):
        if r["drg"] not in known:
            raise TableError(str(path), n, f"drg {r['drg']} is not in drg.tsv")
        weights[r["drg"]] = _decimal(str(path), n, r["weight"], "weight", places=4, positive=True)
    missing = sorted(known - set(weights))
    if missing:
        raise TableError(str(path), 0, f"no weight for {', '.join(missing)}")
    return drg.compile_tables(
        manifest, mdcs, mdc_dx, list(adrgs.values()), lists, drgs, cc, excl, weights
    )


# --------------------------------------------------------------------------------- DIP


def load_dip(folder: Path) -> dip.DipTables:
    """Read and check one DIP table folder."""
    manifest = read_manifest(folder)
    if manifest.kind != "dip":
        raise TableError(str(folder / "manifest.yaml"), 1, "kind must be dip for a DIP folder")
    path = folder / "dip_proc_type.tsv"
    f = str(path)
    proc_types: list[tuple[str, str]] = []
    for n, r in _rows(path, ("proc_prefix", "treat_type")):
        if r["treat_type"] not in dip.TREAT_TYPES[1:]:
            raise TableError(
                f,
                n,
                f"treat_type {r['treat_type']!r} is not one of {', '.join(dip.TREAT_TYPES[1:])}",
            )
        proc_types.append((_proc(f, n, r["proc_prefix"]), r["treat_type"]))
    path = folder / "dip_groups.tsv"
    f = str(path)
    columns = (
        "dip_code",
        "kind",
        "dx_key",
        "procs",
        "treat_type",
        "name",
        "score",
        "avg_cost_1",
        "avg_cost_2",
        "avg_cost_3",
    )
    groups: dict[str, dip.DipGroup] = {}
    keys: set[tuple[str, str, tuple[str, ...], str]] = set()
    for n, r in _rows(path, columns):
        if r["dip_code"] in groups or not r["dip_code"]:
            raise TableError(f, n, f"dip_code {r['dip_code']!r} is empty or appears twice")
        if r["kind"] not in dip.KINDS:
            raise TableError(f, n, f"kind {r['kind']!r} is not core or comprehensive")
        if r["treat_type"] not in dip.TREAT_TYPES:
            raise TableError(
                f, n, f"treat_type {r['treat_type']!r} is not one of {', '.join(dip.TREAT_TYPES)}"
            )
        procs = tuple(_proc(f, n, p) for p in r["procs"].split("+") if p)
        if r["kind"] == "comprehensive":
            if not re.fullmatch(r"[A-Z]\d\d", r["dx_key"]) or procs:
                raise TableError(
                    f, n, "a comprehensive group has a 3-character dx_key and no procs"
                )
        else:
            _dx(f, n, r["dx_key"])
            if bool(procs) == (r["treat_type"] == "conservative"):
                raise TableError(
                    f, n, "a core group has procs unless its treat_type is conservative"
                )
        key = (r["kind"], r["dx_key"], procs, r["treat_type"])
        if key in keys:
            raise TableError(f, n, "the same diagnosis, procedures and treatment appear twice")
        keys.add(key)
        score = _decimal(f, n, r["score"], "score", places=4, positive=True)
        avg = {}
        for level in dip.LEVELS:
            try:
                avg[level] = yuan_to_fen(
                    _decimal(
                        f, n, r[f"avg_cost_{level}"], f"avg_cost_{level}", places=2, positive=False
                    )
                )
            except MoneyError as exc:  # pragma: no cover - _decimal already checked
                raise TableError(f, n, str(exc)) from exc
        groups[r["dip_code"]] = dip.DipGroup(
            r["dip_code"], r["name"], r["kind"], r["dx_key"], procs, r["treat_type"], score, avg
        )
    return dip.compile_tables(manifest, list(groups.values()), proc_types)


# --------------------------------------------------------------------------------- selection


def load_folder(folder: Path) -> Tables:
    kind = read_manifest(folder).kind
    return load_drg(folder) if kind == "drg" else load_dip(folder)


def grouper_dir() -> Path:
    """``YIBAO_GROUPER_DIR`` or the repository's ``grouper/``."""
    env = os.environ.get("YIBAO_GROUPER_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[3] / "grouper"
    return here if here.is_dir() else Path.cwd() / "grouper"


@dataclass(frozen=True)
class Library:
    """Every table set under a root folder."""

    sets: tuple[Tables, ...]

    def find(self, kind: str, region: str, on: date) -> Tables | None:
        """The set of ``kind`` in force on ``on`` for ``region`` (else its province, else 000000)."""
        day = on.isoformat()
        for code in dict.fromkeys((region, region[:2] + "0000", "000000")):
            found = [
                s
                for s in self.sets
                if s.manifest.kind == kind
                and s.manifest.region == code
                and s.manifest.effective_from <= day
                and (not s.manifest.effective_to or day < s.manifest.effective_to)
            ]
            if found:
                return max(found, key=lambda s: s.manifest.effective_from)
        return None


def load_library(root: Path | str | None = None) -> Library:
    """Load every folder holding a ``manifest.yaml`` under ``root`` (refuses on the first error)."""
    base = Path(root) if root is not None else grouper_dir()
    sets = [load_folder(m.parent) for m in sorted(base.rglob("manifest.yaml"))]
    seen: dict[tuple[str, str, str], str] = {}
    for s in sets:
        key = (s.manifest.kind, s.manifest.region, s.manifest.effective_from)
        if key in seen:
            raise TableError(
                s.manifest.path, 0, f"same kind, region and effective_from as {seen[key]}"
            )
        seen[key] = s.manifest.path
    return Library(tuple(sets))


@lru_cache(maxsize=4)
def _cached(root: str) -> Library:
    return load_library(root)


def library() -> Library:
    """The shipped (or configured) tables, loaded once per process."""
    return _cached(str(grouper_dir()))
