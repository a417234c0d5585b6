"""CSV and XLSX files people open in a spreadsheet: data never becomes a formula there.

A customer named ``=HYPERLINK("http://x","y")`` (or ``+1-2``, ``@SUM(A1)``, ``-2+3``) is
data from a source system; written as is, a spreadsheet runs it as a formula (CSV injection).
Every export of the hub goes through this module:

- CSV: text starting with ``= + - @``, a tab or a carriage return gets a leading apostrophe
  (OWASP's advice), which spreadsheets show as text and do not evaluate;
- XLSX: text is always written as a string cell (never ``data_type = 'f'``) with the quote
  prefix set, so even editing the cell does not turn it into a formula; the text is kept
  exactly.

Only ``str`` values are touched: numbers (negative amounts too), dates and booleans stay typed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import IO, Any

#: What a spreadsheet reads as the start of a formula (or, tab and CR, of a shifted cell).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_csv_text(value: str) -> str:
    """``value`` as a CSV field a spreadsheet shows as text."""
    return "'" + value if value.startswith(FORMULA_START) else value


def safe_csv_value(value: Any) -> Any:
    """A CSV cell: text neutralised (``safe_csv_text``), anything else unchanged."""
    return safe_csv_text(value) if isinstance(value, str) else value


#: How amounts and dates show in XLSX exports.
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
CENTS = Decimal("0.01")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def write_csv(handle: IO[str], header: Sequence[str] | None, rows: Iterable[Sequence[Any]]) -> int:
    """Write ``header`` (if any) and ``rows`` to an open text file; returns the rows written."""
    writer = csv.writer(handle)
    if header is not None:
        writer.writerow([safe_csv_value(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([safe_csv_value(v) for v in row])
        count += 1
    return count


def csv_bytes(header: Sequence[str] | None, rows: Iterable[Sequence[Any]], *, bom: bool = True) -> bytes:
    """A CSV file in memory (UTF-8, with a BOM by default, which Excel needs to read UTF-8)."""
    out = io.StringIO()
    write_csv(out, header, rows)
    return out.getvalue().encode("utf-8-sig" if bom else "utf-8")


def xlsx_bytes(header: Sequence[str] | None, rows: Iterable[Sequence[Any]], sheet: str = "report") -> bytes:
    """An XLSX workbook of one sheet in memory; text cells are string cells, never formulas."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    assert ws is not None  # a new workbook always has its one sheet
    ws.title = sheet[:31] or "report"
    lines: Iterable[Sequence[Any]] = rows if header is None else [header, *rows]
    for r, row in enumerate(lines, start=1):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            if isinstance(value, str):
                cell.value = value
                cell.data_type = "s"  # openpyxl made "=…" a formula on assignment
                if value.startswith(FORMULA_START):
                    cell.quotePrefix = True
            elif isinstance(value, datetime) and value.tzinfo is not None:
                cell.value = value.replace(tzinfo=None)  # XLSX has no time zones: written as UTC
            else:
                cell.value = value
            if isinstance(value, (Decimal, float)):
                cell.number_format = MONEY_FORMAT
            elif isinstance(value, date) and not isinstance(value, datetime):
                cell.number_format = DATE_FORMAT
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def flatten(rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Report rows (dicts, perhaps with nested dicts such as an alert) as a header and value
    lists: nested keys become ``outer.inner`` columns, in the order they first appear."""

    def items(row: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
        for key, value in row.items():
            if isinstance(value, Mapping):
                yield from items(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}", value

    flat = [dict(items(row)) for row in rows]
    header: dict[str, None] = {}
    for row in flat:
        header.update(dict.fromkeys(row))
    columns = list(header)
    return columns, [[row.get(c) for c in columns] for row in flat]


def typed(value: Any) -> Any:
    """A report value as a spreadsheet should hold it: an amount (the reports' floats) as a
    decimal of two places, an ISO date string as a date; the rest as it is."""
    if isinstance(value, float):
        return Decimal(repr(value)).quantize(CENTS, rounding=ROUND_HALF_UP)
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def table_bytes(rows: Sequence[Mapping[str, Any]], fmt: str, sheet: str = "report") -> bytes:
    """Report rows as ``csv`` or ``xlsx`` bytes: amounts with two decimals (numbers in XLSX,
    ``126.10`` in CSV), dates as dates in XLSX and ISO dates in CSV."""
    header, values = flatten(rows)
    cells = [[typed(v) for v in row] for row in values]
    if fmt == "csv":
        return csv_bytes(header, ([v.isoformat() if isinstance(v, date) else v for v in row] for row in cells))
    if fmt == "xlsx":
        return xlsx_bytes(header, cells, sheet)
    raise ValueError(f"unknown export format {fmt!r}; formats: csv, xlsx")
