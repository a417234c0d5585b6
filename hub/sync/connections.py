"""Configured systems: add, list, describe (never their secrets), rotate the secrets key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.registry import available
from hub.sync.models import Connection, SyncCursor
from hub.sync.secrets import encrypt, rotate


class ConnectionConfigError(ValueError):
    """A connection request that cannot be carried out; the message says why."""


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
    connection = Connection(
        name=name, kind=kind, settings=settings, interval_seconds=interval_seconds,
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
        "settings": connection.settings,
        "has_secrets": bool(connection.secrets_encrypted),
        "interval_seconds": connection.interval_seconds,
        "enabled": connection.enabled,
        "consecutive_failures": connection.consecutive_failures,
        "circuit_open_until": connection.open_until.isoformat() if connection.open_until else None,
        "cursors": {c.stream: c.value for c in cursors},
    }


def rotate_key(session: Session, old_key: str, new_key: str) -> int:
    """Re-encrypt every connection's secrets under ``new_key``; all or nothing."""
    count = 0
    for connection in session.scalars(select(Connection)):
        if connection.secrets_encrypted:
            connection.secrets_encrypted = rotate(connection.secrets_encrypted, old_key, new_key)
            count += 1
    return count
