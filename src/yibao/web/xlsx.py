"""Excel export of console tables (导出Excel): one sheet per table, Chinese headers, yuan amounts.

Amounts arrive as integer fen and are written as exact two-decimal numbers (``Decimal``) with the
``#,##0.00`` format; nothing is computed in the spreadsheet.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from urllib.parse import quote

from fastapi.responses import Response

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
