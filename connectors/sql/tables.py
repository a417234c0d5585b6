"""``mappings/sql/<name>.yaml``: which tables of a legacy database are which streams.

Table and column names come only from this file, and every one is checked against the real
database when the connector first connects (:func:`bind`), so a typo is an error naming the
YAML file, its line, the stream and the column — never an SQL error halfway through a sync,
and never a name taken from data. Values always travel as bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Column, MetaData, Table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import NoSuchTableError

from connectors.config import ConfigError, line_of, read_yaml

Columns = list[str] | Literal["all"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Incremental(_Model):
    """``time``: a modified-at column (overlapped on each read); ``sequence``: an increasing key
    (new rows only — a table whose rows change needs a modified-at column)."""

    column: str
    kind: Literal["time", "sequence"] = "time"


class Child(_Model):
    """Rows of another table that belong to each record, e.g. an order's lines."""

    table: str
    db_schema: str | None = Field(default=None, alias="schema")
    foreign_key: str  # the child's column holding the parent's id
    columns: Columns = "all"
    order_by: str | None = None  # default: the foreign key only


class Writes(_Model):
    """Canonical field → column, for inserts and for updates by id."""

    insert: dict[str, str] = {}
    update: dict[str, str] = {}
    #: Fields that identify a row already inserted: a retried insert finds it instead of
    #: inserting twice (e.g. the tax id or the hub's own reference).
    match_on: list[str] = []
    #: Set the modified-at column on every write, so other readers of the table see the change.
    touch: bool = True

    @model_validator(mode="after")
    def _match_on_is_inserted(self) -> Writes:
        unknown = [f for f in self.match_on if f not in self.insert]
        if unknown:
            raise ValueError(f"match_on field(s) {unknown} are not in `insert`")
        return self


class TableStream(_Model):
    entity: str
    table: str
    db_schema: str | None = Field(default=None, alias="schema")
    id: str
    incremental: Incremental
    columns: Columns = "all"
    children: dict[str, Child] = {}  # key in the record → child table
    write: Writes | None = None


class SqlTables(_Model):
    streams: dict[str, TableStream] = Field(min_length=1)


@dataclass
class BoundChild:
    table: Table
    foreign_key: Column
    columns: list[Column]
    order_by: list[Column]


@dataclass
class BoundStream:
    """A stream's tables and columns as they exist in the database."""

    spec: TableStream
    table: Table
    id: Column
    cursor: Column
    columns: list[Column]
    children: dict[str, BoundChild] = field(default_factory=dict)

    @property
    def naive(self) -> bool:
        """Does the cursor column hold local times without zone (the legacy norm)?"""
        return not getattr(self.cursor.type, "timezone", False)


class _Binder:
    def __init__(self, path: Path, conn: Connection):
        self.path = path
        self.conn = conn
        self.metadata = MetaData()
        self.problems: list[tuple[tuple[object, ...], str]] = []

    def table(self, loc: tuple[object, ...], stream: str, name: str, schema: str | None) -> Table | None:
        try:
            return Table(name, self.metadata, schema=schema, autoload_with=self.conn)
        except NoSuchTableError:
            where = f"{schema}.{name}" if schema else name
            self.problems.append((loc, f"stream {stream!r}: table {where!r} does not exist in the database"))
            return None

    def column(self, loc: tuple[object, ...], stream: str, table: Table, name: str) -> Column | None:
        if name in table.c:
            return table.c[name]
        self.problems.append(
            (
                loc,
                (
                    f"stream {stream!r}: column {name!r} is not in table {table.name!r} "
                    f"(its columns: {', '.join(table.c.keys())})"
                ),
            )
        )
        return None

    def columns(self, loc: tuple[object, ...], stream: str, table: Table, names: Columns) -> list[Column]:
        if names == "all":
            return list(table.c)
        found = [self.column(loc + (i,), stream, table, n) for i, n in enumerate(names)]
        return [c for c in found if c is not None]


def bind(path: Path, config: SqlTables, conn: Connection) -> dict[str, BoundStream]:
    """Reflect every table the YAML names; raise ConfigError listing every name that is wrong."""
    b = _Binder(path, conn)
    bound: dict[str, BoundStream] = {}
    for name, spec in config.streams.items():
        loc: tuple[object, ...] = ("streams", name)
        table = b.table(loc + ("table",), name, spec.table, spec.db_schema)
        if table is None:
            continue
        id_col = b.column(loc + ("id",), name, table, spec.id)
        cursor = b.column(loc + ("incremental", "column"), name, table, spec.incremental.column)
        columns = b.columns(loc + ("columns",), name, table, spec.columns)
        for mode in ("insert", "update"):
            for fld, column in (getattr(spec.write, mode) if spec.write else {}).items():
                b.column(loc + ("write", mode, fld), name, table, column)
        children = {}
        for key, child in spec.children.items():
            cloc = loc + ("children", key)
            ctable = b.table(cloc + ("table",), name, child.table, child.db_schema)
            if ctable is None:
                continue
            fk = b.column(cloc + ("foreign_key",), name, ctable, child.foreign_key)
            order = b.column(cloc + ("order_by",), name, ctable, child.order_by) if child.order_by else None
            ccols = b.columns(cloc + ("columns",), name, ctable, child.columns)
            if fk is not None:
                children[key] = BoundChild(ctable, fk, ccols, [fk] + ([order] if order is not None else []))
        if id_col is not None and cursor is not None:
            chosen = list({c.name: c for c in (id_col, cursor, *columns)}.values())
            bound[name] = BoundStream(spec, table, id_col, cursor, chosen, children)
    if b.problems:
        _data, positions = read_yaml(path)
        raise ConfigError(path, [(line_of(positions, loc), ".".join(map(str, loc)), msg) for loc, msg in b.problems])
    return bound
