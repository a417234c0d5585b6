"""How big a dropped or imported file may be, before it is refused or a row is set aside.

An XLSX is a zip: 526 KB can hold a 512 MB shared string that openpyxl would expand into
memory for minutes. Its members' sizes are read from the zip's directory and checked before
anything is decompressed (zipfile itself stops at a member's declared size and fails its CRC,
so a directory that lies gains nothing). The values come from the environment the hub's
settings document (``HUB_XLSX_MAX_*``, ``HUB_FILE_MAX_*``, also from ``.env``), read here by
:class:`LimitSettings` so that connectors import nothing from the hub; the defaults are the
same, for callers without settings (unit tests, the library used on its own).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
        """The limits the hub is configured with (the ``HUB_`` environment, as ``hub.settings``)."""
        s = LimitSettings()
        return cls(
            max_rows=s.file_max_rows,
            max_cell_chars=s.file_max_cell_chars,
            xlsx_max_uncompressed_bytes=s.xlsx_max_uncompressed_bytes,
            xlsx_max_member_bytes=s.xlsx_max_member_bytes,
            xlsx_max_compression_ratio=s.xlsx_max_compression_ratio,
            xlsx_max_members=s.xlsx_max_members,
        )


_DEFAULT = Limits()


class LimitSettings(BaseSettings):
    """The ``HUB_FILE_MAX_*`` / ``HUB_XLSX_MAX_*`` variables (``hub.settings`` lists them too)."""

    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore")

    file_max_rows: int = Field(default=_DEFAULT.max_rows, ge=1)
    file_max_cell_chars: int = Field(default=_DEFAULT.max_cell_chars, ge=1)
    xlsx_max_uncompressed_bytes: int = Field(default=_DEFAULT.xlsx_max_uncompressed_bytes, ge=1)
    xlsx_max_member_bytes: int = Field(default=_DEFAULT.xlsx_max_member_bytes, ge=1)
    xlsx_max_compression_ratio: float = Field(default=_DEFAULT.xlsx_max_compression_ratio, gt=1)
    xlsx_max_members: int = Field(default=_DEFAULT.xlsx_max_members, ge=1)
