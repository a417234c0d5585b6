"""Declarative field maps: a system's record → the hub's canonical fields, from YAML.

A field is a dotted path into the source record (``address.city``, ``lines.0.quantity``), or a
mapping with ``path`` and any of ``transform`` (date, datetime, decimal, int, upper, lower,
strip, phone), ``codes`` (a code list translating the system's values into the hub's coded
choices — an unknown value is an error, never passed through as free text), ``default``,
``required`` and ``each`` (a field map applied to every item of a list, e.g. order lines).
Errors name the stream, the field and the value, so a dead letter says what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, model_validator

from hub.config.loader import ConfigError, load_model

Transform = Literal["date", "datetime", "decimal", "int", "upper", "lower", "strip"]


class MappingError(ValueError):
    """A record does not fit its field map; the message names stream, field and value."""


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    transform: Transform | None = None
    codes: str | None = None
    default: Any = None
    required: bool = False
    each: dict[str, Union[str, "FieldSpec"]] | None = None


class StreamMap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = "id"
    fields: dict[str, str | FieldSpec]


class CodeList(BaseModel):
    """Source value → hub code; ``default`` (if given) stands for values not listed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    values: dict[str, str]
    default: str | None = None


class ConnectorMap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    streams: dict[str, StreamMap]
    codes: dict[str, CodeList] = {}

    @model_validator(mode="after")
    def _codes_exist(self) -> "ConnectorMap":
        missing = sorted(
            {spec.codes for spec in _specs(self) if spec.codes and spec.codes not in self.codes}
        )
        if missing:
            raise ValueError(f"code list(s) {missing} used but not defined under `codes`")
        return self

    def apply(self, stream: str, record: Mapping[str, Any]) -> dict[str, Any]:
        spec = self.streams.get(stream)
        if spec is None:
            raise MappingError(f"no field map for stream {stream!r}")
        return _apply_fields(spec.fields, record, self.codes, stream)


def _specs(cmap: ConnectorMap) -> list[FieldSpec]:
    out: list[FieldSpec] = []

    def walk(fields: Mapping[str, str | FieldSpec]) -> None:
        for value in fields.values():
            if isinstance(value, FieldSpec):
                out.append(value)
                if value.each:
                    walk(value.each)

    for stream in cmap.streams.values():
        walk(stream.fields)
    return out


_MISSING = object()


def get_path(record: Any, path: str) -> Any:
    if "." not in path and isinstance(record, dict):  # the common case, kept cheap
        return record.get(path)
    value = record
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif isinstance(value, (list, tuple)) and part.isdigit():
            index = int(part)
            value = value[index] if index < len(value) else _MISSING
        else:
            value = _MISSING
        if value is _MISSING or value is None:
            return None
    return value


def _transform(kind: Transform, value: Any) -> Any:
    if kind == "decimal":
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise ValueError("not a decimal number") from None
    if kind == "int":
        return int(value)
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if kind == "datetime":
        stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)
    text = str(value)
    return {"upper": text.upper, "lower": text.lower, "strip": text.strip}[kind]()


def _apply_fields(
    fields: Mapping[str, str | FieldSpec], record: Mapping[str, Any],
    codes: Mapping[str, CodeList], where: str,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in fields.items():
        if isinstance(spec, str):
            out[name] = get_path(record, spec)
            continue
        value = get_path(record, spec.path)
        if value is None or value == "":
            if spec.required and spec.default is None:
                raise MappingError(f"{where}: {name} is required but {spec.path!r} is empty")
            out[name] = spec.default
            continue
        if spec.each is not None:
            if not isinstance(value, (list, tuple)):
                raise MappingError(f"{where}: {name}: {spec.path!r} is not a list")
            out[name] = [
                _apply_fields(spec.each, item, codes, f"{where}.{name}[{i}]")
                for i, item in enumerate(value)
            ]
            continue
        if spec.transform:
            try:
                value = _transform(spec.transform, value)
            except (ValueError, TypeError) as exc:
                raise MappingError(f"{where}: {name}: {value!r} is {exc}") from None
        if spec.codes:
            table = codes[spec.codes]
            code = table.values.get(str(value), table.default)
            if code is None:
                raise MappingError(
                    f"{where}: {name}: {value!r} is not in code list {spec.codes!r} "
                    f"(known: {', '.join(sorted(table.values))})"
                )
            value = code
        out[name] = value
    return out


def load_connector_map(mappings_dir: Path, name: str) -> ConnectorMap:
    """``mappings/connectors/<name>.yaml``; errors name file, line and field."""
    path = mappings_dir / "connectors" / f"{name}.yaml"
    if not path.exists():
        raise ConfigError(path, [(None, "", "no such mapping file")])
    return load_model(path, ConnectorMap)
