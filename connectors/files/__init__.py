"""CSV and Excel exports: the oldest connector of all, and the one every legacy CRM has."""

from connectors.files.limits import Limits
from connectors.files.reader import FileFormatError
from connectors.files.table import Row, Table, TableFormat, open_table

__all__ = ["FileFormatError", "Limits", "Row", "Table", "TableFormat", "open_table"]
