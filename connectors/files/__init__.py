"""CSV and Excel exports: the oldest connector of all, and the one every legacy CRM has."""

from connectors.files.reader import FileFormatError, read_rows

__all__ = ["FileFormatError", "read_rows"]
