"""Declarative field maps: a system's record → the hub's canonical fields, from YAML.

A field is a dotted path into the source record (``address.city``, ``lines.0.quantity``), or a
mapping with ``path`` and any of ``transform`` (date, datetime, decimal, int, upper, lower,
strip, phone), ``codes`` (a code list translating the system's values into the hub's coded
choices — an unknown value is an error, never passed through as free text), ``default``,
``required`` and ``each`` (a field map applied to every item of a list, e.g. order lines).
Errors name the stream, the field and the value, so a dead letter says what to fix.

The left side of each field is a field of the stream's canonical record (``hub.canonical``:
the stream's ``entity``, or the one its name stands for, ``orders`` → order); a code list's
targets are codes of that field's code list. Loading a map checks both and names file, line
and field (``hub.config.checked``), so ``totl:`` or a state mapped to ``delivered`` stops the
map from loading instead of silently dropping the total or never reaching a stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from hub.canonical import RECORDS, STREAMS, code_list, describe, item_model
from hub.config.checked import Problem, load_checked
from hub.config.loader import ConfigError

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
    each: dict[str, str | FieldSpec] | None = None


class StreamMap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The canonical entity the stream feeds; by default the one its name stands for
    #: (hub.canonical.STREAMS: ``orders`` → order).
    entity: str | None = None
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

    def problems(self) -> list[Problem]:
        """Every field the map fills that its canonical record lacks, every code list target
        that is no code of its field, every coded field filled without a code list, and every
        code list used but not defined: each with its place in the file."""
        out: list[Problem] = []
        used: dict[str, list[tuple[str, type[StrEnum]]]] = {}
        for name, stream in self.streams.items():
            entity = stream.entity or STREAMS.get(name)
            if entity is None:
                message = (
                    f"stream {name!r} feeds no canonical entity by its name; say which with `entity:` "
                    f"({', '.join(RECORDS)})"
                )
                out.append((("streams", name), message))
            elif entity not in RECORDS:
                out.append((("streams", name, "entity"), f"unknown entity {entity!r} (entities: {', '.join(RECORDS)})"))
            else:
                out += _field_problems(
                    RECORDS[entity], entity, name, stream.fields, ("streams", name, "fields"), self.codes, used
                )
        for list_name, users in used.items():
            table = self.codes.get(list_name)
            if table is None:
                continue  # reported where it is used
            for enum in dict.fromkeys(e for _, e in users):
                where = ", ".join(w for w, e in users if e is enum)
                allowed = {member.value for member in enum}
                for source, code in table.values.items():
                    if code not in allowed:
                        out.append(
                            (
                                ("codes", list_name, "values", source),
                                f"{code!r} is no hub code of {describe(enum)}, for {where}",
                            )
                        )
                if table.default is not None and table.default not in allowed:
                    out.append(
                        (
                            ("codes", list_name, "default"),
                            f"{table.default!r} is no hub code of {describe(enum)}, for {where}",
                        )
                    )
        return out

    def apply(self, stream: str, record: Mapping[str, Any]) -> dict[str, Any]:
        spec = self.streams.get(stream)
        if spec is None:
            raise MappingError(f"no field map for stream {stream!r}")
        return _apply_fields(spec.fields, record, self.codes, stream)


def _field_problems(
    model: type[BaseModel],
    what: str,
    stream: str,
    fields: Mapping[str, str | FieldSpec],
    loc: tuple[Any, ...],
    codes: Mapping[str, CodeList],
    used: dict[str, list[tuple[str, type[StrEnum]]]],
) -> list[Problem]:
    """The problems of one field map (a stream's, or an ``each`` of its items) against ``model``."""
    out: list[Problem] = []
    for name, spec in fields.items():
        here = loc + (name,)
        if name not in model.model_fields:
            out.append((here, f"{what} has no field {name!r} (fields: {', '.join(model.model_fields)})"))
            continue
        enum = code_list(model, name)
        if isinstance(spec, FieldSpec) and spec.each is not None:
            item = item_model(model, name)
            if item is None:
                out.append((here + ("each",), f"{what}.{name} is no list of items: `each` does not apply"))
            else:
                out += _field_problems(item, f"{what}.{name}", stream, spec.each, here + ("each",), codes, used)
        if isinstance(spec, FieldSpec) and spec.codes:
            if spec.codes not in codes:
                message = (
                    f"code list {spec.codes!r} is used but not defined under `codes` "
                    f"(defined: {', '.join(codes) or 'none'})"
                )
                out.append((here + ("codes",), message))
            if enum is None:
                out.append((here + ("codes",), f"{what}.{name} is no coded field: a code list does not apply"))
            else:
                used.setdefault(spec.codes, []).append((f"{stream}.{name}", enum))
                if spec.default is not None and str(spec.default) not in {m.value for m in enum}:
                    out.append((here + ("default",), f"{spec.default!r} is no hub code of {describe(enum)}"))
        elif enum is not None:
            message = (
                f"{what}.{name} takes the hub's codes of {describe(enum)}: map it through a code list "
                "(`codes:`), or the system's values go in as free text"
            )
            out.append((here, message))
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
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    text = str(value)
    return {"upper": text.upper, "lower": text.lower, "strip": text.strip}[kind]()


def _apply_fields(
    fields: Mapping[str, str | FieldSpec],
    record: Mapping[str, Any],
    codes: Mapping[str, CodeList],
    where: str,
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
            out[name] = [_apply_fields(spec.each, item, codes, f"{where}.{name}[{i}]") for i, item in enumerate(value)]
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
    return load_checked(path, ConnectorMap)
