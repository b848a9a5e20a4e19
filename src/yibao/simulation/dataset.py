"""Claims datasets on disk (测算数据集): partitioned Parquet, a manifest, streaming reads.

Layout and columns: :mod:`.schema` and docs/simulation-data.md. Writing sorts each partition by
person-year and time; reading yields one partition at a time, so memory stays bounded by the
largest partition however large the dataset.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from yibao.simulation.schema import (
    BILL_SCHEMA,
    DICT_COLUMNS,
    ITEM_DICT_COLUMNS,
    ITEM_SCHEMA,
    SCHEMA_VERSION,
    partition_dir,
)

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class PartitionRef:
    """One partition of a dataset."""

    year: int
    region: str
    bucket: int
    bills: int
    path: str  # relative folder


@dataclass
class Manifest:
    source: str  # "export" (from PostgreSQL) or "synthetic"
    created: str
    period_from: str
    period_to: str
    bills: int = 0
    items: int = 0
    partitions: list[PartitionRef] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def read(cls, root: Path | str) -> Manifest:
        path = Path(root) / MANIFEST
        if not path.is_file():
            raise FileNotFoundError(f"{root}: not a simulation dataset (no {MANIFEST})")
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(
                f"{path}: schema_version {raw.get('schema_version')} ≠ {SCHEMA_VERSION}"
            )
        raw["partitions"] = [PartitionRef(**p) for p in raw.get("partitions", [])]
        return cls(**raw)


def make_tables(
    bills: Sequence[dict[str, Any]], items: Sequence[dict[str, Any]]
) -> tuple[pa.Table, pa.Table]:
    """Arrow tables in the dataset schema from Python rows (missing nullable columns: null)."""
    bcols = {f.name: [b.get(f.name) for b in bills] for f in BILL_SCHEMA}
    icols = {f.name: [i.get(f.name) for i in items] for f in ITEM_SCHEMA}
    bcols["seq"] = [n if v is None else v for n, v in enumerate(bcols["seq"])]
    for name, default in (
        ("acct_open", 0),
        ("mulaid_open", 0),
        ("cvlserv_flag", False),
        ("pool_only", False),
    ):
        bcols[name] = [default if v is None else v for v in bcols[name]]
    bcols["filing"] = ["unfiled" if v is None else v for v in bcols["filing"]]
    bcols["acct_used_flag"] = ["1" if v is None else v for v in bcols["acct_used_flag"]]
    bcols["year"] = [b["begntime"].year if b.get("year") is None else b["year"] for b in bills]
    for name, default in (
        ("cnt_units", 10_000),
        ("in_catalog", True),
        ("lmt_refused", False),
        ("nego", False),
    ):
        icols[name] = [default if v is None else v for v in icols[name]]
    return pa.table(bcols, schema=BILL_SCHEMA), pa.table(icols, schema=ITEM_SCHEMA)


def sort_partition(bills: pa.Table, items: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Bills by person-year in settlement order; items in the bills' order."""
    bills = bills.sort_by([("psn_key", "ascending"), ("year", "ascending"), ("seq", "ascending")])
    ids = bills["bill_id"].to_numpy()
    pos = np.empty(len(ids), np.int64)
    order = np.argsort(ids, kind="stable")
    pos[order] = np.arange(len(ids))
    item_ids = items["bill_id"].to_numpy()
    rank = pos[np.searchsorted(ids[order], item_ids)] if len(item_ids) else item_ids
    items = items.take(np.argsort(rank, kind="stable"))
    return bills, items


def write_partition(root: Path | str, year: int, region: str, bucket: int,
                    bills: pa.Table, items: pa.Table) -> PartitionRef:  # fmt: skip
    rel = partition_dir(year, region, bucket)
    folder = Path(root) / rel
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(bills, folder / "bills.parquet", compression="zstd")
    pq.write_table(items, folder / "items.parquet", compression="zstd")
    return PartitionRef(year, region, bucket, bills.num_rows, rel)


def read_partition(root: Path | str, ref: PartitionRef) -> tuple[pa.Table, pa.Table]:
    folder = Path(root) / ref.path
    bills = pq.read_table(folder / "bills.parquet", read_dictionary=list(DICT_COLUMNS))
    items = pq.read_table(folder / "items.parquet", read_dictionary=list(ITEM_DICT_COLUMNS))
    return bills.cast(BILL_SCHEMA), items.cast(ITEM_SCHEMA)


def partitions(root: Path | str, regions: Sequence[str] | None = None,
               years: Sequence[int] | None = None) -> list[PartitionRef]:  # fmt: skip
    """The dataset's partitions (optionally only some regions or years)."""
    refs = Manifest.read(root).partitions
    return [
        p for p in refs
        if (regions is None or p.region in regions) and (years is None or p.year in years)
    ]  # fmt: skip


def iter_partitions(
    root: Path | str, refs: Sequence[PartitionRef]
) -> Iterator[tuple[PartitionRef, pa.Table, pa.Table]]:
    for ref in refs:
        bills, items = read_partition(root, ref)
        yield ref, bills, items


def write_manifest(root: Path | str, manifest: Manifest) -> None:
    Path(root).mkdir(parents=True, exist_ok=True)
    manifest.partitions.sort(key=lambda p: (p.year, p.region, p.bucket))
    manifest.bills = sum(p.bills for p in manifest.partitions)
    (Path(root) / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")


def period_years(period_from: date, period_to: date) -> list[int]:
    return list(range(period_from.year, period_to.year + 1))
