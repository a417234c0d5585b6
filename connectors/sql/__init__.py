"""A legacy CRM's own database, read and written through SQLAlchemy Core.

Settings (``connectors.sql.settings``): ``url`` (any SQLAlchemy URL, without the password), ``tables`` (a name under
``mappings/sql/`` or a path to a YAML file, see :mod:`connectors.sql.tables`), ``timezone``
(the zone the database's naive date-times are local to; default UTC), ``page_size`` (default
500). Secrets: ``password``, put into the URL object, never into a string that could be logged.

Reading is keyset pagination ordered by (cursor column, id): each page continues after the
last (cursor, id) pair seen, so rows sharing one modified-at second are neither skipped nor
repeated across pages, and no OFFSET scan grows with the table. The engine overlaps time
cursors and recognises re-read rows by content hash. Rows whose modified-at is NULL cannot be
found incrementally; a full read takes them first.

Times: a naive value is local time in ``timezone`` (DST-ambiguous wall times read as their
first occurrence, which the overlap window covers); cursors and date-time values leave the
connector in UTC. A MySQL TIMESTAMP comes back in the session's zone: set ``timezone`` to it.

Limits: a change to a child row (an order line) is seen only when the parent's modified-at
changes too, which is how the legacy CRMs we know behave.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, create_engine, insert, or_, select, update
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError

from connectors.base import Connector, Health, SourceRecord, Stream, WriteResult, config_file
from connectors.config import ConfigError, load_model
from connectors.errors import ConnectorError, RecordError, TransientError
from connectors.sql.settings import SqlSecrets, SqlSettings
from connectors.sql.tables import BoundStream, SqlTables, bind

__all__ = ["SchemaMismatch", "SqlConnector"]


class SchemaMismatch(ConnectorError):
    """The YAML names a table or column the database does not have; the run fails with it."""


class SqlConnector(Connector):
    kind = "sql"

    Settings = SqlSettings
    Secrets = SqlSecrets
    options: SqlSettings
    credentials: SqlSecrets

    def __init__(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        super().__init__(settings, secrets)
        o = self.options
        try:
            url: URL = make_url(o.url)
        except ArgumentError as exc:
            raise ConnectorError(f"sql: setting 'url' is not an SQLAlchemy URL: {exc}") from None
        self.zone = ZoneInfo(o.timezone)  # checked by SqlSettings
        if self.credentials.password:
            url = url.set(password=self.credentials.password)
        self.url = url
        self.where = url.render_as_string(hide_password=True)
        self.tables_file = config_file(settings, "sql", o.tables)
        self.config = load_model(self.tables_file, SqlTables)
        self.page_size = o.page_size
        self.streams = tuple(
            Stream(name, s.entity, cursor=s.incremental.kind, ordered=True, writable=s.write is not None)
            for name, s in self.config.streams.items()
        )
        self._engine: Engine | None = None
        self._bound: dict[str, BoundStream] | None = None

    # --- connection ----------------------------------------------------------------------------
    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """Driver errors as the engine understands them: down → transient, else the record's."""
        try:
            yield
        except (OperationalError, InterfaceError) as exc:
            raise TransientError(f"sql {self.where}: {doing}: {exc.orig or exc}") from None
        except DBAPIError as exc:
            raise ConnectorError(f"sql {self.where}: {doing}: {exc.orig or exc}") from None

    def _db(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.url, pool_pre_ping=True)
        return self._engine

    def _streams(self) -> dict[str, BoundStream]:
        if self._bound is None:
            with self._guard("reading the tables' structure"), self._db().connect() as conn:
                try:
                    self._bound = bind(self.tables_file, self.config, conn)
                except ConfigError as exc:
                    raise SchemaMismatch(f"{exc}\n(database {self.where})") from None
        return self._bound

    def _stream(self, name: str) -> BoundStream:
        self.stream(name)  # an unknown stream is an error naming the known ones
        return self._streams()[name]

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def check(self) -> Health:
        started = time.perf_counter()
        try:
            self._streams()
        except ConnectorError as exc:
            return Health(False, str(exc))
        return Health(
            True,
            f"{self.where}: {len(self.streams)} stream(s) match the database",
            (time.perf_counter() - started) * 1000,
        )

    # --- values --------------------------------------------------------------------------------
    def _aware(self, value: datetime) -> datetime:
        local = value if value.tzinfo else value.replace(tzinfo=self.zone)
        return local.astimezone(UTC)

    def _value(self, value: Any) -> Any:
        return self._aware(value) if isinstance(value, datetime) else value

    def _cursor_of(self, bound: BoundStream, value: Any) -> str | None:
        if value is None:
            return None
        if bound.spec.incremental.kind == "sequence":
            return str(int(value))
        if not isinstance(value, datetime):  # a DATE column as modified-at
            value = datetime.combine(value, datetime.min.time()) if isinstance(value, date) else value
        return self._aware(value).isoformat()

    def _db_time(self, bound: BoundStream, stamp: datetime) -> datetime:
        """An aware time as the cursor column stores it."""
        return stamp.astimezone(self.zone).replace(tzinfo=None) if bound.naive else stamp

    def _key(self, bound: BoundStream, external_id: str) -> Any:
        try:
            return int(external_id) if bound.id.type.python_type is int else external_id
        except NotImplementedError:
            return external_id
        except ValueError:
            raise RecordError(f"{bound.table.name}.{bound.id.name} is a number, not {external_id!r}") from None

    # --- reading -------------------------------------------------------------------------------
    def read(self, stream: str, since: str | None) -> Iterator[list[SourceRecord]]:
        bound = self._stream(stream)
        cursor, ident = bound.cursor, bound.id
        if since is None and bound.spec.incremental.kind == "time":
            yield from self._pages(bound, [cursor.is_(None)], [ident], lambda row: [ident > row[ident.name]])
        lower = []
        if since is not None:
            lower = (
                [cursor > int(since)]
                if bound.spec.incremental.kind == "sequence"
                else [cursor >= self._db_time(bound, datetime.fromisoformat(since))]
            )
        yield from self._pages(
            bound,
            [cursor.is_not(None), *lower],
            [cursor, ident],
            lambda row: [or_(cursor > row[cursor.name], and_(cursor == row[cursor.name], ident > row[ident.name]))],
        )

    def _pages(
        self, bound: BoundStream, where: list[Any], order: list[Any], after: Any
    ) -> Iterator[list[SourceRecord]]:
        """Keyset pages: ``after(last row)`` gives the condition for the next page."""
        query = select(*bound.columns).where(*where).order_by(*order).limit(self.page_size)
        following: list[Any] = []
        while True:
            with self._guard(f"reading {bound.table.name}"), self._db().connect() as conn:
                rows = [dict(r) for r in conn.execute(query.where(*following)).mappings()]
                children = self._children(conn, bound, [r[bound.id.name] for r in rows]) if rows else {}
            if not rows:
                return
            yield [self._record(bound, row, children) for row in rows]
            if len(rows) < self.page_size:
                return
            following = after(rows[-1])

    def _children(self, conn: Any, bound: BoundStream, ids: list[Any]) -> dict[str, dict[Any, list[dict[str, Any]]]]:
        found: dict[str, dict[Any, list[dict[str, Any]]]] = {}
        for key, child in bound.children.items():
            columns = list({c.name: c for c in (child.foreign_key, *child.columns)}.values())
            rows = conn.execute(select(*columns).where(child.foreign_key.in_(ids)).order_by(*child.order_by))
            grouped: dict[Any, list[dict[str, Any]]] = {}
            for row in rows.mappings():
                grouped.setdefault(row[child.foreign_key.name], []).append({k: self._value(v) for k, v in row.items()})
            found[key] = grouped
        return found

    def _record(self, bound: BoundStream, row: dict[str, Any], children: dict[str, Any]) -> SourceRecord:
        ident = row[bound.id.name]
        data = {k: self._value(v) for k, v in row.items()}
        for key, grouped in children.items():
            data[key] = grouped.get(ident, [])
        return SourceRecord(external_id=str(ident), data=data, cursor=self._cursor_of(bound, row[bound.cursor.name]))

    # --- writing -------------------------------------------------------------------------------
    def write(self, stream: str, data: Mapping[str, Any], external_id: str | None) -> WriteResult:
        """Insert (returns the new id) or update by id. A retried update writes the same values;
        a retried insert finds its row by ``match_on`` instead of inserting it twice."""
        bound = self._stream(stream)
        writes = bound.spec.write
        if writes is None:
            raise RecordError(f"sql: stream {stream!r} is not writable (no `write:` in {self.tables_file})")
        allowed = writes.insert if external_id is None else writes.update
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            mode = "insert" if external_id is None else "update"
            raise RecordError(
                f"sql: stream {stream!r} cannot {mode} field(s) {unknown} (`write.{mode}` has {sorted(allowed)})"
            )
        table = bound.table
        values = {allowed[f]: v for f, v in data.items()}
        if writes.touch and bound.spec.incremental.kind == "time" and bound.cursor.name not in values:
            values[bound.cursor.name] = self._db_time(bound, datetime.now(UTC))
        with self._guard(f"writing {table.name}"), self._db().begin() as conn:
            if external_id is not None:
                changed = conn.execute(update(table).where(bound.id == self._key(bound, external_id)).values(values))
                if changed.rowcount == 0:
                    raise RecordError(f"sql: no row {bound.id.name}={external_id!r} in {table.name} to update")
                return WriteResult(external_id, created=False)
            if writes.match_on:
                match = [table.c[writes.insert[f]] == data.get(f) for f in writes.match_on]
                existing = conn.execute(select(bound.id).where(*match).limit(1)).scalar()
                if existing is not None:
                    return WriteResult(str(existing), created=False)
            result = conn.execute(insert(table).values(values))
            new_id = values.get(bound.id.name)
            if new_id is None and bound.id.primary_key and len(table.primary_key.columns) == 1:
                new_id = (result.inserted_primary_key or [None])[0]
            if new_id is None:
                raise RecordError(
                    f"sql: {table.name}.{bound.id.name} is not generated by the database; `write.insert` must fill it"
                )
            return WriteResult(str(new_id), created=True)
