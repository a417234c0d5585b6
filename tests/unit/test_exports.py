"""Exports people open in a spreadsheet: text never becomes a formula, numbers stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from hub.exports import csv_bytes, flatten, safe_csv_value, table_bytes, xlsx_bytes

DANGEROUS = ['=HYPERLINK("http://x","y")', "+1-2", "@SUM(A1)", "-2+3", "\tx", "\rx"]


def test_csv_text_that_a_spreadsheet_would_run_gets_an_apostrophe_and_numbers_do_not():
    assert [safe_csv_value(v) for v in DANGEROUS] == ["'" + v for v in DANGEROUS]
    assert [safe_csv_value(v) for v in ("ACME", "", "a=b", -600.0, Decimal("-2"), 3, None)] == [
        "ACME",
        "",
        "a=b",
        -600.0,
        Decimal("-2"),
        3,
        None,
    ]
    rows = list(
        csv.reader(io.StringIO(csv_bytes(["customer", "amount"], [[v, -1.5] for v in DANGEROUS]).decode("utf-8-sig")))
    )
    assert rows[0] == ["customer", "amount"]
    assert all(r[0].startswith("'") and r[1] == "-1.5" for r in rows[1:])


def test_xlsx_text_is_a_string_cell_kept_exactly_and_numbers_and_dates_stay_typed():
    book = load_workbook(
        io.BytesIO(
            xlsx_bytes(["customer", "amount", "due"], [[v, -2.5, date(2026, 1, 16)] for v in DANGEROUS], "=evil")
        )
    )
    sheet = book.active
    names = [sheet.cell(row=r, column=1) for r in range(2, len(DANGEROUS) + 2)]
    assert [c.value for c in names] == DANGEROUS and {c.data_type for c in names} == {"s"}
    assert all(c.quotePrefix for c in names)  # editing the cell in Excel keeps it text, too
    amount, due = sheet.cell(row=2, column=2), sheet.cell(row=2, column=3)
    assert (amount.data_type, amount.value) == ("n", -2.5) and due.is_date


def test_report_rows_with_nested_values_become_dotted_columns():
    rows = [{"order": "SO-1", "alert": None}, {"order": "=SO-2", "alert": {"id": 7, "level": 2}}]
    assert flatten(rows) == (
        ["order", "alert", "alert.id", "alert.level"],
        [["SO-1", None, None, None], ["=SO-2", None, 7, 2]],
    )
    text = table_bytes(rows, "csv").decode("utf-8-sig").splitlines()
    assert text == ["order,alert,alert.id,alert.level", "SO-1,,,", "'=SO-2,,7,2"]


def test_exports_are_typed_dates_as_dates_amounts_with_two_decimals():
    """Issue 16: finance opens the export in a spreadsheet and sums, sorts and filters it."""
    import io

    import openpyxl

    from hub.exports import table_bytes

    rows = [{"stage": "delivery", "due_date": "2026-10-20", "outstanding": 126.1, "orders": 3}]
    sheet = openpyxl.load_workbook(io.BytesIO(table_bytes(rows, "xlsx"))).active
    stage, due, outstanding, orders = sheet[2]
    assert due.is_date and due.value.date().isoformat() == "2026-10-20" and due.number_format == "yyyy-mm-dd"
    assert (
        outstanding.data_type == "n" and float(outstanding.value) == 126.1 and outstanding.number_format == "#,##0.00"
    )
    assert orders.value == 3 and stage.data_type == "s"
    text = table_bytes(rows, "csv").decode("utf-8-sig")
    assert text.splitlines()[1] == "delivery,2026-10-20,126.10,3"
