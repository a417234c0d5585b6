"""Read a CSV or XLSX export into rows of text, keeping each row's number in the file.

Everything is read as text (``dtype=str``, no NA guessing): "0049…" must stay a phone number,
"NA" must stay Namibia, and an empty cell is simply absent. Row numbers are the ones a person
sees when opening the file (the header is row 1), so a quarantine reason can point at them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from connectors.files.encoding import EncodingUnknown, detect


class FileFormatError(ValueError):
    """The file as a whole cannot be read (not its rows): wrong format, encoding or columns."""


def detect_encoding(path: Path) -> str:
    try:
        return detect(path.read_bytes())
    except EncodingUnknown as exc:
        raise FileFormatError(f"{path}: cannot tell the text encoding: {exc}") from None


def read_frame(path: Path, encoding: str | None = None, sheet: str | None = None) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(
                path, sheet_name=sheet or 0, dtype=str, keep_default_na=False, engine="openpyxl"
            )
        elif suffix in (".csv", ".txt", ".tsv"):
            frame = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                encoding=encoding or detect_encoding(path),
                sep=None if suffix == ".txt" else ("\t" if suffix == ".tsv" else ","),
                engine="python" if suffix == ".txt" else "c",
            )
        else:
            raise FileFormatError(f"{path}: unsupported file type {suffix!r} (use .csv or .xlsx)")
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, FileFormatError):
            raise
        raise FileFormatError(f"{path}: cannot read the file: {exc}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def read_rows(
    path: Path, encoding: str | None = None, sheet: str | None = None
) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The file's columns and its rows as (row number, {column: text}) pairs."""
    frame = read_frame(path, encoding, sheet)
    columns = list(frame.columns)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for offset, values in enumerate(frame.itertuples(index=False, name=None)):
            yield offset + 2, dict(zip(columns, values))

    return columns, rows()
