"""Who may run a stream now: its lease, and the connection's circuit breaker.

A lease is a row of ``sync_cursors`` taken with an atomic conditional UPDATE: one run of a
stream (a sync, or an outbox lane) at a time, and a crashed run's lease runs out after
:data:`LEASE`. The breaker opens after :data:`FAILURE_THRESHOLD` failed runs in a row for
:data:`OPEN_FOR`; a successful run, ``hub connections reset`` or a successful connection test
closes it. The sync engine and the outbox dispatcher both take their leases here.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from hub.db import as_utc, insert_if_absent, rowcount, utcnow
from hub.sync.connections import get_connection
from hub.sync.models import Connection, SyncCursor, SyncRun

LEASE = timedelta(minutes=10)
FAILURE_THRESHOLD = 3
OPEN_FOR = timedelta(minutes=5)


class SyncBusy(RuntimeError):
    """Another run holds this stream's lease."""


class CircuitOpen(RuntimeError):
    """The connection failed too often lately; it is left alone until the circuit closes."""


def check_circuit(session: Session, connection_id: int) -> None:
    connection = session.get(Connection, connection_id)
    assert connection is not None
    open_until = as_utc(connection.open_until)
    if open_until and open_until > utcnow():
        raise CircuitOpen(
            f"connection {connection.name!r} failed {connection.consecutive_failures} times in a "
            f"row; next attempt after {open_until.isoformat()}"
        )


def close_circuit(session: Session, name: str) -> bool:
    """Let a connection be synced again at once (``hub connections reset``, or a successful
    ``connections test``): an operator who fixed the system should not wait out the breaker.
    True when the circuit was open."""
    connection = get_connection(session, name)
    was_open = bool(connection.open_until and as_utc(connection.open_until) > utcnow())
    connection.consecutive_failures = 0
    connection.open_until = None
    return was_open


def count_outcome(connection: Connection, failed: bool) -> None:
    """A run's outcome for the breaker: failures in a row open it, a success closes it."""
    if failed:
        connection.consecutive_failures += 1
        if connection.consecutive_failures >= FAILURE_THRESHOLD:
            connection.open_until = utcnow() + OPEN_FOR
    else:
        connection.consecutive_failures = 0
        connection.open_until = None


def take_lease(session: Session, connection_id: int, stream: str, owner: str) -> str | None:
    """Take the stream's lease atomically (SyncBusy if another run holds it); return its cursor."""
    # two workers taking a stream's (or a lane's) first lease at once both get a row to compete for
    insert_if_absent(session, SyncCursor, connection_id=connection_id, stream=stream)
    now = utcnow()
    taken = rowcount(
        session.execute(
            update(SyncCursor)
            .where(
                SyncCursor.connection_id == connection_id,
                SyncCursor.stream == stream,
                or_(SyncCursor.locked_until.is_(None), SyncCursor.locked_until < now),
            )
            .values(locked_by=owner, locked_until=now + LEASE)
            .execution_options(synchronize_session=False)
        )
    )
    if not taken:
        raise SyncBusy(f"stream {stream!r} is being synced by another run")
    # A run still "running" without the lease was cut off (its worker was killed): say so.
    session.execute(
        update(SyncRun)
        .where(SyncRun.connection_id == connection_id, SyncRun.stream == stream, SyncRun.status == "running")
        .values(
            status="failed",
            finished_at=now,
            error="interrupted: its worker stopped before the run finished (the next run resumed from the cursor)",
        )
        .execution_options(synchronize_session=False)
    )
    return session.scalar(
        select(SyncCursor.value).where(SyncCursor.connection_id == connection_id, SyncCursor.stream == stream)
    )


def renew_lease(session: Session, connection_id: int, stream: str, owner: str) -> None:
    session.execute(
        update(SyncCursor)
        .where(SyncCursor.connection_id == connection_id, SyncCursor.stream == stream, SyncCursor.locked_by == owner)
        .values(locked_until=utcnow() + LEASE)
    )


def release_lease(session: Session, connection_id: int, stream: str, owner: str) -> None:
    session.execute(
        update(SyncCursor)
        .where(SyncCursor.connection_id == connection_id, SyncCursor.stream == stream, SyncCursor.locked_by == owner)
        .values(locked_by=None, locked_until=None)
    )
