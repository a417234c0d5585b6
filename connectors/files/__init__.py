"""CSV and Excel exports: the oldest connector of all, and the one every legacy CRM has."""

from connectors.files.reader import FileFormatError, read_rows
from connectors.files.table import Row, Table, TableFormat, open_table

__all__ = ["FileFormatError", "Row", "Table", "TableFormat", "open_table", "read_rows"]
