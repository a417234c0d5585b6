"""Which streams exist, found without connecting to anything: for ``hub mappings check``.

A connector declares its streams in one of two ways: as a class attribute (Tryton, the
finance system: fixed protocols), or from a YAML of its own in the mappings folder (a SOAP
service, SQL tables, a file layout) named by a connection setting; the web hook target takes
them from its ``streams`` setting. All of these can be read offline, so a route's stream can
be checked against them before any dispatch: against every kind and service the mappings
folder knows (always), and against the very connection it names when the hub's connections
are at hand (their kind and settings are rows of the database, not files).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.config.loader import ConfigError, load_model


@dataclass(frozen=True, slots=True)
class Offered:
    """A stream some connector offers: what it is called, what it feeds, whether it writes."""

    source: str  # "connector kind tryton", "soap service sugar", …
    stream: str
    entity: str
    writable: bool


def _class_streams(kind: str) -> tuple[Any, ...] | None:
    """A connector class's own ``streams`` (a fixed protocol), or None when it sets them per
    connection, or when no such kind is installed."""
    from connectors.registry import available

    entry = available().get(kind)
    if entry is None:
        return None
    try:
        cls = entry.load()
    except Exception:  # noqa: BLE001 - a broken third-party package: its streams are unknown here
        return None
    streams = next((vars(k)["streams"] for k in cls.__mro__ if "streams" in vars(k)), None)
    return tuple(streams) if isinstance(streams, tuple) else None


def _yaml_streams(kind: str, path: Path) -> list[Offered]:
    """The streams of a SOAP service, SQL tables or file layout file (empty if it does not
    load: ``hub mappings check`` reports that file's own problems)."""
    from connectors.filedrop.layout import FileLayout
    from connectors.soap.service import SoapService
    from connectors.sql.tables import SqlTables

    try:
        if kind == "soap":
            soap = load_model(path, SoapService)
            return [
                Offered(f"soap service {path.stem}", n, s.entity, s.write is not None) for n, s in soap.streams.items()
            ]
        if kind == "sql":
            sql = load_model(path, SqlTables)
            return [
                Offered(f"sql tables {path.stem}", n, s.entity, s.write is not None) for n, s in sql.streams.items()
            ]
        if kind == "files":
            layout = load_model(path, FileLayout)
            return [Offered(f"file layout {path.stem}", n, e, False) for n, e in layout.streams().items()]
    except (ConfigError, OSError):
        return []
    return []


#: Connector kind → (folder of its own YAML under the mappings folder, the setting naming it,
#: its default).
_CONFIGURED = {
    "soap": ("soap", "service", None),
    "sql": ("sql", "tables", None),
    "files": ("files", "files", "crm"),
}


def known_streams(mappings_dir: Path) -> list[Offered]:
    """Every stream any installed connector kind or any service/table/file layout in the
    mappings folder offers."""
    from connectors.registry import available
    from connectors.webhook import DEFAULT_STREAMS

    out: list[Offered] = []
    for kind in sorted(available()):
        streams = _class_streams(kind)
        if streams:
            out += [Offered(f"connector kind {kind}", s.name, s.entity, s.writable) for s in streams]
    out += [Offered("connector kind webhook", n, e, True) for n, e in DEFAULT_STREAMS.items()]
    for kind, (folder, _setting, _default) in _CONFIGURED.items():
        for path in sorted((mappings_dir / folder).glob("*.yaml")):
            out += _yaml_streams(kind, path)
    return out


def connection_streams(kind: str, settings: Mapping[str, Any], mappings_dir: Path) -> list[Offered] | None:
    """The streams one connection offers, from its kind and settings; None when they are known
    only once connected (a third-party kind that builds them in ``__init__``)."""
    from connectors.base import config_file
    from connectors.webhook import DEFAULT_STREAMS

    streams = _class_streams(kind)
    if streams is not None:
        return [Offered(f"connector kind {kind}", s.name, s.entity, s.writable) for s in streams]
    if kind == "webhook":
        names = settings.get("streams") or DEFAULT_STREAMS
        return [Offered("connector kind webhook", n, DEFAULT_STREAMS.get(n, n), True) for n in names]
    if kind in _CONFIGURED:
        folder, setting, default = _CONFIGURED[kind]
        name = settings.get(setting, default)
        if not name:
            return []
        path = config_file({"mappings_dir": str(mappings_dir), **settings}, folder, str(name))
        return _yaml_streams(kind, path)
    return None
