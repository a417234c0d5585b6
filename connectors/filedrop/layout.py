"""``mappings/files/<name>.yaml``: which dropped file feeds which stream, and how to read it."""

from __future__ import annotations

import codecs
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from fnmatch import fnmatchcase
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.files import TableFormat

ValueType = Literal["int", "decimal", "date", "datetime"]


class Lines(BaseModel):
    """Documents exported one row per line (the order's columns repeated on each line): rows
    with the same id, next to each other, become one record with a list of lines."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    into: str = "lines"  # the list's key in the record
    key: str  # the column numbering a line within its document; line id = "<id>/<key>"
    columns: list[str] = Field(min_length=1)


class FilePattern(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    match: str  # a glob on the file name, case-insensitive: "accounts_*.csv"
    stream: str
    entity: str
    id_column: str
    encoding: str = "detect"
    delimiter: str = ","
    header_row: int = Field(default=1, ge=1)
    sheet: str | None = None
    #: Columns that must be in the header besides the id, typed and line columns.
    required: list[str] = []
    #: Columns whose text must parse; the record carries them in ISO form (dates, "1234.56").
    types: dict[str, ValueType] = {}
    date_format: str | None = None  # strptime, e.g. "%d.%m.%Y"; ISO 8601 when unset
    datetime_format: str | None = None
    decimal_comma: bool = False  # "1.234,56"
    lines: Lines | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        if value != "detect":
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(
                    f"unknown encoding {value!r} (e.g. utf-8, utf-8-sig, gb18030, cp932, cp1252, detect)"
                ) from None
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError('a delimiter is one character (use "\\t" for tabs)')
        return value

    @property
    def format(self) -> TableFormat:
        return TableFormat(self.encoding, self.delimiter, self.header_row, self.sheet)

    def needed_columns(self) -> list[str]:
        needed = [self.id_column, *self.required, *self.types]
        if self.lines:
            needed += [self.lines.key, *self.lines.columns]
        return list(dict.fromkeys(needed))

    def matches(self, file_name: str) -> bool:
        return fnmatchcase(file_name.lower(), self.match.lower())

    def parse(self, kind: ValueType, text: str) -> str:
        """The value in canonical text form; ValueError when it is not one."""
        try:
            if kind == "int":
                return str(int(text))
            if kind == "decimal":
                drop, point = (".", ",") if self.decimal_comma else (",", ".")
                return str(Decimal(text.replace(drop, "").replace(" ", "").replace(point, ".")))
            if kind == "date":
                if self.date_format:
                    return datetime.strptime(text, self.date_format).date().isoformat()
                return date.fromisoformat(text).isoformat()
            if self.datetime_format:
                return datetime.strptime(text, self.datetime_format).isoformat()
            return datetime.fromisoformat(text).isoformat()
        except InvalidOperation:
            raise ValueError(text) from None


class FileLayout(BaseModel):
    """Patterns are tried in order; the first that matches a file's name decides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    files: list[FilePattern] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_entity_per_stream(self) -> FileLayout:
        entities: dict[str, str] = {}
        for pattern in self.files:
            if entities.setdefault(pattern.stream, pattern.entity) != pattern.entity:
                raise ValueError(
                    f"stream {pattern.stream!r} feeds {entities[pattern.stream]!r} and {pattern.entity!r}; one entity per stream"
                )
        return self

    def streams(self) -> dict[str, str]:
        """Stream name → entity, in the order of the file (customers before their orders)."""
        return {p.stream: p.entity for p in self.files}

    def pattern_for(self, file_name: str) -> FilePattern | None:
        return next((p for p in self.files if p.matches(file_name)), None)
