"""Writing many rows at once, in the session's transaction, as fast as the database allows.

On PostgreSQL rows go in with ``COPY`` (ids taken from the table's sequence first, when the
caller needs them): a multi-row ``INSERT`` of a few thousand rows spends more time building
and parsing its SQL than the server spends storing the rows. Elsewhere (SQLite) a plain
``executemany`` is already fast. Both paths write in the caller's transaction, so a page and
its links and outbox events still commit together or not at all.

Looking many rows up by key is the other half of a set-wise page: ``any_of`` sends the keys as
one array parameter on PostgreSQL, where an ``IN`` of a thousand binds costs more to render and
parse than the index lookups it asks for.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import orjson
import psycopg
from sqlalchemy import JSON, ColumnElement, Table, any_, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from hub.db import Base


@dataclass(frozen=True, slots=True)
class Dumped:
    """A JSON column's value together with its JSON text, for a caller that serialised it
    already (to hash it): COPY sends the text instead of serialising the value again."""

    value: Any
    text: str


def any_of(
    session: Session, column: ColumnElement[Any] | InstrumentedAttribute[Any], values: Collection[Any]
) -> ColumnElement[bool]:
    """``column`` is one of ``values``: ``= ANY(array)`` on PostgreSQL, ``IN (...)`` elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def insert_rows(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]], *, ids: bool = False, analyze: bool = True
) -> list[int]:
    """Insert the rows; with ``ids``, return their new primary keys in the rows' order.

    ``analyze=False`` is for append-only tables nothing looks up by key while a sync runs
    (the audit trail, outbox events): their statistics can wait for autovacuum."""
    if not rows:
        return []
    table: Table = model.__table__  # type: ignore[assignment]
    if session.get_bind().dialect.name != "postgresql":
        rows = [{k: v.value if isinstance(v, Dumped) else v for k, v in row.items()} for row in rows]
        if ids:
            return list(session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))
        session.execute(insert(table), rows)
        return []
    new_ids: list[int] = []
    if ids:
        new_ids = reserve_ids(session, model, len(rows))
        rows = [{**row, "id": new_id} for row, new_id in zip(rows, new_ids, strict=True)]
    _copy(session, table, rows)
    if analyze:
        _keep_statistics_fresh(session, table.name, len(rows))
    return new_ids


def reserve_ids(session: Session, model: type[Base], n: int) -> list[int]:
    """``n`` new primary keys of ``model``'s table, ascending, for rows the caller writes
    later with ``insert_rows`` (rows that must name each other before either is written).

    PostgreSQL hands them out from the table's sequence. SQLite has none: the ids after the
    largest one, which is what SQLite itself would give; a writer that takes them first makes
    the insert fail on the primary key (SQLite has one writer at a time, so only a writer of
    another transaction between this call and the insert can)."""
    if n == 0:
        return []
    table: Table = model.__table__  # type: ignore[assignment]
    if session.get_bind().dialect.name != "postgresql":
        last = session.scalar(select(func.max(table.c.id))) or 0
        return list(range(last + 1, last + 1 + n))
    # the sequence resolved once: pg_get_serial_sequence() per row costs 6x the nextval()s
    sequence = session.scalar(text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name})
    return list(
        session.scalars(
            text("SELECT nextval(CAST(:sequence AS regclass)) FROM generate_series(1, :n)"),
            {"sequence": sequence, "n": n},
        )
    )


def update_rows(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """Set each row's columns on the row of its ``id`` (every row names the same columns).

    On PostgreSQL one statement over one JSON document (``json_to_recordset``): an
    executemany runs one UPDATE per row, and arrays of text parameters cost psycopg a
    regular-expression escape per element. Elsewhere an executemany."""
    if not rows:
        return
    table: Table = model.__table__  # type: ignore[assignment]
    names = [name for name in rows[0] if name != "id"]
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        kinds = ", ".join(f'"{name}" {table.c[name].type.compile(dialect=dialect)}' for name in ("id", *names))
        sets = ", ".join(f'"{name}" = v."{name}"' for name in names)
        session.execute(
            text(
                f'UPDATE "{table.name}" AS t SET {sets} '
                f"FROM json_to_recordset(CAST(:rows AS json)) AS v({kinds}) WHERE t.id = v.id"
            ),
            {"rows": json_text(list(rows))},
        )
        return
    session.execute(
        update(table).where(table.c.id == bindparam("v_id")).values({name: bindparam(f"v_{name}") for name in names}),
        [{f"v_{name}": value for name, value in row.items()} for row in rows],
    )


#: (database, table) → (rows inserted since the last ANALYZE, rows at that ANALYZE), this process
_growth: dict[tuple[str, str], tuple[int, int]] = {}


def _keep_statistics_fresh(session: Session, table: str, inserted: int) -> None:
    """ANALYZE a table once it has doubled (and grown by at least 1,000 rows) since the last one.

    A first sync fills empty tables faster than autovacuum re-plans them: with statistics that
    still say "empty", PostgreSQL looks a page's links up by (system, entity) and filters the
    external ids row by row, so each page scans every link so far and the sync slows down
    quadratically. Analysing at each doubling keeps the lookups on the index, at a logarithmic
    cost (each ANALYZE samples at most 30,000 rows, so a late one costs no more than an early one).
    """
    key = (str(session.get_bind().engine.url), table)
    grown, base = _growth.get(key, (0, 0))
    grown += inserted
    if grown >= max(1000, base):
        session.execute(text(f'ANALYZE "{table}"'))
        base, grown = base + grown, 0
    _growth[key] = (grown, base)


def _copy(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    names = list(dict.fromkeys(name for row in rows for name in row))
    as_json = {name for name in names if isinstance(table.c[name].type, JSON)}
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    columns = ", ".join(f'"{name}"' for name in names)
    statement = f'COPY "{table.name}" ({columns}) FROM STDIN'
    try:
        with cursor.copy(statement) as copy:
            for values in _values(rows, names, as_json):
                copy.write_row(values)
    except psycopg.DataError as exc:  # as SQLAlchemy reports it for every other statement
        raise DataError(statement, None, exc) from exc
    except psycopg.IntegrityError as exc:
        raise IntegrityError(statement, None, exc) from exc


def _values(rows: Sequence[dict[str, Any]], names: list[str], as_json: set[str]) -> Iterator[Sequence[Any]]:
    """Each row's values in ``names`` order, JSON columns as text. Rows of one page mostly
    have every column: one ``itemgetter`` call each (a first load copies 250,000 rows; a
    lookup per column in Python was a tenth of its writing)."""
    take = itemgetter(*names)
    single = len(names) == 1
    positions = [i for i, name in enumerate(names) if name in as_json]
    values: Sequence[Any]
    for row in rows:
        try:
            values = (take(row),) if single else take(row)
        except KeyError:  # a row without some column: None there, as COPY leaves it NULL
            values = tuple(row.get(name) for name in names)
        if positions:
            values = list(values)
            for i in positions:
                values[i] = json_text(values[i])
        yield values


#: orjson as ``json.dumps(default=str)`` reads: dates, times and dataclasses through ``str``,
#: non-string keys as their text.
_ORJSON = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def json_text(value: Any) -> str:
    """A JSON column's text: what ``json.dumps(value, default=str, ensure_ascii=False)``
    gives once read back, written by orjson. A first load serialises some 50,000 evidence
    lists and records; ``json`` spent a tenth of its time on them, orjson a tenth of that.
    What orjson refuses (an integer beyond 64 bits, a lone surrogate) goes through ``json``,
    which decides as it always did."""
    if isinstance(value, Dumped):
        return value.text
    try:
        return orjson.dumps(value, default=str, option=_ORJSON).decode()
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value, default=str, ensure_ascii=False)
