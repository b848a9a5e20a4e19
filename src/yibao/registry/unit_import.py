"""Bulk import of units and employment (参保单位、用工信息批量导入): never half-applied.

The whole file is checked first (:mod:`yibao.registry.unit_rows`); then, inside one transaction,
the good rows are staged and checked against the database (the person exists, the unit exists,
no overlap with stored employment periods). Any error refuses the whole file — nothing is
written — unless ``skip_bad`` (then only file-level good rows that also pass the database checks
are merged). Re-importing the same file changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from yibao.db import hot
from yibao.db.tables import audit
from yibao.registry import bulk
from yibao.registry.rows import RowError
from yibao.registry.unit_rows import (
    Checked,
    EmploymentRow,
    UnitRow,
    check_employments,
    check_units,
    normalize_employment_header,
    normalize_unit_header,
)


@dataclass
class TableImportResult:
    """What an import did (or would have done): rows, errors, inserted and updated."""

    kind: str  # "units" | "employment"
    total_rows: int
    good_rows: int
    errors: list[RowError] = field(default_factory=list)
    written: bool = False
    inserted: int = 0
    updated: int = 0

    @property
    def bad_rows(self) -> int:
        return len({e.row for e in self.errors})

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "total_rows": self.total_rows,
            "good_rows": self.good_rows,
            "bad_rows": self.bad_rows,
            "written": self.written,
            "inserted": self.inserted,
            "updated": self.updated,
            "errors": [{"row": e.row, "field": e.field, "reason": e.reason} for e in self.errors],
        }


class TableImportRefused(ValueError):
    """The file has bad rows: nothing was written."""

    def __init__(self, result: TableImportResult) -> None:
        super().__init__(f"文件有{len(result.errors)}处错误，未导入任何数据")
        self.result = result


def _renamed(
    rows: Iterator[tuple[int, Mapping[str, object]]], normalize: Any
) -> Iterator[tuple[int, dict[str, object]]]:
    """Rows read by :mod:`yibao.registry.bulk` (person aliases applied) re-keyed for this file."""
    for n, raw in rows:
        yield n, {normalize(str(k)): v for k, v in raw.items()}


def read_units(name: str, data: bytes) -> Checked[UnitRow]:
    return check_units(_renamed(bulk.read_rows_bytes(name, data), normalize_unit_header))


def read_employments(name: str, data: bytes) -> Checked[EmploymentRow]:
    return check_employments(
        _renamed(bulk.read_rows_bytes(name, data), normalize_employment_header)
    )


# ------------------------------------------------------------------------------------ units

_UPSERT_UNIT = """
INSERT INTO unit AS u (emp_no, uscc, emp_name, emp_type, admdvs, town)
VALUES (%(emp_no)s, %(uscc)s, %(emp_name)s, %(emp_type)s, %(admdvs)s, %(town)s)
ON CONFLICT (emp_no) DO UPDATE SET uscc = EXCLUDED.uscc, emp_name = EXCLUDED.emp_name,
  emp_type = EXCLUDED.emp_type, admdvs = EXCLUDED.admdvs, town = EXCLUDED.town, updated_at = now()
WHERE (u.uscc, u.emp_name, u.emp_type, u.admdvs, u.town)
  IS DISTINCT FROM (EXCLUDED.uscc, EXCLUDED.emp_name, EXCLUDED.emp_type, EXCLUDED.admdvs,
                    EXCLUDED.town)
RETURNING (xmax = 0) AS inserted
"""


def import_units(
    conn: sa.Connection, checked: Checked[UnitRow], *, skip_bad: bool, actor: str, source: str
) -> TableImportResult:
    """Merge a checked unit file in the caller's transaction (or refuse it, writing nothing)."""
    result = TableImportResult("units", checked.total, len(checked.good), list(checked.errors))
    taken = {
        str(r[0]): str(r[1])
        for r in hot.rows(
            conn,
            "SELECT uscc, emp_no FROM unit WHERE uscc = ANY(%(c)s)",
            {"c": [r.uscc for r in checked.good]},
        )
    }
    good = []
    for r in checked.good:
        owner = taken.get(r.uscc)
        if owner is not None and owner != r.emp_no:
            result.errors.append(RowError(r.row, "uscc", f"统一社会信用代码已登记为单位{owner}"))
        else:
            good.append(r)
    result.good_rows = len(good)
    if result.errors and not skip_bad:
        raise TableImportRefused(result)
    for r in good:
        row = hot.one(conn, _UPSERT_UNIT, _unit_params(r))
        if row is not None:
            result.inserted += int(bool(row[0]))
            result.updated += int(not row[0])
    result.written = True
    audit(conn, actor, "registry.import_units", source, inserted=result.inserted,
          updated=result.updated, bad_rows=result.bad_rows)  # fmt: skip
    return result


def _unit_params(r: UnitRow) -> dict[str, object]:
    return {
        "emp_no": r.emp_no,
        "uscc": r.uscc,
        "emp_name": r.emp_name,
        "emp_type": r.emp_type,
        "admdvs": r.admdvs,
        "town": r.town,
    }


# ------------------------------------------------------------------------------- employment

_STAGE = """
CREATE TEMP TABLE emp_stage (row int, psn_cert_type text, certno text, emp_no text,
  begin_date date, end_date date, wage_base bigint, flexible boolean) ON COMMIT DROP
"""

# Database checks of the staged rows: (row, field, reason) for every refusal.
_DB_ERRORS = """
SELECT s.row, 'certno', '未找到该证件的参保人员(请先登记人员)'
  FROM emp_stage s LEFT JOIN person p ON p.psn_cert_type = s.psn_cert_type AND p.certno = s.certno
 WHERE p.psn_no IS NULL
UNION ALL
SELECT s.row, 'emp_no', '单位编号' || s.emp_no || '不存在(请先导入参保单位)'
  FROM emp_stage s WHERE s.emp_no IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM unit u WHERE u.emp_no = s.emp_no)
UNION ALL
SELECT s.row, 'begin_date', '与已登记的用工期间(' || e.begin_date || '起)重叠'
  FROM emp_stage s JOIN person p ON p.psn_cert_type = s.psn_cert_type AND p.certno = s.certno
  JOIN employment e ON e.psn_no = p.psn_no AND e.begin_date <> s.begin_date
   AND e.begin_date <= COALESCE(s.end_date, 'infinity'::date)
   AND s.begin_date <= COALESCE(e.end_date, 'infinity'::date)
 WHERE NOT EXISTS (SELECT 1 FROM emp_stage o WHERE o.psn_cert_type = s.psn_cert_type
                   AND o.certno = s.certno AND o.begin_date = e.begin_date)
ORDER BY 1
"""

_MERGE = """
INSERT INTO employment AS e (psn_no, begin_date, end_date, emp_no, flexible, wage_base)
SELECT p.psn_no, s.begin_date, s.end_date, s.emp_no, s.flexible, s.wage_base
  FROM emp_stage s JOIN person p ON p.psn_cert_type = s.psn_cert_type AND p.certno = s.certno
 WHERE NOT (s.row = ANY(%(bad)s))
ON CONFLICT (psn_no, begin_date) DO UPDATE SET end_date = EXCLUDED.end_date,
  emp_no = EXCLUDED.emp_no, flexible = EXCLUDED.flexible, wage_base = EXCLUDED.wage_base,
  updated_at = now()
WHERE (e.end_date, e.emp_no, e.flexible, e.wage_base)
  IS DISTINCT FROM (EXCLUDED.end_date, EXCLUDED.emp_no, EXCLUDED.flexible, EXCLUDED.wage_base)
RETURNING (xmax = 0) AS inserted
"""


def _copy_line(r: EmploymentRow) -> str:
    end = r.end_date.isoformat() if r.end_date else "\\N"
    emp = r.emp_no or "\\N"
    return (
        f"{r.row}\t{r.psn_cert_type}\t{r.certno}\t{emp}\t{r.begin_date.isoformat()}\t{end}\t"
        f"{r.wage_base}\t{'t' if r.flexible else 'f'}\n"
    )


def import_employments(
    conn: sa.Connection,
    checked: Checked[EmploymentRow],
    *,
    skip_bad: bool,
    actor: str,
    source: str,
) -> TableImportResult:
    """Merge a checked employment file in the caller's transaction (or refuse it whole)."""
    result = TableImportResult("employment", checked.total, len(checked.good), list(checked.errors))
    if checked.errors and not skip_bad:
        raise TableImportRefused(result)
    raw = hot.driver(conn)
    with raw.cursor() as cur:
        cur.execute(_STAGE)
        with cur.copy(
            "COPY emp_stage (row, psn_cert_type, certno, emp_no, begin_date, end_date, "
            "wage_base, flexible) FROM STDIN"
        ) as cp:
            for i in range(0, len(checked.good), 5000):
                cp.write("".join(_copy_line(r) for r in checked.good[i : i + 5000]))
        cur.execute("ANALYZE emp_stage")
        cur.execute(_DB_ERRORS)
        db_errors = [RowError(int(r[0]), str(r[1]), str(r[2])) for r in cur.fetchall()]
        result.errors.extend(db_errors)
        bad = sorted({e.row for e in db_errors})
        result.good_rows = len(checked.good) - len(bad)
        if db_errors and not skip_bad:
            cur.execute("DROP TABLE emp_stage")
            raise TableImportRefused(result)
        cur.execute(_MERGE, {"bad": bad})
        flags = [bool(r[0]) for r in cur.fetchall()]
        cur.execute("DROP TABLE emp_stage")
    result.inserted = sum(flags)
    result.updated = len(flags) - result.inserted
    result.written = True
    audit(conn, actor, "registry.import_employment", source, inserted=result.inserted,
          updated=result.updated, bad_rows=result.bad_rows)  # fmt: skip
    return result


def import_file(
    engine: sa.Engine, kind: str, path: Path, *, skip_bad: bool = False, actor: str = "cli"
) -> TableImportResult:
    """Check then import a unit or employment CSV/XLSX in one transaction."""
    data = path.read_bytes()
    with engine.begin() as conn:
        if kind == "units":
            return import_units(
                conn, read_units(path.name, data), skip_bad=skip_bad, actor=actor, source=path.name
            )
        if kind == "employment":
            return import_employments(
                conn,
                read_employments(path.name, data),
                skip_bad=skip_bad,
                actor=actor,
                source=path.name,
            )
    raise ValueError(f"kind: {kind!r} is not units or employment")
