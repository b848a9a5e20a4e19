"""A region's 乙类 default first-pay ratio (乙类先行自付比例) from the catalogue files.

The catalogue is the one source of first-pay shares: the per-item ``selfpay_prop`` in
``items.csv`` and the region default in ``region.yaml`` ``selfpay_defaults`` (dated, with a
reference or ``assumed: true`` and a reason). The live path reads them from the database after
``yibao catalog load``; case files, golden cases and ``yibao calc`` read the same files here,
without a database. ``yibao catalog load`` validates the files fully; this module only reads the
``region.yaml`` of each folder.
"""

from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from yibao.catalog.files import REGION_FILE, CatalogFileError, RowProblem, read_defaults
from yibao.catalog.model import Region, SelfpayDefault, region_chain, region_default

SHIPPED_DIR = Path(__file__).resolve().parents[3] / "catalogs"
"""The demo catalogue shipped with the source tree (``catalogs/`` at the repository root)."""


def catalog_dir() -> Path:
    """Where the catalogue files live: ``YIBAO_CATALOG_DIR``, else the repository's
    ``catalogs/``, else ``./catalogs``."""
    env = os.environ.get("YIBAO_CATALOG_DIR")
    if env:
        return Path(env)
    return SHIPPED_DIR if SHIPPED_DIR.is_dir() else Path.cwd() / "catalogs"


@lru_cache(maxsize=4)
def _regions(root: str) -> tuple[dict[str, Region], tuple[SelfpayDefault, ...]]:
    regions: dict[str, Region] = {}
    defaults: list[SelfpayDefault] = []
    problems: list[RowProblem] = []
    base = Path(root)
    for path in sorted(base.rglob(REGION_FILE)):
        if "tools" in path.relative_to(base).parts:
            continue
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
            problems.append(RowProblem(str(path), 0, "yaml", f"无法解析: {exc}"))
            continue
        if not isinstance(raw, dict):
            problems.append(RowProblem(str(path), 0, "yaml", "应为键值映射"))
            continue
        admdvs = str(raw.get("admdvs", "")).strip()
        parent = raw.get("parent")
        regions[admdvs] = Region(admdvs, str(raw.get("name") or admdvs), parent and str(parent))
        defaults += read_defaults(str(path), admdvs, raw.get("selfpay_defaults"), problems)
    if problems:
        raise CatalogFileError(problems)
    return regions, tuple(defaults)


def default_first_pay(
    admdvs: str, on: date, root: Path | str | None = None
) -> SelfpayDefault | None:
    """The 乙类 default first-pay ratio in force in ``admdvs``'s catalogue on ``on`` (the most
    specific layer that has one), or ``None`` when no layer has one on that date."""
    regions, defaults = _regions(str(root if root is not None else catalog_dir()))
    return region_default(region_chain(admdvs, regions), defaults, on)


def clear_cache() -> None:
    """Forget the files read (after editing them in a running process)."""
    _regions.cache_clear()
