"""Grouper table files: reading TSV rows and manifests, refusing with file/line/reason.

Shared by :mod:`tables_drg` and :mod:`tables_dip`; :mod:`tables` selects the set in force.

One folder per scheme version and region under ``grouper/`` (or ``YIBAO_GROUPER_DIR``), e.g.
``grouper/drg/CHS-DRG-1.1/441481/2025.1/``, holding a ``manifest.yaml`` and UTF-8 TSV files
(tab-separated, a header line, ``#`` comments and blank lines ignored). The format is
documented in docs/grouper-tables.md. A bad file is refused with :class:`TableError`
``file:line: reason`` and nothing of that folder is used.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from yibao.payment.model import drg
from yibao.payment.model.case import DX_CODE, PROC_CODE

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
