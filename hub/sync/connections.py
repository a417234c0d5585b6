"""Configured systems: add, list, describe (never their secrets), remove, rotate the secrets key.

A credential typed into a setting (a password in a URL, ``?api_key=…``, a setting named
``password``) is moved into the encrypted secrets at ``add`` (``split_credentials``) and merged
back when the connector is built; listings never show it. A connection cannot be added while
the stored secrets do not open with the current key: it would be stored under a key that
opens nothing else.

Removing a connection keeps what it brought: links (its ``system`` name in them), documents,
golden records, runs (their ``connection_id`` set to null; ``system`` keeps the name) and the
outbox's delivered history stay, so adding it again under the same name picks them up. Its
settings, secrets and cursors go. Open dead letters and deliveries still waiting for it would
be lost or stuck, so removal refuses while there are any, unless forced: then the dead letters
are dropped (counted) and the waiting deliveries marked dead (replayable once it is back).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from connectors.registry import available
from hub.outbox.models import OutboxDelivery
from hub.sync.models import Connection, DeadLetter, SyncCursor, SyncRun
from hub.sync.secrets import SecretsError, decrypt, encrypt, rotate, split_credentials

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
) -> Connection:
    if kind not in available():
        raise ConnectionConfigError(
            f"unknown connector kind {kind!r}; installed: {', '.join(sorted(available()))}"
        )
    if session.scalar(select(Connection).where(Connection.name == name)) is not None:
        raise ConnectionConfigError(f"a connection named {name!r} exists already")
    check_key(session, secret_key)
    clean, moved = split_credentials(settings)
    secrets = {**secrets, **moved}
    connection = Connection(
        name=name, kind=kind, settings=clean, interval_seconds=interval_seconds,
        secrets_encrypted=encrypt(secrets, secret_key) if secrets else None,
    )
    session.add(connection)
    session.flush()
    return connection


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
        .where(Connection.secrets_encrypted.is_not(None)).order_by(Connection.id)
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
    letters = session.scalar(select(func.count()).select_from(DeadLetter).where(
        DeadLetter.connection_id == connection.id, DeadLetter.status == "open")) or 0
    waiting = session.scalar(select(func.count()).select_from(OutboxDelivery).where(
        OutboxDelivery.target == name, OutboxDelivery.status.in_(WAITING))) or 0
    if (letters or waiting) and not force:
        raise ConnectionConfigError(
            f"connection {name!r} has {letters} open dead letter(s) and {waiting} delivery(ies) waiting for it: "
            "replay them first, or remove with --force to drop the dead letters and mark the deliveries dead"
        )
    cursors = _count(session.execute(delete(SyncCursor).where(SyncCursor.connection_id == connection.id)))
    dropped = _count(session.execute(delete(DeadLetter).where(DeadLetter.connection_id == connection.id)))
    session.execute(update(OutboxDelivery).where(OutboxDelivery.target == name, OutboxDelivery.status.in_(WAITING))
                    .values(status="dead", last_error=f"connection {name!r} was removed"))
    runs = _count(session.execute(update(SyncRun).where(SyncRun.connection_id == connection.id)
                                  .values(connection_id=None)))
    session.delete(connection)
    session.flush()
    return {"cursors": cursors, "dead_letters_dropped": dropped, "deliveries_marked_dead": waiting, "runs_kept": runs}


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
                raise SecretsError(f"--old-key is not the key connection {connection.name!r}'s secrets were "
                                   "stored with; nothing was re-encrypted") from None
            count += 1
    return count
