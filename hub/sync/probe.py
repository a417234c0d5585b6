"""`hub connections test`: is the connection usable, end to end, before a sync relies on it?

A log-in alone says little: a records path that finds nothing, an operation the service does not
have or a field map that fits none of the records all pass it and only show at the first sync.
So besides the connector's own check, the probe reads ONE page of each stream (a full read's
first page; nothing is written or acknowledged) and maps its records with the connection's field
map, and reports per stream how many came and how many would be dead letters.

Every failure is a line that says which side is wrong — ``our configuration`` (a setting, the
field map), ``the connector`` (a bug: it failed outside its contract), or the system's answer as
the connector words it — never a traceback. A connector whose reading has effects (dropped files
move) declares ``sample_pages = False`` and is only checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from connectors.base import Connector, Health
from connectors.errors import ConnectorError
from hub.db import session_scope
from hub.sync.connections import ConnectionConfigError, check_field_map, get_connection
from hub.sync.engine import RECORD_ERRORS, SyncEngine
from hub.sync.leases import close_circuit
from hub.sync.mapping import ConnectorMap
from hub.sync.secrets import SecretsError


@dataclass
class StreamProbe:
    stream: str
    #: records on the first page; None when the page could not be read
    read: int | None = None
    #: of those, records that would be dead letters (the connector's fault or the field map's)
    unfit: int = 0
    first_unfit: str | None = None
    error: str | None = None
    #: why no page was read (a write-only connection, reading would move files …)
    skipped: str | None = None
    #: fields of the field map whose path found nothing in any record of the page (a typo in
    #: a path, or a field this system leaves empty): a finding to look at, not a failure
    empty_fields: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.unfit


@dataclass
class Probe:
    name: str
    health: Health | None = None
    #: our side: the connection's settings or field map
    configuration: str | None = None
    streams: list[StreamProbe] = field(default_factory=list)
    circuit_closed: bool = False

    @property
    def ok(self) -> bool:
        return (
            self.configuration is None
            and self.health is not None
            and self.health.ok
            and all(s.ok for s in self.streams)
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "detail": self.health.detail if self.health else self.configuration,
            "latency_ms": self.health.latency_ms if self.health else None,
            "configuration": self.configuration,
            "streams": [
                {
                    "stream": s.stream,
                    "read": s.read,
                    "unfit": s.unfit,
                    "first_unfit": s.first_unfit,
                    "error": s.error,
                    "skipped": s.skipped,
                    "empty_fields": s.empty_fields,
                }
                for s in self.streams
            ],
        }


def probe(engine: SyncEngine, name: str, session: Session | None = None) -> Probe:
    """Check connection ``name`` and read one page of each stream; KeyError if there is none,
    ``SecretsError`` when its secrets do not open. A successful probe closes its circuit.

    ``session``: the caller's (an API request's), used for the look-up and the breaker; on
    SQLite a second connection could not write while the request holds its lock."""
    result = Probe(name)
    with _scope(engine, session) as looking:
        connection = get_connection(looking, name)
        try:
            field_map = check_field_map(engine.mappings_dir, name, connection.kind, connection.settings)
        except ConnectionConfigError as exc:
            result.configuration, field_map = str(exc), None
        try:
            connector = engine.connector(connection)
        except SecretsError:
            raise
        except ConnectorError as exc:  # raised while building it: a setting is wrong or missing
            result.configuration = result.configuration or f"connection {name!r}: our configuration is wrong: {exc}"
            return result
        except Exception as exc:  # noqa: BLE001 - a connector that cannot even be built says so
            result.configuration = result.configuration or (
                f"connection {name!r}: the {connection.kind} connector could not be set up with these settings: "
                f"{type(exc).__name__}: {exc}"
            )
            return result
    try:
        result.health = _check(connector)
        if result.health.ok:
            result.streams = [_sample(connector, field_map, s.name) for s in connector.streams]
    finally:
        connector.close()
    if result.health.ok:
        with _scope(engine, session) as closing:
            result.circuit_closed = close_circuit(closing, name)  # the system answers: syncs may run again
    return result


@contextmanager
def _scope(engine: SyncEngine, session: Session | None) -> Iterator[Session]:
    if session is not None:
        yield session
        return
    with session_scope(engine.database_url) as own:
        yield own


def _check(connector: Connector) -> Health:
    try:
        return connector.check()
    except ConnectorError as exc:
        return Health(False, str(exc))
    except Exception as exc:  # noqa: BLE001 - reported, never a traceback
        return Health(False, f"the {connector.kind} connector failed on its check: {type(exc).__name__}: {exc}")


def _sample(connector: Connector, field_map: ConnectorMap | None, stream: str) -> StreamProbe:
    """The first page of a full read of ``stream``, mapped; nothing is acknowledged."""
    out = StreamProbe(stream)
    if not getattr(connector, "reads", True):
        out.skipped = "write-only: nothing to read"
        return out
    if not getattr(connector, "sample_pages", True):
        out.skipped = f"not read: reading a {connector.kind} stream has effects; run a sync to read it"
        return out
    pages = connector.read(stream, None)
    try:
        page = next(iter(pages), [])
    except ConnectorError as exc:
        out.error = str(exc)
        return out
    except OSError as exc:
        out.error = f"{stream}: the system could not be reached: {exc}"
        return out
    except Exception as exc:  # noqa: BLE001
        out.error = f"{stream}: the {connector.kind} connector failed reading it: {type(exc).__name__}: {exc}"
        return out
    finally:
        close = getattr(pages, "close", None)
        if close:
            close()
    out.read = len(page)
    found: dict[str, bool] = {}
    for record in page:
        problem = record.error
        if problem is None and field_map is not None:
            try:
                mapped = field_map.apply(stream, record.data)
            except RECORD_ERRORS as exc:
                problem = f"our field map: {exc}"
            else:
                for name, value in mapped.items():
                    found[name] = found.get(name, False) or value not in (None, "", [])
        if problem:
            out.unfit += 1
            out.first_unfit = out.first_unfit or f"{record.external_id}: {problem}"
    if field_map is not None and stream in field_map.streams:
        paths = field_map.streams[stream].fields
        out.empty_fields = [f"{n} ({_path(paths[n])!r})" for n, seen in found.items() if not seen and n in paths]
    return out


def _path(spec: object) -> str:
    return spec if isinstance(spec, str) else str(getattr(spec, "path", spec))
