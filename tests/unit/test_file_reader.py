"""Reading exports: encoding detection and rows numbered as a spreadsheet shows them."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.files import FileFormatError, TableFormat, open_table
from connectors.files.encoding import detect

SAMPLES = {
    "gb18030": "AccountNo,Account Name,Town\nC1,北京华为技术有限公司,北京\nC2,上海明华电子科技有限公司,上海\n",
    "cp932": "AccountNo,Account Name,Town\nJ1,株式会社山田製作所,大阪\nJ2,トヨタ自動車株式会社,名古屋\n",
    "cp1252": "AccountNo,Account Name,Town\nD1,Müller Bäckerei GmbH,München\nD2,Société Générale,Paris\n",
}


@pytest.mark.parametrize("encoding", sorted(SAMPLES))
def test_detection_tells_chinese_japanese_and_western_exports_apart(encoding):
    # Shift_JIS bytes also decode as GB18030 (into nonsense): a plain "does it decode" fails here
    assert detect(SAMPLES[encoding].encode(encoding)) == encoding


def test_any_utf8_is_read_as_utf8_and_a_bom_is_dropped(tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_bytes("AccountNo,Name\n1,Ørsted\n".encode("utf-8-sig"))
    table = open_table(path, TableFormat())
    assert table.encoding == "utf-8-sig" and table.columns == ["AccountNo", "Name"]


def test_rows_are_numbered_as_a_spreadsheet_shows_them(tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_text('id,note\n1,"two\nlines"\n\n2,x,\n3\n', encoding="utf-8")
    rows = list(open_table(path, TableFormat()).rows)
    # a quoted field over two lines is one row; an empty row is skipped but counted;
    # a trailing delimiter is no extra field; a short row is a fault naming its row
    assert [(r.number, r.values, r.error) for r in rows] == [
        (2, {"id": "1", "note": "two\nlines"}, None),
        (4, {"id": "2", "note": "x"}, None),
        (5, {}, "a.csv row 5: 1 fields, the header has 2"),
    ]


def test_a_header_further_down_and_a_sheet_by_name(tmp_path: Path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Cover"
    sheet = book.create_sheet("Data")
    sheet.append(["Export of 2026-11-22"])
    sheet.append(["id", "amount", "when"])
    sheet.append([7, 12.5, None])
    book.save(tmp_path / "a.xlsx")
    table = open_table(tmp_path / "a.xlsx", TableFormat(header_row=2, sheet="Data"))
    assert [(r.number, r.values) for r in table.rows] == [(3, {"id": "7", "amount": "12.5", "when": ""})]
    with pytest.raises(FileFormatError, match="no sheet 'Sheet9' \\(sheets: Cover, Data\\)"):
        open_table(tmp_path / "a.xlsx", TableFormat(sheet="Sheet9"))
