"""Reading exports: encoding detection and rows numbered as a spreadsheet shows them."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.files import FileFormatError, TableFormat, open_table
from connectors.files.encoding import detect
from tests.support.xlsx_bomb import zip_bomb

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


# --- bad rows are set aside one by one; only what concerns the whole file refuses it ----------


def _csv_bytes(lines: list[bytes]) -> bytes:
    return b"\r\n".join(lines) + b"\r\n"


def test_long_short_undecodable_nul_and_overlong_rows_are_row_faults_and_the_rest_are_read(tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_bytes(
        _csv_bytes(
            [
                b"id,name,city",
                "1,Müller GmbH,Köln".encode(),  # good (UTF-8)
                b"2,Alpha,Berlin,surplus",  # row 3: an extra field
                b"3,Beta",  # row 4: short: never padded
                b"4,M\xfcller Bau,Essen",  # row 5: CP1252 bytes in a UTF-8 file
                b"5,Nul\x00Name,Bonn",  # row 6: a NUL byte
                b"6," + b"x" * 40_000 + b",Ulm",  # row 7: over the cell limit
                "7,Ørsted,Aarhus".encode(),  # good
            ]
        )
    )
    table = open_table(path, TableFormat())
    assert table.encoding == "utf-8-sig"  # a few mis-encoded rows do not make the file CP1252
    rows = {r.number: r for r in table.rows}
    assert {n: r.values for n, r in rows.items() if not r.error} == {
        2: {"id": "1", "name": "Müller GmbH", "city": "Köln"},
        8: {"id": "7", "name": "Ørsted", "city": "Aarhus"},
    }
    assert {n: r.error for n, r in rows.items() if r.error} == {
        3: "a.csv row 3: 4 fields, the header has 3",
        4: "a.csv row 4: 2 fields, the header has 3",
        5: "a.csv row 5: undecodable bytes (0xfc: not utf-8-sig text) at column 2 ('name')",
        6: "a.csv row 6: a NUL byte (binary data in a text cell) at column 2 ('name')",
        7: "a.csv row 7: 40,000 characters, more than the limit of 32,767 at column 2 ('name')",
    }
    # what a fault keeps can be stored anywhere (no NUL, no lone surrogates, no 40,000 characters)
    assert rows[5].raw == ["4", "M\\xfcller Bau", "Essen"] and rows[6].raw == ["5", "Nul\\0Name", "Bonn"]
    assert rows[7].raw[1].endswith("… (40,000 characters)") and len(rows[7].raw[1]) < 300


def test_a_cp1252_export_is_still_read_as_cp1252(tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_bytes(SAMPLES["cp1252"].encode("cp1252"))
    table = open_table(path, TableFormat())
    assert table.encoding == "cp1252"
    assert [r.values["Account Name"] for r in table.rows] == ["Müller Bäckerei GmbH", "Société Générale"]


def test_binary_data_and_too_many_rows_refuse_the_file_as_a_whole(tmp_path: Path):
    from connectors.files import Limits

    (tmp_path / "b.csv").write_bytes("id,name\n".encode("utf-16"))
    with pytest.raises(FileFormatError, match="binary data, not a text table"):
        open_table(tmp_path / "b.csv", TableFormat())
    (tmp_path / "c.csv").write_text("id\n" + "".join(f"{i}\n" for i in range(11)), encoding="utf-8")
    with pytest.raises(FileFormatError, match="12 lines, more than the limit of 10 rows"):
        open_table(tmp_path / "c.csv", TableFormat(), limits=Limits(max_rows=10))


def test_an_xlsx_zip_bomb_is_refused_from_its_zip_directory_fast_and_in_little_memory(tmp_path: Path):
    import time
    import tracemalloc

    path = zip_bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 1024 * 1024  # under a megabyte on disk
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(FileFormatError, match=r"xl/sharedStrings.xml .*compressed \d[\d,]* to 1.*a zip bomb"):
        open_table(path, TableFormat())
    elapsed = time.monotonic() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 5 and peak < 20 * 1024 * 1024, (elapsed, peak)


def test_an_xlsx_over_the_size_limit_is_refused_and_an_overlong_cell_is_a_row_fault(tmp_path: Path):
    from openpyxl import Workbook

    from connectors.files import Limits

    # a shared string longer than Excel allows (openpyxl itself would cut it at 32,767)
    rows = list(open_table(zip_bomb(tmp_path / "long.xlsx", 40_000), TableFormat()).rows)
    assert [(r.number, r.values, r.error) for r in rows] == [
        (2, {}, "long.xlsx row 2: 40,000 characters, more than the limit of 32,767 at column 2 ('name')"),
    ]
    book = Workbook()
    book.active.append(["id", "name"])
    book.active.append(["1", "Alpha"])
    book.active.append(["2", "Beta"])
    book.save(tmp_path / "a.xlsx")
    assert [r.values["name"] for r in open_table(tmp_path / "a.xlsx", TableFormat()).rows] == ["Alpha", "Beta"]
    with pytest.raises(FileFormatError, match="unpacks to [\\d,]+ bytes, more than the limit of 10,000"):
        open_table(tmp_path / "a.xlsx", TableFormat(), limits=Limits(xlsx_max_uncompressed_bytes=10_000))
    with pytest.raises(FileFormatError, match="3 rows, more than the limit of 1 "):
        open_table(tmp_path / "a.xlsx", TableFormat(), limits=Limits(max_rows=1))
