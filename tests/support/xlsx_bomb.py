"""A zip-bomb workbook, for the tests that an XLSX is refused before openpyxl expands it.

The security review's file: 526 KB on disk, one shared string of 512 MB inside. Built from a
real openpyxl workbook whose sheet is switched to shared strings (as Excel writes them), with
``xl/sharedStrings.xml`` streamed into the zip a megabyte at a time, so building it takes
about a second and little memory.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook

_MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SHEET = (
    b'<worksheet xmlns="' + _MAIN + b'"><sheetData>'
    b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    b'<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="s"><v>2</v></c></row></sheetData></worksheet>'
)
_RELATION = (
    b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'sharedStrings" Target="sharedStrings.xml" Id="rId99"/></Relationships>'
)
_CONTENT_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)


def zip_bomb(
    path: Path, size: int = 512 * 1024 * 1024, sheet: str = "Sheet", columns: tuple[str, str] = ("id", "name")
) -> Path:
    """An XLSX at ``path`` (its sheet named ``sheet``) with a header of two ``columns`` and one
    row: 1 and a string of ``size`` × "A"."""
    plain = path.with_name(path.name + ".plain")
    book = Workbook()
    book.active.title = sheet
    book.active.append(["id", "name"])
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = _SHEET
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", _RELATION)
            elif item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", _CONTENT_TYPE)
            bomb.writestr(item.filename, data)
        with bomb.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
            out.write(
                b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="' + _MAIN + b'" count="3" '
                b'uniqueCount="3"><si><t>'
                + escape(columns[0]).encode()
                + b"</t></si><si><t>"
                + escape(columns[1]).encode()
                + b"</t></si><si><t>"
            )
            chunk = b"A" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                out.write(chunk)
            out.write(b"A" * (size % len(chunk)) + b"</t></si></sst>")
    plain.unlink()
    return path
