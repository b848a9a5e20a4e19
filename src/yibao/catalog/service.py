"""Catalogue use cases (目录服务): load the shipped files, classify fee lines, look items up.

- :func:`load_catalog` — validate a catalogue directory and store it in one transaction;
  idempotent (re-loading the same files changes nothing) and all-or-nothing.
- :func:`classify` — turn HIS fee lines into engine ``Item`` objects by the treatment place's
  catalogue (就医地目录) on the service date.
- :func:`get_entry`, :func:`list_entries`, :func:`search` — lookups for the console and for the
  1301–1319 catalogue downloads (by list type and ``updt_time``, paged).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Connection, Engine

from yibao.catalog import store, store_load
from yibao.catalog.defaults import catalog_dir
from yibao.catalog.files import (
    CatalogFileError,
    check_references,
    defaults_digest,
    read_catalog_dir,
    row_digest,
)
from yibao.catalog.model import (
    CatalogDataError,
    CatalogEntry,
    CatalogRow,
    ClassifiedLine,
    FeeLine,
    LineRefusal,
    classify_lines,
    region_chain,
    resolve_entry,
)
from yibao.db.tables import audit

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a load did. ``changed`` is False when the files matched the database exactly."""

    ver: int
    changed: bool
    regions: tuple[str, ...]
    inserted: int = 0
    updated: int = 0
    invalidated: int = 0
    unchanged: int = 0
    regions_changed: int = 0


class ClassificationRefused(ValueError):
    """One or more fee lines were refused (费用明细校验失败); the gateway answers infcode -1."""

    def __init__(self, refusals: Sequence[LineRefusal]) -> None:
        self.refusals = list(refusals)
        super().__init__("；".join(r.message for r in self.refusals))


@dataclass(frozen=True, slots=True)
class CatalogPage:
    """One page of a region's catalogue. ``removed`` lists codes (when ``updated_since`` is
    given) that changed and are no longer in the catalogue on the date (有效标志 0)."""

    admdvs: str
    on_date: date
    page: int
    size: int
    total: int
    entries: list[CatalogEntry]
    removed: list[str] = field(default_factory=list)
    ver: int = 0  # the newest catalogue version stored (the "本地最大版本号" to send next time)


# --- loading ----------------------------------------------------------------------------------


def load_catalog(engine: Engine, root: Path | str, *, actor: str = "cli") -> LoadReport:
    """Validate every file under ``root`` and store it (one transaction, all or nothing).

    New rows are inserted, changed rows updated, rows of the loaded regions that are no longer
    in the files are marked invalid (``vali_flag = 0``, never deleted). Only when something
    changed is a new catalogue version (``ver``) created and ``updt_time`` set, so the 13xx
    incremental downloads see exactly the changes. Raises :class:`CatalogFileError` naming
    file, line, field and reason for every problem.
    """
    root = Path(root)
    files = read_catalog_dir(root)
    with engine.begin() as conn:
        store_load.lock_for_load(conn)
        db_regions = store.regions(conn)
        problems = check_references(
            files, db_regions, store.add_codes_by_region(conn, exclude=set(files.regions))
        )
        if problems:
            raise CatalogFileError(problems)
        existing = store.stored_rows(conn, list(files.regions))
        digests = store.region_digests(conn)

        region_changes = []
        for adm, rf in files.regions.items():
            dg = defaults_digest(rf.region, rf.defaults, rf.notice)
            if digests.get(adm) != dg:
                region_changes.append((rf, dg))
        inserts: list[tuple[CatalogRow, str, str]] = []
        updates: list[tuple[int, CatalogRow, str, str]] = []
        seen: set[tuple[str, str, date]] = set()
        unchanged = 0
        for sr in files.rows:
            key = (sr.row.admdvs, sr.row.med_list_codg, sr.row.begndate)
            seen.add(key)
            dg = row_digest(sr.row)
            old = existing.get(key)
            if old is None:
                inserts.append((sr.row, dg, sr.file))
            elif old.row_digest != dg or old.vali_flag != "1":
                updates.append((old.id, sr.row, dg, sr.file))
            else:
                unchanged += 1
        gone = [s.id for k, s in existing.items() if k not in seen and s.vali_flag == "1"]

        regions = tuple(sorted(files.regions))
        if not (region_changes or inserts or updates or gone):
            return LoadReport(store.latest_version(conn), False, regions, unchanged=unchanged)

        ver = store_load.insert_version(conn, str(root), actor)
        at = store_load.now(conn)
        for rf, dg in region_changes:
            store_load.upsert_region(
                conn,
                rf.region,
                notice=rf.notice,
                demo=rf.demo,
                reference=rf.reference,
                source_file=rf.file,
                digest=dg,
                defaults=rf.defaults,
                ver=ver,
                at=at,
            )
        store_load.insert_rows(conn, inserts, ver, at)
        for row_id, row, dg, src in updates:
            store_load.update_row(conn, row_id, row, dg, src, ver, at)
        store_load.invalidate_rows(conn, gone, ver, at)
        store_load.finish_version(
            conn,
            ver,
            inserted=len(inserts),
            updated=len(updates),
            invalidated=len(gone),
            regions_changed=len(region_changes),
        )
        audit(
            conn,
            actor,
            "catalog.load",
            f"catalog:v{ver}",
            source=str(root),
            regions=list(regions),
            inserted=len(inserts),
            updated=len(updates),
            invalidated=len(gone),
        )
        report = LoadReport(
            ver,
            True,
            regions,
            inserted=len(inserts),
            updated=len(updates),
            invalidated=len(gone),
            unchanged=unchanged,
            regions_changed=len(region_changes),
        )
    log.info(
        "catalog_loaded",
        ver=ver,
        inserted=len(inserts),
        updated=len(updates),
        invalidated=len(gone),
    )
    return report


def is_loaded(conn: Connection) -> bool:
    """Whether any catalogue has been loaded."""
    return store.latest_version(conn) > 0


def seed_demo(engine: Engine) -> None:
    """Demo seeder (演示数据): load :func:`catalog_dir` if no catalogue is loaded yet."""
    with engine.connect() as conn:
        if is_loaded(conn):
            return
    folder = catalog_dir()
    if not folder.is_dir():
        log.warning("catalog_demo_missing", path=str(folder))
        return
    load_catalog(engine, folder, actor="demo")


# --- lookups ----------------------------------------------------------------------------------


def chain_for(conn: Connection, admdvs: str) -> list[str]:
    """The catalogue layers of a treatment region, province first (empty: no catalogue)."""
    return region_chain(admdvs, store.regions(conn))


def _resolve_many(
    conn: Connection, admdvs: str, chain: Sequence[str], codes: Sequence[str], on_date: date
) -> dict[str, CatalogEntry | CatalogDataError | None]:
    rows = store.rows_for_codes(conn, chain, codes, on_date)
    defaults = store.selfpay_defaults(conn, chain)
    by_code: dict[str, list[CatalogRow]] = {}
    for r in rows:
        by_code.setdefault(r.med_list_codg, []).append(r)
    out: dict[str, CatalogEntry | CatalogDataError | None] = {}
    for code in codes:
        try:
            out[code] = resolve_entry(code, admdvs, chain, by_code.get(code, []), defaults, on_date)
        except CatalogDataError as exc:
            out[code] = exc
    return out


def _stamp(
    entry: CatalogEntry,
    row: tuple[int, datetime] | None,
    region_ver: int,
    region_time: datetime | None,
) -> CatalogEntry:
    """Set ``ver``/``updt_time`` to the newest of the item's rows and the region settings."""
    ver, at = row if row is not None else (0, None)
    if region_ver > ver:
        ver = region_ver
    if region_time is not None and (at is None or region_time > at):
        at = region_time
    return replace(entry, ver=ver or None, updt_time=at)


def get_entry(conn: Connection, admdvs: str, code: str, on_date: date) -> CatalogEntry | None:
    """The item ``code`` as in force in ``admdvs`` on ``on_date`` (``None``: not in catalogue).

    Raises :class:`CatalogDataError` when a 乙类 item has no first-pay ratio in force.
    """
    chain = chain_for(conn, admdvs)
    got = _resolve_many(conn, admdvs, chain, [code], on_date)[code]
    if isinstance(got, CatalogDataError):
        raise got
    if got is None:
        return None
    region_ver, region_time = store.region_versions(conn, chain)
    return _stamp(got, store.row_versions(conn, chain, [code]).get(code), region_ver, region_time)


def entry_rows(conn: Connection, admdvs: str, code: str) -> list[dict[str, Any]]:
    """Every stored row of ``code`` in the region's layers (all periods, incl. invalidated)."""
    return [dict(r) for r in store.row_meta(conn, chain_for(conn, admdvs), code)]


def classify(
    conn: Connection, admdvs: str, on_date: date, lines: Sequence[FeeLine]
) -> list[ClassifiedLine | LineRefusal]:
    """Classify HIS fee lines by the treatment place's catalogue (``admdvs``) on ``on_date``.

    One answer per line, in order: a :class:`ClassifiedLine` (its ``item`` is the engine's
    ``Item``; unknown codes give ``in_catalog=False``, 丙类, with a memo) or a
    :class:`LineRefusal` (amount ≠ pric × cnt beyond 1 fen, bad flags, duplicate
    ``feedetl_sn``, or a data gap such as no 先行自付比例 in force).
    """
    chain = chain_for(conn, admdvs)
    codes = sorted({ln.med_list_codg for ln in lines if ln.med_list_codg})
    rows = store.rows_for_codes(conn, chain, codes, on_date) if codes else []
    defaults = store.selfpay_defaults(conn, chain) if codes else []
    return classify_lines(admdvs, chain, rows, defaults, on_date, lines)


def classify_or_raise(
    conn: Connection, admdvs: str, on_date: date, lines: Sequence[FeeLine]
) -> list[ClassifiedLine]:
    """:func:`classify`, raising :class:`ClassificationRefused` if any line is refused."""
    result = classify(conn, admdvs, on_date, lines)
    refusals = [r for r in result if isinstance(r, LineRefusal)]
    if refusals:
        raise ClassificationRefused(refusals)
    return [r for r in result if isinstance(r, ClassifiedLine)]


def list_entries(
    conn: Connection,
    admdvs: str,
    on_date: date,
    *,
    text: str | None = None,
    list_type: str | None = None,
    updated_since: datetime | None = None,
    since_ver: int | None = None,
    page: int = 1,
    size: int = 50,
) -> CatalogPage:
    """A page of the region's catalogue in force on ``on_date``, ordered by code.

    ``text``: code prefix or name substring; ``list_type``: 101/102/201/301…;
    ``updated_since`` / ``since_ver``: only codes whose rows changed after that time / catalogue
    version (incremental 13xx download, "大于本地版本"; removed codes in ``removed``; a change
    of the region's 乙类 default counts as a change of every code). ``page`` starts at 1;
    ``size`` is 1..500. Entries carry their ``ver`` and ``updt_time``.
    """
    if page < 1 or not 1 <= size <= 500:
        raise ValueError("page 从 1 开始；size 应在 1..500")
    chain = chain_for(conn, admdvs)
    incremental = updated_since is not None or since_ver is not None
    region_ver, region_time = store.region_versions(conn, chain)
    region_changed = (since_ver is not None and region_ver > since_ver) or (
        updated_since is not None and region_time is not None and region_time > updated_since
    )
    codes = store.candidate_codes(
        conn,
        chain,
        None if incremental else on_date,
        text=text.strip() if text else None,
        list_type=None if incremental else list_type,
        updated_since=None if region_changed else updated_since,
        since_ver=None if region_changed else since_ver,
    )
    resolved = _resolve_many(conn, admdvs, chain, codes, on_date) if codes else {}
    versions = store.row_versions(conn, chain, codes) if codes else {}
    entries: list[CatalogEntry] = []
    removed: list[str] = []
    for code in codes:
        got = resolved[code]
        if got is None:
            if incremental:
                removed.append(code)
            continue
        if isinstance(got, CatalogDataError):
            continue
        if list_type and got.list_type != list_type:
            continue
        entries.append(_stamp(got, versions.get(code), region_ver, region_time))
    if removed and list_type:
        types = store.list_types(conn, chain, removed)
        removed = [c for c in removed if types.get(c) == list_type]
    start = (page - 1) * size
    return CatalogPage(
        admdvs,
        on_date,
        page,
        size,
        len(entries),
        entries[start : start + size],
        removed,
        store.latest_version(conn),
    )


def search(
    conn: Connection, admdvs: str, text: str, on_date: date, *, limit: int = 20
) -> list[CatalogEntry]:
    """Items whose code starts with or whose name contains ``text`` (simple substring)."""
    return list_entries(conn, admdvs, on_date, text=text, size=max(1, min(limit, 500))).entries
