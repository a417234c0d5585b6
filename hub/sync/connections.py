"""Configured systems: add, update, list, describe (never their secrets), remove, rotate the key.

A connection that reads (every kind but a write-only web hook) needs its field map
(``mappings/connectors/<mapping>.yaml``, setting ``mapping``, default its kind): ``add`` and
``update`` refuse it when that map is missing or wrong (``connection_map``), so the mistake is
named where it is made and never surfaces as a traceback in ``hub sync``.

A credential typed into a setting (a password in a URL, ``?api_key=…``, a setting named
``password``) is moved into the encrypted secrets at ``add`` (``split_credentials``) and merged
back when the connector is built; listings never show it. A connection cannot be added while
the stored secrets do not open with the current key: it would be stored under a key that
opens nothing else.

``update`` sets settings and secrets (merged into the stored ones; ``unset`` takes settings
away), with the same credential split as ``add``.

Removing a connection keeps what it brought: links (its ``system`` name in them), documents,
golden records, runs (their ``connection_id`` set to null; ``system`` keeps the name) and the
outbox's delivered history stay, so adding it again under the same name picks them up. Its
settings, secrets and cursors go. Its links would be orphaned (no connection to sync or write
them until one of that name is added again), open dead letters lost and deliveries waiting for
it stuck, so removal refuses while there are any, saying how many of each, unless forced: then
the links stay as they are, the dead letters are dropped and the waiting deliveries marked dead
(replayable once it is back), all counted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from connectors.base import Connector
from connectors.registry import available, connector_class
from connectors.settings import SettingsError, validate_connection
from hub.outbox.models import OutboxDelivery
from hub.sync.links import Binder
from hub.sync.mapping import ConnectorMap, load_connector_map
from hub.sync.models import Connection, DeadLetter, SyncCursor, SyncRun
from hub.sync.secrets import (
    SecretsError,
    decrypt,
    encrypt,
    merge_credentials,
    rotate,
    split_credentials,
)

#: Deliveries that still wait for their target (``dead`` ones are kept and replayable).
WAITING = ("pending",)


class ConnectionConfigError(ValueError):
    """A connection request that cannot be carried out; the message says why."""


def get_connection(session: Session, name: str) -> Connection:
    """The connection called ``name``; KeyError naming the command that lists them."""
    connection = session.scalar(select(Connection).where(Connection.name == name))
    if connection is None:
        raise KeyError(f"no connection named {name!r} (hub connections list)")
    return connection


def add_connection(
    session: Session,
    *,
    name: str,
    kind: str,
    settings: dict[str, Any],
    secrets: dict[str, str],
    secret_key: str,
    interval_seconds: int | None = None,
    mappings_dir: Path | None = None,
) -> Connection:
    """A new connection; its settings and secrets checked against the connector's
    (``connectors.settings``: stored under today's names, values parsed); with ``mappings_dir``
    (the CLI, the API) its field map is checked too."""
    if kind not in available():
        raise ConnectionConfigError(f"unknown connector kind {kind!r}; installed: {', '.join(sorted(available()))}")
    if session.scalar(select(Connection).where(Connection.name == name)) is not None:
        raise ConnectionConfigError(f"a connection named {name!r} exists already")
    check_key(session, secret_key)
    try:  # the connector's own Settings and Secrets: a bad value is refused now, not at the first sync
        checked = validate_connection(connector_class(kind), settings, secrets)
    except SettingsError as exc:
        raise ConnectionConfigError(f"{exc} (hub connections add --help-kind {kind} lists them)") from None
    settings, secrets = checked.stored_settings(), checked.secret_values
    if mappings_dir is not None:
        check_field_map(mappings_dir, name, kind, settings)
    clean, moved = split_credentials(settings)
    secrets = {**secrets, **moved}
    connection = Connection(
        name=name,
        kind=kind,
        settings=clean,
        interval_seconds=interval_seconds,
        secrets_encrypted=encrypt(secrets, secret_key) if secrets else None,
    )
    session.add(connection)
    session.flush()
    return connection


def update_connection(
    session: Session,
    name: str,
    *,
    settings: dict[str, Any],
    secrets: dict[str, str],
    secret_key: str,
    unset: list[str] | None = None,
    interval_seconds: int | None = None,
    mappings_dir: Path | None = None,
) -> tuple[Connection, list[str]]:
    """Set settings and secrets of connection ``name`` (merged into the stored ones; ``unset``
    removes settings or secrets); the connection and the keys that changed. Credentials typed
    into a setting move into the secrets as at ``add``; the field map is checked again."""
    connection = get_connection(session, name)
    check_key(session, secret_key)
    drop = set(unset or [])
    # as given at ``add``: credentials moved out of the settings go back in first
    given, given_secrets = merge_credentials(
        dict(connection.settings), decrypt(connection.secrets_encrypted, secret_key, name)
    )
    unknown = sorted(k for k in drop if k not in given and k not in given_secrets)
    if unknown:
        raise ConnectionConfigError(
            f"connection {name!r} has no setting or secret {', '.join(map(repr, unknown))} "
            f"to unset (settings: {', '.join(sorted(given)) or 'none'})"
        )
    merged = {k: v for k, v in {**given, **settings}.items() if k not in drop}
    merged_secrets = {k: v for k, v in {**given_secrets, **secrets}.items() if k not in drop}
    try:  # the connector's own Settings and Secrets, as at ``add``
        checked = validate_connection(connector_class(connection.kind), merged, merged_secrets)
    except SettingsError as exc:
        raise ConnectionConfigError(f"{exc} (hub connections add --help-kind {connection.kind} lists them)") from None
    merged, merged_secrets = checked.stored_settings(), checked.secret_values
    if mappings_dir is not None:
        check_field_map(mappings_dir, name, connection.kind, merged)
    changed = sorted(
        {k for k in {**given, **merged} if given.get(k) != merged.get(k)}
        | {k for k in {**given_secrets, **merged_secrets} if given_secrets.get(k) != merged_secrets.get(k)}
    )
    clean, moved = split_credentials(merged)
    new_secrets = {**merged_secrets, **moved}
    connection.settings = clean
    connection.secrets_encrypted = encrypt(new_secrets, secret_key) if new_secrets else None
    if interval_seconds is not None and connection.interval_seconds != (interval_seconds or None):
        changed = sorted([*changed, "interval_seconds"])
        connection.interval_seconds = interval_seconds or None  # 0: only on demand
    session.flush()
    return connection, changed


def check_field_map(mappings_dir: Path, name: str, kind: str, settings: dict[str, Any]) -> ConnectorMap | None:
    """The field map a connection of ``kind`` with ``settings`` reads with, or None for a kind
    that reads nothing (a web hook); ``ConnectionConfigError`` naming the file and the setting."""
    if not getattr(connector_class(kind), "reads", True):
        return None
    return connection_map(mappings_dir, name, kind, settings)


def describe(session: Session, connection: Connection) -> dict[str, Any]:
    cursors = session.scalars(select(SyncCursor).where(SyncCursor.connection_id == connection.id))
    return {
        "id": connection.id,
        "name": connection.name,
        "kind": connection.kind,
        "settings": split_credentials(connection.settings)[0],  # also for rows stored before the split
        "has_secrets": bool(connection.secrets_encrypted),
        "interval_seconds": connection.interval_seconds,
        "enabled": connection.enabled,
        "consecutive_failures": connection.consecutive_failures,
        "circuit_open_until": connection.open_until.isoformat() if connection.open_until else None,
        "cursors": {c.stream: c.value for c in cursors},
    }


def check_key(session: Session, secret_key: str) -> None:
    """``SecretsError`` naming the first connection whose secrets ``secret_key`` does not open."""
    for name, token in session.execute(
        select(Connection.name, Connection.secrets_encrypted)
        .where(Connection.secrets_encrypted.is_not(None))
        .order_by(Connection.id)
    ):
        decrypt(token, secret_key, name)


def secrets_of(session: Session, name: str, secret_key: str) -> None:
    """``KeyError`` when there is no connection ``name``; ``SecretsError`` when its secrets do
    not open with ``secret_key``: checked before a sync or test is queued or started."""
    token = session.scalar(select(Connection.secrets_encrypted).where(Connection.name == name))
    if token is None and session.scalar(select(Connection.id).where(Connection.name == name)) is None:
        raise KeyError(f"no connection named {name!r}")
    decrypt(token, secret_key, name)


def remove_connection(session: Session, name: str, force: bool = False) -> dict[str, int]:
    """Remove connection ``name`` (see the module's docstring for what stays); what went."""
    connection = session.scalar(select(Connection).where(Connection.name == name))
    if connection is None:
        raise KeyError(f"no connection named {name!r}")
    letters = (
        session.scalar(
            select(func.count())
            .select_from(DeadLetter)
            .where(DeadLetter.connection_id == connection.id, DeadLetter.status == "open")
        )
        or 0
    )
    waiting = (
        session.scalar(
            select(func.count())
            .select_from(OutboxDelivery)
            .where(OutboxDelivery.target == name, OutboxDelivery.status.in_(WAITING))
        )
        or 0
    )
    links = Binder(session).count(name)
    if (letters or waiting or links) and not force:
        raise ConnectionConfigError(
            f"connection {name!r} is still in use; removing it would orphan {links} link(s) of hub records to "
            f"its records (kept, but nothing syncs or writes them until a connection named {name!r} is added "
            f"again), drop {letters} open dead letter(s) and leave {waiting} delivery(ies) waiting for it "
            "(marked dead). Replay the dead letters and deliveries first, or remove it with --force"
        )
    cursors = _count(session.execute(delete(SyncCursor).where(SyncCursor.connection_id == connection.id)))
    dropped = _count(session.execute(delete(DeadLetter).where(DeadLetter.connection_id == connection.id)))
    session.execute(
        update(OutboxDelivery)
        .where(OutboxDelivery.target == name, OutboxDelivery.status.in_(WAITING))
        .values(status="dead", last_error=f"connection {name!r} was removed")
    )
    runs = _count(
        session.execute(update(SyncRun).where(SyncRun.connection_id == connection.id).values(connection_id=None))
    )
    session.delete(connection)
    session.flush()
    return {
        "cursors": cursors,
        "dead_letters_dropped": dropped,
        "deliveries_marked_dead": waiting,
        "runs_kept": runs,
        "links_kept": links,
    }


def _count(result: Any) -> int:
    """Rows a DELETE or UPDATE touched (``CursorResult.rowcount``; ``execute`` is typed wider)."""
    return int(cast(CursorResult[Any], result).rowcount)


def rotate_key(session: Session, old_key: str, new_key: str) -> int:
    """Re-encrypt every connection's secrets under ``new_key``; all or nothing."""
    count = 0
    for connection in session.scalars(select(Connection)):
        if connection.secrets_encrypted:
            try:
                connection.secrets_encrypted = rotate(connection.secrets_encrypted, old_key, new_key)
            except SecretsError:
                raise SecretsError(
                    f"--old-key is not the key connection {connection.name!r}'s secrets were "
                    "stored with; nothing was re-encrypted"
                ) from None
            count += 1
    return count


def connection_map(mappings_dir: Path, name: str, kind: str, settings: dict[str, Any]) -> ConnectorMap:
    """The connection's field map (setting ``mapping``, default its kind), or a
    ``ConnectionConfigError`` saying which file is missing or wrong and how to name another:
    a sync must never die on it with a traceback."""
    mapping = str(settings.get("mapping", kind))
    if not (mappings_dir / "connectors" / f"{mapping}.yaml").is_file():
        known = sorted(p.stem for p in (mappings_dir / "connectors").glob("*.yaml"))
        how = "" if "mapping" in settings else " (no setting 'mapping', so the connector's kind was tried)"
        raise ConnectionConfigError(
            f"connection {name!r}: our configuration is wrong: no field map {mapping!r}{how}: "
            f"{mappings_dir / 'connectors' / (mapping + '.yaml')} does not exist; set one with "
            f"hub connections update {name} -s mapping=NAME (field maps: {', '.join(known) or 'none'})"
        )
    try:
        return _cached_map(mappings_dir, mapping)
    except ValueError as exc:  # a ConfigError names file, line and field
        raise ConnectionConfigError(f"connection {name!r}: our field map {mapping!r} is wrong: {exc}") from None


#: (mappings folder, map name) → (digest of its file, the map): a map is parsed and checked
#: once per content of its file, not at each sync, delivery and replayed letter.
_MAPS: dict[tuple[Path, str], tuple[bytes, ConnectorMap]] = {}


def _cached_map(mappings_dir: Path, name: str) -> ConnectorMap:
    """The field map, parsed again whenever its file's content changed: a map edited for a
    replay ("today's mapping") is the one the replay uses, in a server running for weeks too.
    Keyed on the content, not the modification time, so an edit within one clock tick counts."""
    path = mappings_dir / "connectors" / f"{name}.yaml"
    digest = hashlib.blake2b(path.read_bytes(), digest_size=16).digest()
    cached = _MAPS.get((mappings_dir, name))
    if cached is not None and cached[0] == digest:
        return cached[1]
    field_map = load_connector_map(mappings_dir, name)
    _MAPS[(mappings_dir, name)] = (digest, field_map)
    return field_map


class ConnectionService:
    """The one way to a configured system, for the sync engine, the dispatcher, the publisher,
    the API and the CLI alike (``hub.services`` builds it): the connection by name, its
    secrets opened with the hub's key, its connector — ``with service.open(session, name) as
    connector:`` closes it whatever happens — and its field map, cached until its file changes.
    """

    def __init__(self, mappings_dir: Path, secret_key: str):
        self.mappings_dir = mappings_dir
        self.secret_key = secret_key

    def get(self, session: Session, name: str) -> Connection:
        """The connection called ``name``; KeyError naming the command that lists them."""
        return get_connection(session, name)

    def secrets(self, connection: Connection) -> dict[str, str]:
        """The connection's secrets; ``SecretsError`` naming it when the key does not open them."""
        return decrypt(connection.secrets_encrypted, self.secret_key, connection.name)

    def connector(self, connection: Connection) -> Connector:
        """A new connector for the connection; the caller closes it (or use ``open``)."""
        cls = connector_class(connection.kind)
        # credentials taken out of the settings at ``add`` go back in here, never into the row
        stored, secrets = merge_credentials(connection.settings, self.secrets(connection))
        return cls({"mappings_dir": str(self.mappings_dir), **stored}, secrets)

    @contextmanager
    def open(self, session: Session, name: str) -> Iterator[Connector]:
        """The connector of connection ``name``, closed when the block ends."""
        with self.opened(get_connection(session, name)) as connector:
            yield connector

    @contextmanager
    def opened(self, connection: Connection) -> Iterator[Connector]:
        """The connector of a connection already read, closed when the block ends."""
        connector = self.connector(connection)
        try:
            yield connector
        finally:
            connector.close()

    def field_map(self, connection: Connection) -> ConnectorMap:
        """The connection's field map (``connection_map``: a missing or wrong one is a
        ``ConnectionConfigError`` naming file and setting), cached until its file changes."""
        return connection_map(self.mappings_dir, connection.name, connection.kind, connection.settings)
