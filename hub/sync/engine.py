"""The sync engine: read a connection's streams incrementally and apply them to the hub.

Per (connection, stream) run:

1. take the stream's lease (one run at a time; a crashed run's lease expires) and check the
   connection's circuit breaker;
2. read pages since the cursor minus an overlap window — equal timestamps and clock skew lose
   nothing, and re-read records are recognised as unchanged by their content hash;
3. map each record (``mappings/connectors/<kind>.yaml``) and apply the page: customers set-wise
   to the master, documents set-wise to the document store; a record that fails is kept
   as a dead letter with its payload and error, and the batch goes on;
4. commit each page together with the cursor (for streams read in cursor order; otherwise the
   cursor moves once, after the last page), so the cursor never passes uncommitted records.

A system that is down fails the run (its cursor stays), counts toward the circuit breaker,
and the next run resumes from the last committed page. A run that read a record twice (unstable
paging) or a full read much shorter than the last one fails too, naming what it found, without
flagging records missing (``hub.sync.checks``); neither counts toward the breaker: the system
answered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Self
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from connectors.base import Connector, SourceRecord, Stream
from connectors.errors import ConnectorError, RecordError
from hub.db import as_utc, session_scope, utcnow
from hub.documents.ingest import DocumentStore
from hub.heap import settled_heap
from hub.jsonable import jsonable
from hub.master.ingest import CustomerMaster, RejectedRecord
from hub.master.pages import PageItem
from hub.observability import logs, metrics
from hub.outbox.routes import load_routes
from hub.receivables.scan import refresh as refresh_receivables
from hub.sync.checks import MIN_FULL_READ_RATIO, Seen, short_full_read
from hub.sync.connections import ConnectionService, get_connection
from hub.sync.leases import check_circuit, count_outcome, release_lease, renew_lease, take_lease
from hub.sync.links import Change, get_link, mark_missing
from hub.sync.mapping import ConnectorMap, MappingError
from hub.sync.models import Connection, DeadLetter, SyncCursor, SyncRun
from hub.sync.quarantine import dead_letter
from hub.sync.runs import mark_interrupted

#: Errors that belong to one record: it becomes a dead letter, the run goes on.
RECORD_ERRORS = (MappingError, RejectedRecord, RecordError)

log = logging.getLogger(__name__)


@dataclass
class StreamResult:
    stream: str
    run_id: int
    status: str = "running"
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    missing: int = 0
    error: str | None = None


def since_with_overlap(stream: Stream, cursor: str | None, overlap: timedelta) -> str | None:
    if cursor is None or stream.cursor != "time":
        return cursor
    stamp = as_utc(datetime.fromisoformat(cursor))
    assert stamp is not None
    return (stamp - overlap).isoformat()


def later(a: str | None, b: str | None, kind: str) -> str | None:
    if a is None or b is None:
        return a or b
    if kind == "sequence":
        return a if int(a) >= int(b) else b
    return a if as_utc(datetime.fromisoformat(a)) >= as_utc(datetime.fromisoformat(b)) else b


class SyncStopped(RuntimeError):
    """A run stopped by an error outside the connector's contract (a bug, the connector's or
    the hub's): the run is recorded failed; the message names connection, stream and error."""


class Applier:
    """Applies mapped records to the hub, by the stream's entity."""

    def __init__(self, session: Session, mappings_dir: Path, system: str):
        self.session = session
        self.system = system
        self.master = CustomerMaster(session, mappings_dir)
        self.documents = DocumentStore(session, load_routes(mappings_dir).ownership)

    def __call__(self, entity: str, external_id: str, fields: dict[str, Any], cursor: str | None) -> Change:
        if entity == "customer":
            return self.master.ingest(self.system, external_id, fields, source_updated_at=_when(cursor)).change
        return self.documents.apply(self.system, entity, external_id, fields)

    def many(self, entity: str, page: list[tuple[SourceRecord, dict[str, Any]]]) -> list[Change | Exception]:
        """One outcome per record: its Change, or the error that makes it a dead letter.

        Documents go in as one set-wise page; should the database refuse the page (a value too
        long for its column, say), it is retried record by record so only the culprit fails.
        Customers go in as one set-wise page of the customer master too
        (``CustomerMaster.ingest_many``: each is matched against the store and the page's
        earlier records, and one the database refuses fails alone).
        """
        if entity == "customer":
            outcomes = self.master.ingest_many(
                self.system, [PageItem(r.external_id, f, _when(r.cursor)) for r, f in page]
            )
            return [o if isinstance(o, Exception) else o.change for o in outcomes]
        try:
            with self.session.begin_nested():
                return list(self.documents.apply_many(self.system, entity, [(r.external_id, f) for r, f in page]))
        except (DataError, IntegrityError):
            return [self._one(entity, r, f) for r, f in page]

    def _one(self, entity: str, record: SourceRecord, fields: dict[str, Any]) -> Change | Exception:
        try:
            with self.session.begin_nested():
                return self(entity, record.external_id, fields, record.cursor)
        except RECORD_ERRORS as exc:
            return exc
        except (DataError, IntegrityError) as exc:
            return RecordError(f"the hub's database refused it: {str(exc.orig).splitlines()[0]}")


def _when(cursor: str | None) -> datetime | None:
    return as_utc(datetime.fromisoformat(cursor)) if cursor and "T" in cursor else None


class SyncEngine:
    def __init__(self, database_url: str, mappings_dir: Path, secret_key: str):
        self.database_url = database_url
        self.mappings_dir = mappings_dir
        self.secret_key = secret_key
        #: connectors and field maps come from the connection service, as everywhere
        self.connections = ConnectionService(mappings_dir, secret_key)

    # --- connections -----------------------------------------------------------------------
    def connector(self, connection: Connection) -> Connector:
        return self.connections.connector(connection)

    def _mapping(self, connection: Connection) -> ConnectorMap:
        return self.connections.field_map(connection)

    # --- runs ------------------------------------------------------------------------------
    @settled_heap()
    def sync(
        self,
        name: str,
        streams: Iterable[str] | None = None,
        full: bool = False,
        progress: Callable[[str, int], None] | None = None,
        force: bool = False,
    ) -> list[StreamResult]:
        """Sync the connection's streams (all, or ``streams``); ``full`` reads everything and
        flags records gone from the system, ``force`` even when the full read is much shorter
        than the last one (``hub.sync.checks``)."""
        with session_scope(self.database_url) as session:
            mark_interrupted(session)  # any stream's run whose process was killed
            connection = get_connection(session, name)
            connector = self.connector(connection)
            mapping = self._mapping(connection)
        wanted = list(streams) if streams else [s.name for s in connector.streams]
        results = []
        try:
            for stream_name in wanted:
                with logs.log_context(connection=name, stream=stream_name, run_id=None):  # run_id: set below
                    results.append(
                        self._sync_stream(
                            connection, connector, mapping, connector.stream(stream_name), full, progress, force
                        )
                    )
        finally:
            connector.close()
        return results

    def _sync_stream(
        self,
        connection: Connection,
        connector: Connector,
        mapping: ConnectorMap,
        stream: Stream,
        full: bool,
        progress: Callable[[str, int], None] | None,
        force: bool = False,
    ) -> StreamResult:
        owner = uuid4().hex
        overlap = timedelta(seconds=int(connection.settings.get("overlap_seconds", 300)))
        with session_scope(self.database_url) as session:
            check_circuit(session, connection.id)
            cursor = take_lease(session, connection.id, stream.name, owner)
            run = SyncRun(
                connection_id=connection.id,
                stream=stream.name,
                system=connection.name,
                entity_type=stream.entity,
                source=f"{connection.kind}:{stream.name}",
                full=full,
            )
            session.add(run)
            session.flush()
            result = StreamResult(stream.name, run.id)
            logs.bind(run_id=run.id)  # undone when sync()'s log_context ends
            since = None if full else since_with_overlap(stream, cursor, overlap)
        seen = Seen(unique=stream.unique_ids)
        newest: str | None = None
        try:
            for number, page in enumerate(connector.read(stream.name, since), start=1):
                newest = self._apply_page(connection, mapping, stream, page, result, (seen, number), newest, owner)
                connector.acknowledge(stream.name, page)
                if progress:
                    progress(stream.name, len(page))
            with session_scope(self.database_url) as session:
                result.error = seen.problem(connection.name, stream.name)
                if result.error:  # unstable paging: read it all again next time
                    _advance(session, connection.id, stream.name, cursor, stream.cursor, back=True)
                elif not stream.ordered and newest:
                    _advance(session, connection.id, stream.name, newest, stream.cursor)
                if full and not result.error:
                    ratio = float(connection.settings.get("min_full_read_ratio", MIN_FULL_READ_RATIO))
                    result.error = (
                        None
                        if force
                        else short_full_read(
                            session, connection.id, connection.name, stream.name, stream.entity, len(seen.ids()), ratio
                        )
                    )
                    if not result.error:
                        result.missing = len(mark_missing(session, connection.name, stream.entity, seen.ids()))
                result.status = "failed" if result.error else "done"
                _finish(session, result, connection.id, stream.name, owner, failed=False)
        except BaseException as exc:
            # Whatever stopped the run, it is recorded as failed and the lease is released;
            # the system being unreachable is an outcome, a bug is raised as SyncStopped (saying
            # so, the original chained), an interrupt as itself.
            result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
            with session_scope(self.database_url) as session:
                _finish(session, result, connection.id, stream.name, owner, failed=True)
            if isinstance(exc, Exception) and not isinstance(exc, (ConnectorError, OSError)):
                raise SyncStopped(
                    f"{connection.name} {stream.name}: the sync stopped on an unexpected error: {result.error} "
                    f"(run {result.run_id} is recorded as failed)"
                ) from exc
            if not isinstance(exc, (ConnectorError, OSError)):
                raise
        if stream.entity != "customer" and (result.created or result.updated):
            self._refresh_receivables()
        return result

    def _refresh_receivables(self) -> None:
        """Stages reached and invoices allocated now, not at the next hourly scan.

        After the run is finished and in its own transaction: the run's records are in whatever
        happens here, and should this fail, the hourly scan does the same work."""
        try:
            with session_scope(self.database_url) as session:
                refresh_receivables(session, self.mappings_dir, date.today())
        except Exception:
            log.exception("refreshing receivables after a sync failed; the next scan catches up")

    def _apply_page(
        self,
        connection: Connection,
        mapping: ConnectorMap,
        stream: Stream,
        page: list[SourceRecord],
        result: StreamResult,
        seen: tuple[Seen, int],
        newest: str | None,
        owner: str,
    ) -> str | None:
        with session_scope(self.database_url) as session:
            apply = Applier(session, self.mappings_dir, connection.name)
            mapped: list[tuple[SourceRecord, dict[str, Any]]] = []
            for record in page:
                result.read += 1
                seen[0].add(record, seen[1])
                newest = later(newest, record.cursor, stream.cursor)
                try:
                    if record.error:
                        raise RecordError(record.error)
                    mapped.append((record, mapping.apply(stream.name, record.data)))
                except RECORD_ERRORS as exc:
                    result.failed += 1
                    _dead_letter(session, connection.id, stream.name, record, str(exc), result.run_id)
            for (record, _fields), outcome in zip(mapped, apply.many(stream.entity, mapped), strict=True):
                if isinstance(outcome, Exception):
                    result.failed += 1
                    _dead_letter(session, connection.id, stream.name, record, str(outcome), result.run_id)
                else:
                    setattr(result, outcome.value, getattr(result, outcome.value) + 1)
            if stream.ordered and newest:
                _advance(session, connection.id, stream.name, newest, stream.cursor)
            renew_lease(session, connection.id, stream.name, owner)
            _counts(session, result)
        return newest

    # --- dead letters ----------------------------------------------------------------------
    def replay(self, dead_letter_ids: list[int] | None = None, connection: str | None = None) -> Replayed:
        """Apply open dead letters again with today's mapping: (now in, still failing), and
        ``superseded``, those closed because newer data went in since.

        A stored payload is the record as it was when it failed; applied later it would undo
        whatever changed since (a shipment done meanwhile back to "not shipped"). So the record
        is re-read from its system where the connector can (``Connector.read_one``) and its
        current state goes in; a record the system no longer has stays open, saying so. Where
        the connector cannot re-read, the stored copy goes in only if nothing newer was applied
        since the letter was written (its link untouched since, no newer letter of it open);
        else the letter is closed as superseded, with that reason.
        """
        ok = still = superseded = 0
        connectors: dict[int, Connector] = {}
        try:
            with session_scope(self.database_url) as session:
                query = select(DeadLetter).where(DeadLetter.status == "open").order_by(DeadLetter.id)
                if dead_letter_ids:
                    query = query.where(DeadLetter.id.in_(dead_letter_ids))
                if connection:
                    query = query.where(DeadLetter.connection_id == get_connection(session, connection).id)
                letters = list(session.scalars(query))
                for letter in letters:
                    conn = session.get(Connection, letter.connection_id)
                    assert conn is not None
                    if letter.connection_id not in connectors:
                        connectors[letter.connection_id] = self.connector(conn)
                    outcome = self._replay_one(session, conn, connectors[letter.connection_id], letter)
                    if outcome == "replayed":
                        ok += 1
                    elif outcome == "superseded":
                        superseded += 1
                    else:
                        still += 1
        finally:
            for connector in connectors.values():
                connector.close()
        return Replayed(ok, still, superseded)

    def _replay_one(self, session: Session, conn: Connection, connector: Connector, letter: DeadLetter) -> str:
        """One letter: ``replayed``, ``superseded`` or ``open`` (its error and attempts updated)."""
        stream = connector.stream(letter.stream)
        external_id = letter.external_id or ""
        record: SourceRecord | None
        if connector.can_read_one and external_id:
            try:
                record = connector.read_one(letter.stream, external_id)
            except RecordError as exc:
                return _still_open(letter, str(exc))
            except (ConnectorError, OSError) as exc:
                # the stored copy may be stale; only the system can say what is current
                return _still_open(letter, f"could not re-read it from {conn.name} ({exc}); replay again later")
            if record is None:
                return _still_open(
                    letter, f"no longer in {conn.name}: {letter.stream} {external_id} was not found there"
                )
        else:
            newer = _newer_than(session, conn.name, stream.entity, letter)
            if newer:
                letter.status, letter.resolved_at = "superseded", utcnow()
                letter.error = f"superseded: {newer}; the stored copy was not applied"
                return "superseded"
            record = SourceRecord(external_id, letter.payload["data"], letter.payload.get("cursor"))
        try:
            with session.begin_nested():
                if record.error:
                    raise RecordError(record.error)
                fields = self._mapping(conn).apply(letter.stream, record.data)
                Applier(session, self.mappings_dir, conn.name)(stream.entity, external_id, fields, record.cursor)
        except RECORD_ERRORS as exc:
            # kept as the system holds it now, so the next replay's "newer?" test compares that
            letter.payload = {"data": jsonable(dict(record.data)), "cursor": record.cursor}
            return _still_open(letter, str(exc))
        letter.status, letter.resolved_at = "replayed", utcnow()
        return "replayed"


class Replayed(tuple[int, int]):
    """What a replay did: ``(replayed, still failing)`` as a pair, and ``superseded``, the
    letters closed unapplied because newer data of their record went in since."""

    superseded: int

    def __new__(cls, replayed: int, still: int, superseded: int = 0) -> Self:
        result = super().__new__(cls, (replayed, still))
        result.superseded = superseded
        return result


def _still_open(letter: DeadLetter, error: str) -> str:
    letter.error, letter.attempts = error, letter.attempts + 1
    return "open"


def _newer_than(session: Session, system: str, entity: str, letter: DeadLetter) -> str | None:
    """What newer than the letter's stored copy went in, or None: the record's link updated
    after the letter was written (a later sync applied it), or a newer open letter of it."""
    external_id = letter.external_id or ""
    link = get_link(session, system, entity, external_id)
    written = as_utc(letter.last_seen_at or letter.created_at)  # its copy is the last run's
    assert written is not None
    applied = as_utc(link.updated_at) if link is not None else None
    if applied is not None and applied > written:
        return f"{system} {letter.stream} {external_id} was applied again at {applied.isoformat()}, after this letter"
    later_letter = session.scalar(
        select(DeadLetter.id)
        .where(
            DeadLetter.connection_id == letter.connection_id,
            DeadLetter.stream == letter.stream,
            DeadLetter.external_id == letter.external_id,
            DeadLetter.status == "open",
            DeadLetter.id > letter.id,
        )
        .order_by(DeadLetter.id.desc())
        .limit(1)
    )
    if later_letter is not None:
        return f"dead letter #{later_letter} holds a newer copy of {letter.stream} {external_id}"
    return None


def _advance(
    session: Session, connection_id: int, stream: str, value: str | None, kind: str, back: bool = False
) -> None:
    """Move the stream's cursor up to ``value`` (never down), or with ``back`` set it to
    ``value``: where the run started, when what it read cannot be trusted."""
    cursor = session.scalar(
        select(SyncCursor).where(SyncCursor.connection_id == connection_id, SyncCursor.stream == stream)
    )
    assert cursor is not None
    cursor.value = value if back else later(cursor.value, value, kind)
    cursor.updated_at = utcnow()


def _counts(session: Session, result: StreamResult) -> None:
    run = session.get(SyncRun, result.run_id)
    assert run is not None
    run.read, run.created, run.updated = result.read, result.created, result.updated
    run.unchanged, run.failed, run.missing = result.unchanged, result.failed, result.missing
    run.status, run.error = result.status, result.error


def _finish(session: Session, result: StreamResult, connection_id: int, stream: str, owner: str, failed: bool) -> None:
    _counts(session, result)
    run = session.get(SyncRun, result.run_id)
    assert run is not None
    run.finished_at = utcnow()
    connection = session.get(Connection, connection_id)
    assert connection is not None
    metrics.count_run(connection.name, stream, result)
    log.log(
        logging.WARNING if failed or result.error else logging.INFO,
        "sync run %s: read %d, created %d, updated %d, unchanged %d, failed %d%s",
        result.status,
        result.read,
        result.created,
        result.updated,
        result.unchanged,
        result.failed,
        f" ({result.error})" if result.error else "",
    )
    count_outcome(connection, failed)
    release_lease(session, connection_id, stream, owner)


def _dead_letter(
    session: Session, connection_id: int, stream: str, record: SourceRecord, error: str, run_id: int
) -> None:
    log.warning("dead letter %s: %s", record.external_id, error)
    dead_letter(
        session,
        connection_id=connection_id,
        stream=stream,
        external_id=record.external_id,
        payload={"data": jsonable(dict(record.data)), "cursor": record.cursor},
        error=error,
        run_id=run_id,
    )
