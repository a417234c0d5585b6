"""The error a file as a whole raises when it cannot be read as a table.

(This module once read files with pandas; its C parser refused a whole file for one row with
an extra field and padded short rows silently, so every reader now goes through
``connectors.files.table``, which sets such rows aside one by one.)
"""

from __future__ import annotations


class FileFormatError(ValueError):
    """The file as a whole cannot be read (not its rows): wrong format, encoding or columns."""
