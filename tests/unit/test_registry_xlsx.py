"""XLSX reading for the bulk import: Excel row numbers, Chinese headers, typed cells."""

from datetime import date
from pathlib import Path

from openpyxl import Workbook

from yibao.registry import bulk, rows, synth

COLS = [c for c in rows.COLUMNS if c != "psn_no"]


def test_row_numbers_headers_and_cell_types(tmp_path: Path) -> None:
    data = list(synth.person_rows(3, seed=5))
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([])  # a title row left empty, as spreadsheets often have
    ws.append(["证件类型", "证件号码", "姓名", *COLS[3:]])
    good = [data[0][c] for c in COLS]
    good[COLS.index("brdy")] = date.fromisoformat(data[0]["brdy"])  # a real date cell
    good[COLS.index("insuplc_admdvs")] = int(data[0]["insuplc_admdvs"])  # a number cell
    ws.append(good)
    bad = dict(data[1], gend="7")
    ws.append([bad[c] for c in COLS])
    wb.save(tmp_path / "in.xlsx")
    checked = rows.check_rows(bulk.read_rows(tmp_path / "in.xlsx"))
    assert [str(e) for e in checked.errors] == ["第4行 gend: 性别7不在字典gend中(0/1/2/9)"]
    assert [r.row for r in checked.good] == [3]
    assert checked.good[0].insuplc_admdvs == data[0]["insuplc_admdvs"]
    # the same through the upload path
    again = rows.check_rows(bulk.read_rows_bytes("in.xlsx", (tmp_path / "in.xlsx").read_bytes()))
    assert [e.row for e in again.errors] == [4]
