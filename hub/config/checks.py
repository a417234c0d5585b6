"""``hub mappings check``: load every mapping the hub knows and report every problem.

What is checked from the files alone: every YAML's shape; field maps against the canonical
records and code lists (``hub.sync.mapping``); ``routes.yaml``'s entities, owned fields and
``when_linked`` references (``hub.outbox.routes``); that each route's ``stream`` and
``report_back`` is a writable stream of the route's entity in some connector kind or some
service, table or file layout of the mappings folder (``hub.config.streams``); that the
streams of those services feed canonical entities. What needs the hub's connections (rows of
its database, not files) is checked when they are given: every system a route names is a
connection, and each target's stream is one that connection's connector offers, writable,
for the route's entity.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hub.config.checked import Problem, load_checked
from hub.config.loader import ConfigError, line_of, read_yaml

#: name → (kind, settings) of each connection of the hub.
Connections = Mapping[str, tuple[str, Mapping[str, Any]]]


def check_all(mappings_dir: Path, connections: Connections | None = None) -> list[str]:
    """One line per problem, each naming file, line and field; empty when all is well."""
    from connectors.filedrop.layout import FileLayout
    from connectors.soap.service import SoapService
    from connectors.sql.tables import SqlTables
    from hub.master.rules import MatchRules, SurvivorshipRules
    from hub.outbox.routes import Routes
    from hub.sync.imports import ImportMapping
    from hub.sync.mapping import ConnectorMap

    targets: list[tuple[Path, type[BaseModel]]] = [
        (mappings_dir / "matching.yaml", MatchRules),
        (mappings_dir / "survivorship.yaml", SurvivorshipRules),
    ]
    targets += [(p, ImportMapping) for p in sorted((mappings_dir / "imports" / "customers").glob("*.yaml"))]
    targets += [(p, ConnectorMap) for p in sorted((mappings_dir / "connectors").glob("*.yaml"))]
    own: tuple[tuple[str, type[BaseModel]], ...] = (
        ("soap", SoapService),
        ("sql", SqlTables),
        ("files", FileLayout),
    )
    for folder, model in own:
        targets += [(p, model) for p in sorted((mappings_dir / folder).glob("*.yaml"))]
    problems: list[str] = []
    for path, model in targets:
        if not path.exists():
            problems.append(f"{path}: missing")
            continue
        try:
            loaded = load_checked(path, model)
        except ConfigError as exc:
            problems.extend(str(exc).splitlines())
            continue
        if isinstance(loaded, (SoapService, SqlTables)):
            problems += _located(path, _entity_problems(loaded.streams))
    routes_file = mappings_dir / "routes.yaml"
    if routes_file.exists():  # optional: without it nothing is routed (hub.outbox.routes)
        try:
            routes = load_checked(routes_file, Routes)
        except ConfigError as exc:
            problems.extend(str(exc).splitlines())
        else:
            problems += _located(routes_file, route_problems(mappings_dir, routes, connections))
    if connections:
        problems += field_map_problems(mappings_dir, connections)
    from hub.receivables.pipeline import check_files

    return problems + check_files(mappings_dir)


def _located(path: Path, found: list[Problem]) -> list[str]:
    if not found:
        return []
    _data, positions = read_yaml(path)
    return str(
        ConfigError(
            path,
            [(line_of(positions, loc), ".".join(str(p) for p in loc), message) for loc, message in found],
        )
    ).splitlines()


def _entity_problems(streams: Mapping[str, Any]) -> list[Problem]:
    """A service's or table file's stream feeding an entity the hub does not have."""
    from hub.canonical import RECORDS

    return [
        (
            ("streams", name, "entity"),
            f"unknown entity {spec.entity!r} (entities: {', '.join(RECORDS)})",
        )
        for name, spec in streams.items()
        if spec.entity not in RECORDS
    ]


def route_problems(mappings_dir: Path, routes: Any, connections: Connections | None) -> list[Problem]:
    """Streams of ``routes.yaml`` that nothing offers, and (with ``connections``) systems that
    are no connection and streams the named connection does not offer."""
    from hub.canonical import RECORDS
    from hub.config.streams import connection_streams, known_streams
    from hub.outbox.routes import HUB, ORIGIN

    offered = known_streams(mappings_dir)
    stored: Connections = connections or {}
    out: list[Problem] = []
    for entity, route in routes.routes.items():
        if entity not in RECORDS:
            continue  # reported by Routes.problems
        writable = sorted({o.stream for o in offered if o.entity == entity and o.writable})
        for i, target in enumerate(route.send_to):
            here = ("routes", entity, "send_to", i)
            receivers = {
                "stream": [target.connection],
                "report_back": [s for s in route.entered_in if s != HUB],
            }
            for key, stream in (("stream", target.stream), ("report_back", target.report_back)):
                if stream is None:
                    continue
                if stream not in writable:
                    message = (
                        f"no connector kind or service offers a writable {entity} stream {stream!r} "
                        f"(writable {entity} streams: {', '.join(writable) or 'none'})"
                    )
                    out.append((here + (key,), message))
                    continue
                for system in receivers[key]:
                    if system not in stored:
                        continue  # reported below, once per place (or no connections given)
                    kind, settings = stored[system]
                    theirs = connection_streams(kind, settings, mappings_dir)
                    if theirs is None:
                        continue  # a kind that knows its streams only when connected
                    own = sorted({o.stream for o in theirs if o.entity == entity and o.writable})
                    if stream not in own:
                        message = (
                            f"connection {system!r} ({kind}) has no writable {entity} stream {stream!r} "
                            f"(its writable {entity} streams: {', '.join(own) or 'none'})"
                        )
                        out.append((here + (key,), message))
    if connections is not None:
        known = ", ".join(sorted(connections)) or "none"
        for loc, system in _named_systems(routes):
            if system != HUB and system != ORIGIN and system not in connections:
                out.append(
                    (
                        loc,
                        f"no connection {system!r} (connections: {known}; {HUB!r} is the hub's API)",
                    )
                )
    return out


def field_map_problems(mappings_dir: Path, connections: Connections) -> list[str]:
    """Each connection's field map against the streams its connector offers: a stream the map
    lacks (every record of it would be a dead letter), a stream it maps to another entity
    than the connector feeds, and a stream no connection reading with the map offers (a typo:
    the real stream then has no map)."""
    from hub.canonical import STREAMS
    from hub.config.streams import connection_streams
    from hub.sync.mapping import ConnectorMap

    readers: dict[str, list[tuple[str, str, list[Any]]]] = {}
    out: list[str] = []
    for name, (kind, settings) in sorted(connections.items()):
        if kind == "webhook":
            continue  # write-only: it reads nothing, so it needs no field map
        offered = connection_streams(kind, settings, mappings_dir)
        if offered is not None:
            readers.setdefault(str(settings.get("mapping", kind)), []).append((name, kind, offered))
    for map_name, users in readers.items():
        path = mappings_dir / "connectors" / f"{map_name}.yaml"
        if not path.exists():
            out += [
                f"{path}:?: (file): missing: connection {name!r} ({kind}) reads with it"
                for name, kind, _offered in users
            ]
            continue
        try:
            cmap = load_checked(path, ConnectorMap)
        except ConfigError:
            continue  # its own problems are reported with the other field maps
        found: list[Problem] = []
        for name, _kind, offered in users:
            for stream in offered:
                spec = cmap.streams.get(stream.stream)
                if spec is None:
                    found.append(
                        (
                            ("streams",),
                            (
                                f"connection {name!r} ({stream.source}) offers stream "
                                f"{stream.stream!r} ({stream.entity}), which this map does not map: each of its "
                                "records would be a dead letter"
                            ),
                        )
                    )
                elif (spec.entity or STREAMS.get(stream.stream)) != stream.entity:
                    found.append(
                        (
                            ("streams", stream.stream),
                            (
                                f"maps {stream.stream!r} as "
                                f"{spec.entity or STREAMS.get(stream.stream)}, but connection {name!r} "
                                f"({stream.source}) feeds {stream.entity} from it"
                            ),
                        )
                    )
        offered_names = {o.stream for _name, _kind, offered in users for o in offered}
        for stream_name in cmap.streams:
            if stream_name not in offered_names:
                who = ", ".join(repr(name) for name, _kind, _offered in users)
                found.append(
                    (
                        ("streams", stream_name),
                        (
                            f"no connection reading with this map ({who}) offers "
                            f"a stream {stream_name!r} (they offer: {', '.join(sorted(offered_names))})"
                        ),
                    )
                )
        out += _located(path, found)
    return out


def _named_systems(routes: Any) -> list[tuple[tuple[Any, ...], str]]:
    """(place, system) for every system name in ``routes.yaml``."""
    out: list[tuple[tuple[Any, ...], str]] = []
    for entity, route in routes.routes.items():
        out += [(("routes", entity, "entered_in", j), s) for j, s in enumerate(route.entered_in)]
        out += [(("routes", entity, "send_to", i, "connection"), t.connection) for i, t in enumerate(route.send_to)]
    for entity, owners in routes.ownership.items():
        out += [(("ownership", entity, field), owner) for field, owner in owners.items()]
    return out


def stored_connections(database_url: str) -> Connections | str:
    """The hub's connections (name → kind, settings), or why they cannot be read: a database
    that does not exist or was never initialised is reported, never created by a check; so
    is a hub without connections."""
    from sqlalchemy import inspect, select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from hub.db import get_engine, session_scope
    from hub.sync.models import Connection

    url = make_url(database_url)
    if (
        url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
        and not Path(str(url.database)).exists()
    ):
        return f"no database at {url.database}"
    try:
        if not inspect(get_engine(database_url)).has_table(Connection.__tablename__):
            return f"the database {url.render_as_string(hide_password=True)} has no connections table (hub init)"
        with session_scope(database_url) as session:
            found = {c.name: (c.kind, dict(c.settings or {})) for c in session.scalars(select(Connection))}
    except SQLAlchemyError as exc:
        return f"the database {url.render_as_string(hide_password=True)} cannot be read: {type(exc).__name__}"
    # routes are written before the systems are connected: only a hub with connections says
    # which names are typos
    return found or "the hub has no connections yet (hub connections add)"
