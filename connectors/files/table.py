"""A CSV or XLSX export as a stream of rows, each either readable or a fault with its reason.

One bad row never refuses a file: a row with the wrong number of fields (long or short; a short
row is never padded), bytes that are not text in the file's encoding, a NUL byte or a cell over
``Limits.max_cell_chars`` becomes a ``Row`` with ``error`` naming its row and column, and the
rest are read. So CSV goes through the standard library's streaming ``csv`` reader, each
physical line decoded on its own (an undecodable byte is marked, not fatal), and XLSX through
openpyxl's read-only row iterator after its zip directory passed the size limits.

A file is refused as a whole (``FileFormatError``) only for what concerns all of it: no
header, binary data, an encoding nothing reads, more rows than ``max_rows``, an XLSX over a
size or compression limit (a zip bomb is refused from its directory, before decompressing).

Row numbers are the ones a spreadsheet shows (the header row is 1 unless ``header_row`` says
otherwise; a quoted field spanning lines is still one row). Values are text, as typed.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from connectors.files.encoding import SAMPLE_BYTES, EncodingUnknown, detect
from connectors.files.limits import Limits
from connectors.files.reader import FileFormatError

# The csv module's own bound; cells over ``Limits.max_cell_chars`` are set aside per row.
csv.field_size_limit(64 * 1024 * 1024)

#: Error handler that keeps each undecodable byte as the lone surrogate U+DC00+byte (like
#: ``surrogateescape``, but for any byte): decoding never fails, and the row holding it says so.
_MARK = "concord-undecodable"
_MARKED = re.compile("[\udc00-\udcff]+")


def _mark(exc: UnicodeError) -> tuple[str, int]:
    assert isinstance(exc, UnicodeDecodeError)
    return "".join(chr(0xDC00 + b) for b in exc.object[exc.start : exc.end]), exc.end


codecs.register_error(_MARK, _mark)


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


def open_table(path: Path, fmt: TableFormat, raw: bytes | None = None, limits: Limits | None = None) -> Table:
    """Read the header now (a file that is no table fails here, as a whole); rows lazily."""
    raw = path.read_bytes() if raw is None else raw
    limits = limits or Limits()
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx(path.name, raw, fmt, limits)
    if suffix in (".csv", ".txt", ".tsv"):
        return _csv(path.name, raw, fmt, limits)
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


def _visible(cell: str, limits: Limits) -> str:
    """A cell as it may be kept in a fault's payload: undecodable bytes as ``\\xNN``, NUL as
    ``\\0`` (PostgreSQL text and JSON hold neither), an over-long cell cut with its length."""
    cell = _MARKED.sub(lambda m: "".join(f"\\x{ord(c) - 0xDC00:02x}" for c in m.group()), cell)
    cell = cell.replace("\x00", "\\0")
    if len(cell) > limits.max_cell_chars:
        cell = f"{cell[:200]}… ({len(cell):,} characters)"
    return cell


def _cell_problem(cell: str, limits: Limits, encoding: str | None) -> str | None:
    """Why one cell cannot be taken as text, or None."""
    marked = _MARKED.search(cell)
    if marked:
        shown = " ".join(f"0x{ord(c) - 0xDC00:02x}" for c in marked.group())
        return f"undecodable bytes ({shown}: not {encoding} text)"
    if "\x00" in cell:
        return "a NUL byte (binary data in a text cell)"
    if len(cell) > limits.max_cell_chars:
        return f"{len(cell):,} characters, more than the limit of {limits.max_cell_chars:,}"
    return None


def _shape(
    name: str, number: int, columns: list[str], cells: list[str], limits: Limits, encoding: str | None = None
) -> Row | None:
    """A row of cells as a record, a fault, or None for an empty row. The row's text is
    checked at once and cell by cell only when something is wrong (an unchanged re-load spends
    a fifth of its time here otherwise)."""
    line = "".join(cells)
    if not line.strip():
        return None
    width = len(columns)
    if len(cells) > width and not any(c.strip() for c in cells[width:]):
        cells = cells[:width]  # trailing empty cells (a trailing delimiter) are no data
    if _MARKED.search(line) or "\x00" in line or max(map(len, cells)) > limits.max_cell_chars:
        for position, cell in enumerate(cells, 1):
            problem = _cell_problem(cell, limits, encoding)
            if problem:
                where = f"column {position}" + (f" ({columns[position - 1]!r})" if position <= width else "")
                shown = [_visible(c, limits) for c in cells]
                return Row(number, {}, f"{name} row {number}: {problem} at {where}", shown)
    if len(cells) != width:
        return Row(number, {}, f"{name} row {number}: {len(cells)} fields, the header has {width}", cells)
    return Row(number, dict(zip(columns, cells)))


def _lines(raw: bytes, encoding: str) -> Iterator[str]:
    """Each physical line decoded on its own, undecodable bytes marked (see ``_MARK``).

    Splitting before decoding is safe for every encoding read here: in UTF-8, GB18030 and
    CP932 a line feed byte is never part of a multi-byte character."""
    decoder = codecs.getincrementaldecoder(encoding)(_MARK)  # utf-8-sig: the BOM only once
    for line in raw.splitlines(keepends=True):
        yield decoder.decode(line)
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


def _binary(raw: bytes) -> bool:
    """NUL bytes in the first line or in more than 1% of the start: binary or UTF-16, no table
    (a NUL in a few rows further down is those rows' problem)."""
    head = raw[:SAMPLE_BYTES]
    first_line = head.split(b"\n", 1)[0]
    return b"\x00" in first_line or head.count(b"\x00") * 100 > len(head)


def _csv(name: str, raw: bytes, fmt: TableFormat, limits: Limits) -> Table:
    if _binary(raw):
        raise FileFormatError(f"{name}: contains NUL bytes: binary data, not a text table")
    try:
        encoding = detect(raw) if fmt.encoding == "detect" else fmt.encoding
    except EncodingUnknown as exc:
        raise FileFormatError(f"{name}: cannot tell the text encoding: {exc}") from None
    lines = raw.count(b"\n") + (not raw.endswith(b"\n"))
    if lines - fmt.header_row > limits.max_rows:
        raise FileFormatError(
            f"{name}: {lines:,} lines, more than the limit of {limits.max_rows:,} rows (HUB_FILE_MAX_ROWS)"
        )
    reader = csv.reader(_lines(raw, encoding), delimiter=fmt.delimiter)
    number = 0
    try:
        for number, cells in enumerate(reader, 1):  # noqa: B007 - the header row, used below
            if number == fmt.header_row:
                break
        else:
            raise FileFormatError(f"{name}: only {number} rows, no header at row {fmt.header_row}")
    except csv.Error as exc:
        raise FileFormatError(f"{name} row {number + 1}: {exc}") from None
    cells = [c.removeprefix("\ufeff") for c in cells]
    for position, cell in enumerate(cells, 1):
        if _cell_problem(cell, limits, encoding):
            raise FileFormatError(
                f"{name}: header row {number}: column {position}: {_cell_problem(cell, limits, encoding)}"
            )
    columns = _header(name, number, cells)

    def rows() -> Iterator[Row]:
        current = number
        try:
            for current, cells in enumerate(reader, number + 1):
                row = _shape(name, current, columns, cells, limits, encoding)
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


def check_zip(name: str, raw: bytes, limits: Limits) -> None:
    """Refuse an XLSX whose zip directory promises more than the limits, before decompressing.

    ``zipfile`` reads a member only up to the size the directory declares (and then fails its
    CRC), so the declared sizes bound what openpyxl can be made to expand."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileFormatError(f"{name}: not an XLSX workbook: {exc}") from None
    if len(members) > limits.xlsx_max_members:
        raise FileFormatError(
            f"{name}: {len(members):,} members in the workbook's zip, more than the "
            f"limit of {limits.xlsx_max_members:,} (HUB_XLSX_MAX_MEMBERS)"
        )
    total = 0
    for member in members:
        size, packed = member.file_size, max(member.compress_size, 1)
        if size > Limits.RATIO_FLOOR and size / packed > limits.xlsx_max_compression_ratio:
            raise FileFormatError(
                f"{name}: {member.filename} is compressed {size / packed:,.0f} to 1 "
                f"({packed:,} → {size:,} bytes), more than the limit of "
                f"{limits.xlsx_max_compression_ratio:,.0f} (HUB_XLSX_MAX_COMPRESSION_RATIO): "
                f"a zip bomb, not an export"
            )
        if size > limits.xlsx_max_member_bytes:
            raise FileFormatError(
                f"{name}: {member.filename} unpacks to {size:,} bytes, more than the limit "
                f"of {limits.xlsx_max_member_bytes:,} (HUB_XLSX_MAX_MEMBER_BYTES)"
            )
        total += size
    if total > limits.xlsx_max_uncompressed_bytes:
        raise FileFormatError(
            f"{name}: unpacks to {total:,} bytes, more than the limit of "
            f"{limits.xlsx_max_uncompressed_bytes:,} (HUB_XLSX_MAX_UNCOMPRESSED_BYTES)"
        )


def _xlsx(name: str, raw: bytes, fmt: TableFormat, limits: Limits) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    check_zip(name, raw, limits)
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileFormatError(f"{name}: not an XLSX workbook: {exc}") from None
    if fmt.sheet is not None and fmt.sheet not in book.sheetnames:
        book.close()
        raise FileFormatError(f"{name}: no sheet {fmt.sheet!r} (sheets: {', '.join(book.sheetnames)})")
    sheet = book[fmt.sheet] if fmt.sheet else book.worksheets[0]
    declared = sheet.max_row  # from the sheet's <dimension>, when it has one
    if declared is not None and declared - fmt.header_row > limits.max_rows:
        book.close()
        raise FileFormatError(
            f"{name}: {declared:,} rows, more than the limit of {limits.max_rows:,} (HUB_FILE_MAX_ROWS)"
        )
    cells = sheet.iter_rows(min_row=1, values_only=True)
    number = 0
    for number, values in enumerate(cells, 1):  # noqa: B007 - the header row, used below
        if number == fmt.header_row:
            break
    else:
        book.close()
        raise FileFormatError(f"{name}: only {number} rows, no header at row {fmt.header_row}")
    columns = _header(name, number, [_cell(v) for v in values])
    last = fmt.header_row + limits.max_rows

    def rows() -> Iterator[Row]:
        try:
            for current, values in enumerate(cells, number + 1):
                if current > last:  # a sheet whose <dimension> understated its size
                    raise FileFormatError(
                        f"{name}: more than the limit of {limits.max_rows:,} rows "
                        f"(HUB_FILE_MAX_ROWS); rows after {last} not read"
                    )
                texts = [_cell(v) for v in values]
                texts += [""] * (len(columns) - len(texts))  # a sheet's row ends at its last cell
                row = _shape(name, current, columns, texts, limits)
                if row is not None:
                    yield row
        finally:
            book.close()

    return Table(columns, rows(), None)
