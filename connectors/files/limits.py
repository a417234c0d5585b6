"""How big a dropped or imported file may be, before it is refused or a row is set aside.

An XLSX is a zip: 526 KB can hold a 512 MB shared string that openpyxl would expand into
memory for minutes. Its members' sizes are read from the zip's directory and checked before
anything is decompressed (zipfile itself stops at a member's declared size and fails its CRC,
so a directory that lies gains nothing). The values come from the hub's settings
(``HUB_XLSX_MAX_*``, ``HUB_FILE_MAX_*``); the defaults here are the same, for callers without
settings (unit tests, the library used on its own).
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    #: Data rows a file may have; a file with more is refused as a whole.
    max_rows: int = 1_000_000
    #: Characters in one cell: Excel's own limit, so anything longer did not come from a spreadsheet.
    max_cell_chars: int = 32_767
    xlsx_max_uncompressed_bytes: int = 200 * MB
    xlsx_max_member_bytes: int = 200 * MB
    #: Checked only for members over ``RATIO_FLOOR``: small XML compresses well and is harmless.
    xlsx_max_compression_ratio: float = 100.0
    xlsx_max_members: int = 10_000

    RATIO_FLOOR = MB

    @classmethod
    def from_settings(cls) -> Limits:
        """The limits the hub is configured with (``hub.settings``)."""
        from hub.settings import get_settings

        s = get_settings()
        return cls(
            max_rows=s.file_max_rows,
            max_cell_chars=s.file_max_cell_chars,
            xlsx_max_uncompressed_bytes=s.xlsx_max_uncompressed_bytes,
            xlsx_max_member_bytes=s.xlsx_max_member_bytes,
            xlsx_max_compression_ratio=s.xlsx_max_compression_ratio,
            xlsx_max_members=s.xlsx_max_members,
        )
