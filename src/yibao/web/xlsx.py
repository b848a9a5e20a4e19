"""Excel export of console tables (导出Excel): one sheet per table, Chinese headers, yuan amounts.

Amounts arrive as integer fen and are written as exact two-decimal numbers (``Decimal``) with the
``#,##0.00`` format; nothing is computed in the spreadsheet. Long lists stream
(:func:`stream_csv` row by row, :func:`stream_xlsx` in write-only mode) from an iterator that
walks the list's keyset pages, so an export of a million rows never sits in memory.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from urllib.parse import quote

from fastapi.responses import Response, StreamingResponse

from yibao.money import fen_str

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Money(int):
    """Fen to be written as yuan (元) in a cell."""


def _cell(v: object) -> object:
    if isinstance(v, Money):
        return Decimal(int(v)) / 100
    return v


def workbook(sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[object]]]]) -> bytes:
    """An XLSX file: ``(sheet title, header, rows)`` for each sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title[:31])
        ws.append(list(header))
        for c in ws[1]:
            c.font = Font(bold=True)
        for row in rows:
            ws.append([_cell(v) for v in row])
            for c, v in zip(ws[ws.max_row], row, strict=False):
                if isinstance(v, Money):
                    c.number_format = "#,##0.00"
        for i, h in enumerate(header, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = max(12, len(h) * 2 + 4)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def download(name: str, data: bytes) -> Response:
    """The file as an attachment (UTF-8 file name)."""
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


CSV = "text/csv; charset=utf-8"


def _csv_cell(v: object) -> str:
    if isinstance(v, Money):
        return fen_str(int(v))
    text = "" if v is None else str(v)
    if text[:1] in ("=", "+", "-", "@") and not _is_number(text):
        text = "'" + text  # never a formula in a spreadsheet (CSV injection)
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def stream_csv(name: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Response:
    """A CSV attachment written row by row as ``rows`` yields (UTF-8 with BOM, so Excel reads
    the Chinese headers); nothing is held in memory beyond one row."""

    def chunks() -> Iterator[bytes]:
        buf = io.StringIO()
        out = csv.writer(buf)
        buf.write("\ufeff")
        out.writerow(header)
        for row in rows:
            out.writerow([_csv_cell(v) for v in row])
            if buf.tell() > 64_000:
                yield buf.getvalue().encode("utf-8")
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue().encode("utf-8")

    return StreamingResponse(
        chunks(),
        media_type=CSV,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


def stream_xlsx(
    name: str, title: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> Response:
    """An XLSX attachment built row by row in openpyxl's write-only mode (constant memory: rows
    go to a temporary file as they come) and sent in chunks once the archive is closed."""

    def chunks() -> Iterator[bytes]:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        wb = Workbook(write_only=True)
        ws = wb.create_sheet(title[:31])
        ws.append(list(header))
        for row in rows:
            cells = []
            for v in row:
                cell = WriteOnlyCell(ws, value=_cell(v))
                if isinstance(v, Money):
                    cell.number_format = "#,##0.00"
                cells.append(cell)
            ws.append(cells)
        with tempfile.TemporaryFile() as tmp:
            wb.save(tmp)
            tmp.seek(0)
            while block := tmp.read(256 * 1024):
                yield block

    return StreamingResponse(
        chunks(),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )
