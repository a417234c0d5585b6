"""A CSV or XLSX export as a stream of rows, each either readable or a fault with its reason.

The file drop needs more than ``read_rows`` (pandas): a row with the wrong number of fields
must become a dead letter naming its row, not stop the file (pandas' C parser raises at the
first long row and silently pads short ones), and a 100,000-row export should not be held in
memory twice. So CSV goes through the standard library's streaming ``csv`` reader after one
strict decode of the whole file, and XLSX through openpyxl's read-only row iterator.

Row numbers are the ones a spreadsheet shows (the header row is 1 unless ``header_row`` says
otherwise; a quoted field spanning lines is still one row). Values are text, as typed.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from connectors.files.encoding import EncodingUnknown, detect
from connectors.files.reader import FileFormatError

csv.field_size_limit(16 * 1024 * 1024)  # a long memo field is data, not an attack


@dataclass(frozen=True, slots=True)
class TableFormat:
    encoding: str = "detect"
    delimiter: str = ","
    header_row: int = 1
    sheet: str | None = None


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    values: dict[str, str]
    #: Set for a row that cannot be read as a record; ``raw`` then holds its fields as found.
    error: str | None = None
    raw: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Table:
    columns: list[str]
    rows: Iterator[Row]
    encoding: str | None  # None for XLSX


def open_table(path: Path, fmt: TableFormat, raw: bytes | None = None) -> Table:
    """Read the header now (a file that is no table fails here, as a whole); rows lazily."""
    raw = path.read_bytes() if raw is None else raw
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx(path.name, raw, fmt)
    if suffix in (".csv", ".txt", ".tsv"):
        return _csv(path.name, raw, fmt)
    raise FileFormatError(f"{path.name}: unsupported file type {suffix!r} (use .csv or .xlsx)")


def _header(name: str, number: int, cells: list[str]) -> list[str]:
    columns = [c.strip() for c in cells]
    while columns and not columns[-1]:
        columns.pop()
    if not columns:
        raise FileFormatError(f"{name}: row {number} (the header row) is empty: not a table")
    seen: set[str] = set()
    for position, column in enumerate(columns, 1):
        if not column:
            raise FileFormatError(f"{name}: header row {number}: column {position} has no name")
        if column in seen:
            raise FileFormatError(f"{name}: header row {number}: column {column!r} appears twice")
        seen.add(column)
    return columns


def _shape(name: str, number: int, columns: list[str], cells: list[str]) -> Row | None:
    """A row of cells as a record, a fault, or None for an empty row."""
    if not any(c.strip() for c in cells):
        return None
    width = len(columns)
    if len(cells) > width and not any(c.strip() for c in cells[width:]):
        cells = cells[:width]  # trailing empty cells (a trailing delimiter) are no data
    if len(cells) != width:
        return Row(number, {}, f"{name} row {number}: {len(cells)} fields, the header has {width}", cells)
    return Row(number, dict(zip(columns, cells)))


def _csv(name: str, raw: bytes, fmt: TableFormat) -> Table:
    if b"\x00" in raw:
        raise FileFormatError(f"{name}: contains NUL bytes: binary data, not a text table")
    try:
        encoding = detect(raw) if fmt.encoding == "detect" else fmt.encoding
        text = raw.decode(encoding)
    except EncodingUnknown as exc:
        raise FileFormatError(f"{name}: cannot tell the text encoding: {exc}") from None
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise FileFormatError(
            f"{name}: not {encoding} text: byte 0x{raw[exc.start]:02x} at offset {exc.start} (line {line})"
        ) from None
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=fmt.delimiter)
    number = 0
    try:
        for number, cells in enumerate(reader, 1):
            if number == fmt.header_row:
                break
        else:
            raise FileFormatError(f"{name}: only {number} rows, no header at row {fmt.header_row}")
    except csv.Error as exc:
        raise FileFormatError(f"{name} row {number + 1}: {exc}") from None
    columns = _header(name, number, cells)

    def rows() -> Iterator[Row]:
        current = number
        try:
            for current, cells in enumerate(reader, number + 1):
                row = _shape(name, current, columns, cells)
                if row is not None:
                    yield row
        except csv.Error as exc:
            raise FileFormatError(f"{name} row {current + 1}: {exc}") from None

    return Table(columns, rows(), encoding)


def _cell(value: object) -> str:
    """A cell as the text a person sees; whole numbers without ".0", dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _xlsx(name: str, raw: bytes, fmt: TableFormat) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileFormatError(f"{name}: not an XLSX workbook: {exc}") from None
    if fmt.sheet is not None and fmt.sheet not in book.sheetnames:
        book.close()
        raise FileFormatError(f"{name}: no sheet {fmt.sheet!r} (sheets: {', '.join(book.sheetnames)})")
    sheet = book[fmt.sheet] if fmt.sheet else book.worksheets[0]
    cells = sheet.iter_rows(min_row=1, values_only=True)
    number = 0
    for number, values in enumerate(cells, 1):
        if number == fmt.header_row:
            break
    else:
        book.close()
        raise FileFormatError(f"{name}: only {number} rows, no header at row {fmt.header_row}")
    columns = _header(name, number, [_cell(v) for v in values])

    def rows() -> Iterator[Row]:
        try:
            for current, values in enumerate(cells, number + 1):
                texts = [_cell(v) for v in values]
                texts += [""] * (len(columns) - len(texts))  # a sheet's row ends at its last cell
                row = _shape(name, current, columns, texts)
                if row is not None:
                    yield row
        finally:
            book.close()

    return Table(columns, rows(), None)
