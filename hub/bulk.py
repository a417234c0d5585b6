"""Writing many rows at once, in the session's transaction, as fast as the database allows.

On PostgreSQL rows go in with ``COPY`` (ids taken from the table's sequence first, when the
caller needs them): a multi-row ``INSERT`` of a few thousand rows spends more time building
and parsing its SQL than the server spends storing the rows. Elsewhere (SQLite) a plain
``executemany`` is already fast. Both paths write in the caller's transaction, so a page and
its links and outbox events still commit together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy import JSON, Table, insert, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from hub.db import Base


def insert_rows(session: Session, model: type[Base], rows: Sequence[dict[str, Any]], *, ids: bool = False) -> list[int]:
    """Insert the rows; with ``ids``, return their new primary keys in the rows' order."""
    if not rows:
        return []
    table: Table = model.__table__  # type: ignore[assignment]
    if session.get_bind().dialect.name != "postgresql":
        if ids:
            return list(session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))
        session.execute(insert(table), rows)
        return []
    new_ids: list[int] = []
    if ids:
        new_ids = list(session.scalars(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table.name, "n": len(rows)},
        ))
        rows = [{**row, "id": new_id} for row, new_id in zip(rows, new_ids, strict=True)]
    _copy(session, table, rows)
    _keep_statistics_fresh(session, table.name, len(rows))
    return new_ids


#: (database, table) → (rows inserted since the last ANALYZE, rows at that ANALYZE), this process
_growth: dict[tuple[str, str], tuple[int, int]] = {}


def _keep_statistics_fresh(session: Session, table: str, inserted: int) -> None:
    """ANALYZE a table once it has grown by a fifth (at least 1,000 rows) since the last one.

    A first sync fills empty tables faster than autovacuum re-plans them: with statistics that
    still say "empty", PostgreSQL looks a page's links up by (system, entity) and filters the
    external ids row by row, so each page scans every link so far and the sync slows down
    quadratically. Analysing at each fifth of growth keeps the lookups on the index, at a
    logarithmic cost.
    """
    key = (str(session.get_bind().url), table)
    grown, base = _growth.get(key, (0, 0))
    grown += inserted
    if grown >= max(1000, base // 5):
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
            for row in rows:
                copy.write_row([
                    json.dumps(row.get(n), default=str, ensure_ascii=False) if n in as_json else row.get(n)
                    for n in names
                ])
    except psycopg.DataError as exc:  # as SQLAlchemy reports it for every other statement
        raise DataError(statement, None, exc) from exc
    except psycopg.IntegrityError as exc:
        raise IntegrityError(statement, None, exc) from exc
