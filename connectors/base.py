"""The connector contract: all a system must offer for the hub to sync with it.

A connector knows one protocol and nothing of the hub's tables. It lists its streams, reads a
stream in pages of records changed since a cursor, may read one record by id (``read_one``,
used to replay a dead letter with the record's current state), writes one record idempotently (the hub
passes the external id it already links, if any), and says whether the system is healthy.
Mapping to canonical fields, links, retries of whole runs, dead letters and cursors are the
sync engine's (``hub.sync.engine``), so a connector stays small.

Each connector declares its ``Settings`` and ``Secrets`` (pydantic models, ``connectors.settings``):
they are checked when a connection is added and parsed when the connector is built
(``self.options``, ``self.credentials``); ``self.settings`` / ``self.secrets`` keep the plain
mappings as stored (the hub's own keys, such as ``lanes``, are read from there).

Third parties register a connector class under the entry point group ``concord.connectors``
(``[project.entry-points."concord.connectors"] mysystem = "pkg.module:MyConnector"``).
"""

from __future__ import annotations

import abc
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from connectors.settings import (
    ConnectorSecrets,
    ConnectorSettings,
    OpenSecrets,
    OpenSettings,
    parse,
)

#: The repository's own ``mappings/``: where a connector's YAML is found when nothing says where.
BUNDLED_MAPPINGS = Path(__file__).resolve().parent.parent / "mappings"


@dataclass(frozen=True, slots=True)
class Stream:
    """One kind of record a system offers, e.g. ``customers`` or ``invoices``."""

    name: str
    entity: str  # the hub entity it feeds: customer, order, shipment, invoice, payment, …
    #: ``time``: ISO-8601 timestamps (overlapped on each read); ``sequence``: increasing ids.
    cursor: Literal["time", "sequence"] = "time"
    #: Records come sorted by cursor, so the cursor may advance page by page.
    ordered: bool = True
    writable: bool = False
    #: Each record comes at most once per read (with one change stamp): a second copy means
    #: the system's paging is unstable, and the run fails (``hub.sync.checks``). False where
    #: a record may come twice legitimately (the same customer in two dropped files).
    unique_ids: bool = True


@dataclass(frozen=True, slots=True)
class SourceRecord:
    external_id: str
    data: Mapping[str, Any]
    #: This record's cursor value (its change time or sequence), as text that sorts correctly.
    cursor: str | None = None
    version: str | None = None
    #: Set when the connector found a record it could not read (a row of the wrong shape, an
    #: undecodable line): the engine keeps it as a dead letter with this reason, never drops it.
    error: str | None = None


@dataclass(frozen=True, slots=True)
class WriteResult:
    external_id: str
    created: bool
    version: str | None = None
    #: False when the system already held every value: nothing was written (not counted)
    changed: bool = True


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    detail: str
    latency_ms: float | None = None


def config_file(settings: Mapping[str, Any], folder: str, name: str) -> Path:
    """A connector's own YAML (a SOAP service, SQL tables, a file layout): a path ending in
    ``.yaml``, or a name under ``<mappings_dir>/<folder>/`` — the engine passes its mappings
    folder in ``settings["mappings_dir"]``; outside a sync, ``HUB_MAPPINGS_DIR``, else
    ``./mappings`` when there is one, else the bundled folder (the hub's own default, read here
    without importing the hub)."""
    if name.endswith((".yaml", ".yml")):
        return Path(name)
    root = settings.get("mappings_dir") or os.environ.get("HUB_MAPPINGS_DIR")
    if not root:
        root = Path("mappings").resolve() if Path("mappings").is_dir() else BUNDLED_MAPPINGS
    return Path(root) / folder / f"{name}.yaml"


class Connector(abc.ABC):
    kind: ClassVar[str]
    #: A class attribute for a fixed protocol (Tryton); a connector configured by YAML (SOAP,
    #: SQL) sets it per instance in ``__init__`` from its settings.
    streams: tuple[Stream, ...]
    #: What a connection of this kind takes (checked at ``hub connections add``); a connector
    #: that declares none takes any setting as given.
    Settings: ClassVar[type[ConnectorSettings]] = OpenSettings
    Secrets: ClassVar[type[ConnectorSecrets]] = OpenSecrets

    def __init__(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        self.settings = settings
        self.secrets = secrets
        kind = getattr(self, "kind", type(self).__name__)
        # a stale name of a stored connection is left out; a bad value is a SettingsError
        self.options: ConnectorSettings = parse(self.Settings, settings, kind=kind, known_only=True)
        self.credentials: ConnectorSecrets = parse(self.Secrets, secrets, kind=kind, what="secret", known_only=True)

    @abc.abstractmethod
    def read(self, stream: str, since: str | None) -> Iterator[list[SourceRecord]]:
        """Pages of records changed since the cursor (all records when ``since`` is None)."""

    def read_one(self, stream: str, external_id: str) -> SourceRecord | None:
        """The record's current state in the system, or None when the system no longer has it.

        Optional (see ``can_read_one``): a replayed dead letter is re-read through it, so what
        goes in is what the system holds now and never a stale stored copy over newer data. A
        connector that cannot fetch one record (a file, a feed) leaves it out; the engine then
        applies the stored copy only if nothing newer went in since."""
        raise NotImplementedError(f"{self.kind} cannot read one record of {stream}")

    @property
    def can_read_one(self) -> bool:
        """Whether this connector implements ``read_one``."""
        return type(self).read_one is not Connector.read_one

    def write(self, stream: str, data: Mapping[str, Any], external_id: str | None) -> WriteResult:
        """Create (``external_id`` None) or update a record; must be safe to retry."""
        raise NotImplementedError(f"{self.kind} cannot write {stream}")

    @abc.abstractmethod
    def check(self) -> Health:
        """Can the hub reach and log in to the system right now?"""

    def acknowledge(self, stream: str, page: list[SourceRecord]) -> None:  # noqa: B027 - optional hook
        """Called once the hub has committed this page (e.g. move a processed file to done/)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; called when a sync ends."""

    def stream(self, name: str) -> Stream:
        for stream in self.streams:
            if stream.name == name:
                return stream
        known = ", ".join(s.name for s in self.streams)
        raise KeyError(f"{self.kind} has no stream {name!r} (streams: {known})")
