"""Bulk import and export (批量导入导出) of persons and enrolments, CSV and XLSX.

Import: the whole file is checked first (:mod:`yibao.registry.rows`); if any row is bad nothing is
written, unless ``skip_bad``. Good rows are loaded with PostgreSQL ``COPY`` into a temporary
staging table and merged with set-based statements keyed by certificate, changing only rows whose
values differ, so re-importing the same file changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import psycopg
import sqlalchemy as sa

from yibao.db.tables import audit
from yibao.registry import certs
from yibao.registry.rows import (
    COLUMNS,
    CheckedFile,
    ImportRow,
    RowError,
    check_rows,
    normalize_header,
)

# the staging table's columns: the file row number, then every file column but psn_no
STAGE_COLUMNS = ("row", *(c for c in COLUMNS if c != "psn_no"))


class ImportRefused(ValueError):
    """The file has bad rows and ``skip_bad`` was not given: nothing was written."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__(f"文件有{len(result.errors)}处错误，未导入任何数据")
        self.result = result


@dataclass
class ImportResult:
    total_rows: int
    good_rows: int
    bad_rows: int
    errors: list[RowError] = field(default_factory=list)
    written: bool = False
    persons_inserted: int = 0
    persons_updated: int = 0
    enrolments_inserted: int = 0
    enrolments_updated: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "total_rows": self.total_rows,
            "good_rows": self.good_rows,
            "bad_rows": self.bad_rows,
            "written": self.written,
            "persons_inserted": self.persons_inserted,
            "persons_updated": self.persons_updated,
            "enrolments_inserted": self.enrolments_inserted,
            "enrolments_updated": self.enrolments_updated,
            "errors": [{"row": e.row, "field": e.field, "reason": e.reason} for e in self.errors],
        }


def read_rows(path: Path) -> Iterator[tuple[int, Mapping[str, object]]]:
    """Rows of a CSV (UTF-8, header row) or XLSX (first sheet, header row); numbered from 2."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        yield from _read_xlsx(path)
    else:
        with path.open(encoding="utf-8-sig", newline="") as f:
            yield from _read_csv(f)


class UnreadableFile(ValueError):
    """An upload that is not a UTF-8 CSV or an XLSX workbook (Chinese reason)."""


def read_rows_bytes(name: str, data: bytes) -> list[tuple[int, Mapping[str, object]]]:
    """Like :func:`read_rows` for an uploaded file, read at once; :class:`UnreadableFile` when it
    is not a UTF-8 CSV or a readable XLSX."""
    from python_calamine import CalamineError

    if name.lower().endswith((".xlsx", ".xlsm")):
        try:
            return list(_read_xlsx(io.BytesIO(data)))
        except (CalamineError, ValueError, OSError) as e:
            raise UnreadableFile("文件不是可读取的XLSX工作簿（已损坏或加密）") from e
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UnreadableFile(f"CSV文件须为UTF-8编码（第{e.start + 1}个字节无法按UTF-8读取）") from e
    try:
        return list(_read_csv(io.StringIO(text, newline="")))
    except csv.Error as e:
        raise UnreadableFile(f"CSV文件格式错误：{e}") from e


def _read_csv(f: io.TextIOBase | Any) -> Iterator[tuple[int, Mapping[str, object]]]:
    reader = csv.reader(f)
    header = [normalize_header(h) for h in next(reader, [])]
    for i, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        yield i, dict(zip(header, values, strict=False))


def _read_xlsx(src: Path | io.BytesIO) -> Iterator[tuple[int, Mapping[str, object]]]:
    """First sheet through calamine (fast); the first non-empty row is the header; row numbers
    as Excel shows them."""
    from python_calamine import CalamineWorkbook

    wb = (
        CalamineWorkbook.from_path(str(src))
        if isinstance(src, Path)
        else CalamineWorkbook.from_filelike(src)
    )
    try:
        sheet = wb.get_sheet_by_index(0)
        header: list[str] | None = None
        for i, values in enumerate(sheet.iter_rows(), start=1):  # absolute Excel row numbers
            if not any(v not in (None, "") for v in values):
                continue
            if header is None:
                header = [normalize_header(str(h or "")) for h in values]
                continue
            yield i, dict(zip(header, values, strict=False))
    finally:
        wb.close()


_CREATE_STAGE = """
CREATE TEMP TABLE reg_stage (
  row int, psn_cert_type text, certno text, psn_name text, gend text, naty text, brdy date,
  tel text, town text, insutype text, psn_insu_stas text, psn_insu_date date,
  paus_insu_date date, psn_type text, insuplc_admdvs text, emp_no text, emp_name text,
  flxempe_flag boolean, cvlserv_flag boolean
) ON COMMIT DROP
"""

_PERSONS = """
SELECT DISTINCT ON (psn_cert_type, certno) psn_cert_type, certno, psn_name, gend, naty, brdy,
       tel, town, insuplc_admdvs
FROM reg_stage ORDER BY psn_cert_type, certno, row
"""

_INSERT_PERSONS = f"""
INSERT INTO person (psn_no, psn_cert_type, certno, psn_name, gend, naty, brdy, tel, town)
SELECT s.insuplc_admdvs || lpad(nextval('psn_no_seq')::text, 10, '0'),
       s.psn_cert_type, s.certno, s.psn_name, s.gend, s.naty, s.brdy, s.tel, s.town
FROM ({_PERSONS}) s
WHERE NOT EXISTS (SELECT 1 FROM person p
                  WHERE p.psn_cert_type = s.psn_cert_type AND p.certno = s.certno)
ON CONFLICT DO NOTHING
"""

_UPDATE_PERSONS = f"""
UPDATE person p SET psn_name = s.psn_name, gend = s.gend, naty = s.naty, brdy = s.brdy,
       tel = s.tel, town = s.town, updated_at = now()
FROM ({_PERSONS}) s
WHERE p.psn_cert_type = s.psn_cert_type AND p.certno = s.certno
  AND (p.psn_name, p.gend, p.naty, p.brdy, p.tel, p.town)
      IS DISTINCT FROM (s.psn_name, s.gend, s.naty, s.brdy, s.tel, s.town)
"""

_UPSERT_ENROLMENTS = """
INSERT INTO enrolment AS e (psn_no, insutype, psn_insu_stas, psn_insu_date, paus_insu_date,
       psn_type, insuplc_admdvs, emp_no, emp_name, flxempe_flag, cvlserv_flag)
SELECT p.psn_no, s.insutype, s.psn_insu_stas, s.psn_insu_date, s.paus_insu_date, s.psn_type,
       s.insuplc_admdvs, s.emp_no, s.emp_name, s.flxempe_flag, s.cvlserv_flag
FROM reg_stage s JOIN person p ON p.psn_cert_type = s.psn_cert_type AND p.certno = s.certno
ON CONFLICT (psn_no, insutype) DO UPDATE SET
  psn_insu_stas = EXCLUDED.psn_insu_stas, psn_insu_date = EXCLUDED.psn_insu_date,
  paus_insu_date = EXCLUDED.paus_insu_date, psn_type = EXCLUDED.psn_type,
  insuplc_admdvs = EXCLUDED.insuplc_admdvs, emp_no = EXCLUDED.emp_no,
  emp_name = EXCLUDED.emp_name, flxempe_flag = EXCLUDED.flxempe_flag,
  cvlserv_flag = EXCLUDED.cvlserv_flag, updated_at = now()
WHERE (e.psn_insu_stas, e.psn_insu_date, e.paus_insu_date, e.psn_type, e.insuplc_admdvs,
       e.emp_no, e.emp_name, e.flxempe_flag, e.cvlserv_flag)
  IS DISTINCT FROM
      (EXCLUDED.psn_insu_stas, EXCLUDED.psn_insu_date, EXCLUDED.paus_insu_date,
       EXCLUDED.psn_type, EXCLUDED.insuplc_admdvs, EXCLUDED.emp_no, EXCLUDED.emp_name,
       EXCLUDED.flxempe_flag, EXCLUDED.cvlserv_flag)
RETURNING (xmax = 0) AS inserted
"""


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(v: str) -> str:
    return v.translate(_COPY_ESCAPES)


def _copy_line(r: ImportRow) -> str:
    """One row in COPY text format (tab-separated, ``\\N`` = NULL)."""
    return (
        "\t".join(
            (
                str(r.row),
                _copy_text(r.psn_cert_type),
                _copy_text(r.certno),
                _copy_text(r.psn_name),
                _copy_text(r.gend),
                _copy_text(r.naty),
                r.brdy.isoformat(),
                _copy_text(r.tel),
                _copy_text(r.town),
                _copy_text(r.insutype),
                _copy_text(r.psn_insu_stas),
                r.psn_insu_date.isoformat(),
                r.paus_insu_date.isoformat() if r.paus_insu_date else "\\N",
                _copy_text(r.psn_type),
                _copy_text(r.insuplc_admdvs),
                _copy_text(r.emp_no),
                _copy_text(r.emp_name),
                "t" if r.flxempe_flag else "f",
                "t" if r.cvlserv_flag else "f",
            )
        )
        + "\n"
    )


def import_checked(
    conn: sa.Connection, checked: CheckedFile, *, skip_bad: bool, actor: str, source: str
) -> ImportResult:
    """Write a checked file in the caller's transaction (or refuse it, writing nothing)."""
    result = ImportResult(
        total_rows=checked.total,
        good_rows=len(checked.good),
        bad_rows=len({e.row for e in checked.errors}),
        errors=checked.errors,
    )
    if checked.errors and not skip_bad:
        raise ImportRefused(result)
    if not checked.good:
        return result
    raw = cast(psycopg.Connection[Any], conn.connection.driver_connection)
    with raw.cursor() as cur:
        cur.execute(_CREATE_STAGE)
        with cur.copy(f"COPY reg_stage ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as cp:
            batch: list[str] = []
            for r in checked.good:
                batch.append(_copy_line(r))
                if len(batch) == 5000:
                    cp.write("".join(batch))
                    batch.clear()
            if batch:
                cp.write("".join(batch))
        cur.execute("ANALYZE reg_stage")  # row estimates for the joins below
        cur.execute(_INSERT_PERSONS)
        result.persons_inserted = cur.rowcount
        cur.execute(_UPDATE_PERSONS)
        result.persons_updated = cur.rowcount
        cur.execute(_UPSERT_ENROLMENTS)
        flags = [bool(row[0]) for row in cur.fetchall()]
        result.enrolments_inserted = sum(flags)
        result.enrolments_updated = len(flags) - result.enrolments_inserted
        cur.execute("DROP TABLE reg_stage")
    result.written = True
    audit(
        conn,
        actor,
        "registry.import",
        source,
        good_rows=result.good_rows,
        bad_rows=result.bad_rows,
        persons_inserted=result.persons_inserted,
        persons_updated=result.persons_updated,
        enrolments_inserted=result.enrolments_inserted,
        enrolments_updated=result.enrolments_updated,
    )
    return result


def import_file(
    engine: sa.Engine, path: Path, *, skip_bad: bool = False, actor: str = "cli"
) -> ImportResult:
    """Check then import a CSV/XLSX file in one transaction. Raises :class:`ImportRefused`."""
    checked = check_rows(read_rows(path))
    with engine.begin() as conn:
        return import_checked(conn, checked, skip_bad=skip_bad, actor=actor, source=path.name)


_EXPORT_SQL = """
SELECT p.psn_no, p.psn_cert_type, p.certno, p.psn_name, p.gend, p.naty, p.brdy, p.tel, p.town,
       e.insutype, e.psn_insu_stas, e.psn_insu_date, e.paus_insu_date, e.psn_type,
       e.insuplc_admdvs, e.emp_no, e.emp_name, e.flxempe_flag, e.cvlserv_flag
FROM person p JOIN enrolment e ON e.psn_no = p.psn_no
WHERE (CAST(:admdvs AS text) IS NULL OR starts_with(e.insuplc_admdvs, :admdvs))
ORDER BY p.psn_no, e.insutype
"""


def export_rows(
    conn: sa.Connection, *, full_certno: bool, admdvs: str | None = None
) -> Iterator[list[object]]:
    """Export rows in :data:`COLUMNS` order; unless ``full_certno`` (a disclosure), the
    certificate number, the name and the phone are masked (脱敏)."""
    result = conn.execute(  # streamed for this statement only (the audit row follows)
        sa.text(_EXPORT_SQL),
        {"admdvs": admdvs},
        execution_options={"stream_results": True, "yield_per": 5000},
    )
    for r in result:
        row: list[object] = list(r)
        if not full_certno:
            row[2] = certs.mask(str(row[2]))
            row[3] = mask_name(str(row[3]))
            row[7] = mask_tel(str(row[7] or ""))
        row[17] = "1" if row[17] else "0"
        row[18] = "1" if row[18] else "0"
        yield row


def mask_name(name: str) -> str:
    """A name with only its first character: ``张三丰`` → ``张**``."""
    return name[:1] + "*" * (len(name) - 1)


def mask_tel(tel: str) -> str:
    """A phone with its first 3 and last 4 digits: ``139****6781``."""
    return tel[:3] + "*" * (len(tel) - 7) + tel[-4:] if len(tel) > 7 else "*" * len(tel)


def export_file(
    engine: sa.Engine,
    path: Path,
    *,
    full_certno: bool = False,
    actor: str = "cli",
    reason: str = "",
    admdvs: str | None = None,
) -> int:
    """Write persons × enrolments to CSV or XLSX, masked unless ``full_certno`` (then a reason is
    required). Every export is audited (``registry.export``: who, why, which region, how many
    rows, disclosed or not); a disclosure also as ``registry.certno.export``."""
    if full_certno and not reason:
        raise ValueError("导出完整证件号码须说明事由(--reason)")
    n = 0
    with engine.begin() as conn:
        if full_certno:
            audit(conn, actor, "registry.certno.export", path.name, reason=reason, admdvs=admdvs)
        rows = export_rows(conn, full_certno=full_certno, admdvs=admdvs)
        if path.suffix.lower() == ".xlsx":
            from openpyxl import Workbook

            wb = Workbook(write_only=True)
            ws = wb.create_sheet("参保人员")
            ws.append(list(COLUMNS))
            for row in rows:
                ws.append(row)
                n += 1
            wb.save(path)
        else:
            with path.open("w", encoding="utf-8", newline="") as f:
                w = csv.writer(f)
                w.writerow(COLUMNS)
                for row in rows:
                    w.writerow(["" if v is None else v for v in row])
                    n += 1
        audit(conn, actor, "registry.export", admdvs or "全省", purpose=reason, rows=n,
              disclosed=full_certno, file=path.name)  # fmt: skip
    return n
