"""Grouper table files (分组方案数据文件): load every set under ``grouper/`` and select the one in
force for a region and date.

One folder per scheme version and region under ``grouper/`` (or ``YIBAO_GROUPER_DIR``), e.g.
``grouper/441481/CHS-DRG-1.1/2025.1/``, holding a ``manifest.yaml`` and UTF-8 TSV files
(tab-separated, a header line, ``#`` comments and blank lines ignored). The format is
documented in docs/grouper-tables.md. A bad file is refused with :class:`TableError`
``file:line: reason`` and nothing of that folder is used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from yibao.payment.model import dip, drg
from yibao.payment.tables_dip import load_dip
from yibao.payment.tables_drg import load_drg
from yibao.payment.tables_io import TableError, read_manifest

__all__ = ["Library", "TableError", "Tables", "library", "load_dip", "load_drg", "load_library"]

Tables = drg.DrgTables | dip.DipTables


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
