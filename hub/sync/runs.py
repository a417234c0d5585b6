"""Runs cut off by a crash: a killed ``hub import customers`` or ``hub sync`` never writes its
end, so its ``sync_runs`` row would say "running" for ever.

Each run records the process running it (host and pid) and a heartbeat that moves with every
counts update (each batch of an import, each page of a sync). A running run is interrupted
when its process is gone (same host, pid no longer alive) or, for a run on another host (a
worker container), when its heartbeat is older than ``run_stale_seconds``. ``mark_interrupted``
marks those failed with the reason "interrupted"; it is called when an import, a sync or the
server starts and whenever runs are listed, so what a person sees is never a dead "running".
A dead sync run's stream lease is released too, unless another live run is on that stream, so
the next sync need not wait for the 10-minute lease to expire. (The sync engine also marks a
stream's running runs failed when it takes that stream's lease.)
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.db import as_utc, utcnow
from hub.sync.models import SyncCursor, SyncRun

INTERRUPTED = "interrupted: its process stopped before the run finished"


def _alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (ours always does)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except OSError:
        return True
    return True


def mark_interrupted(session: Session, stale_after: timedelta | None = None) -> list[int]:
    """Mark failed every running run whose process is gone or whose heartbeat is stale; their ids."""
    if stale_after is None:
        from hub.settings import get_settings

        stale_after = timedelta(seconds=get_settings().run_stale_seconds)
    now = utcnow()
    host = socket.gethostname()
    dead: list[int] = []
    streams: set[tuple[int, str]] = set()  # (connection, stream) of the dead sync runs
    alive: set[tuple[int, str]] = set()
    for run_id, run_host, pid, heartbeat, started, connection_id, stream in session.execute(
        select(
            SyncRun.id,
            SyncRun.host,
            SyncRun.pid,
            SyncRun.heartbeat_at,
            SyncRun.started_at,
            SyncRun.connection_id,
            SyncRun.stream,
        ).where(SyncRun.status == "running")
    ):
        last = as_utc(heartbeat) or as_utc(started)
        gone = run_host == host and pid is not None and not _alive(pid)
        if gone or (last is not None and now - last > stale_after):
            dead.append(run_id)
            if connection_id is not None and stream is not None:
                streams.add((connection_id, stream))
        elif connection_id is not None and stream is not None:
            alive.add((connection_id, stream))
    for connection_id, stream in streams - alive:  # the lease of a dead run: free it now
        session.execute(
            update(SyncCursor)
            .where(SyncCursor.connection_id == connection_id, SyncCursor.stream == stream)
            .values(locked_by=None, locked_until=None)
            .execution_options(synchronize_session=False)
        )
    if dead:
        session.execute(
            update(SyncRun)
            .where(SyncRun.id.in_(dead), SyncRun.status == "running")
            .values(status="failed", finished_at=now, error=INTERRUPTED)
            .execution_options(synchronize_session=False)
        )
    return dead
