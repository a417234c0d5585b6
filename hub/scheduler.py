"""The embedded default's own beat: what Celery beat does in the scaled-out setup, in-process.

Without a broker (``HUB_BROKER_URL`` unset) tasks run eagerly where they are called, and no
beat runs: an order posted to the API would sit "not routed yet" until someone typed
``hub outbox dispatch``. ``hub serve`` and ``hub demo`` therefore start this scheduler: one
daemon thread per entry of :data:`hub.tasks.celery_app.conf.beat_schedule` (dispatch every
2 s, due syncs every 30 s, the receivables scan hourly), each running the *same* task as beat
would, so embedded and scaled-out behave alike. A thread per entry keeps a long sync from
holding up deliveries.

Only one process of a host runs it (a lock file beside the database, taken without waiting),
so ``hub serve --workers 2`` does not dispatch twice. A task that fails is logged and tried
again at its next tick: one bad tick never stops the loop.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from hub.db import beside_database

log = logging.getLogger(__name__)


@dataclass
class EmbeddedScheduler:
    """Runs each beat entry's task every ``schedule`` seconds until :meth:`stop`."""

    lock_path: Path
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: IO[bytes] | None = None

    def start(self) -> bool:
        """Start the loops; False (and nothing started) when another process holds the lock."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.lock_path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            log.info("embedded scheduler: another process of this hub runs it (%s)", self.lock_path)
            return False
        self._lock = handle
        from hub.tasks import celery_app

        # an eager task logs each success at INFO: every 2 s here, noise in the serving log
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)

        for name, entry in celery_app.conf.beat_schedule.items():
            thread = threading.Thread(
                target=self._loop,
                args=(name, entry["task"], float(entry["schedule"])),
                name=f"hub-beat-{name}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        log.info("embedded scheduler: %s", ", ".join(sorted(celery_app.conf.beat_schedule)))
        return True

    def _loop(self, name: str, task_name: str, every: float) -> None:
        from hub.tasks import celery_app

        task = celery_app.tasks[task_name]
        # the first tick comes after one interval: the process has just started (and hub demo
        # has just synced and dispatched), except for the short loops (dispatch)
        if every > 60 and self._stop.wait(every):
            return
        while not self._stop.is_set():
            try:
                task.apply(throw=True)
            except Exception:
                log.exception("embedded scheduler: %s (%s) failed; next try in %.0f s", name, task_name, every)
            if self._stop.wait(every):
                return

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        if self._lock is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None


def lock_path_for(database_url: str) -> Path:
    """``scheduler.lock`` beside a SQLite file, else under ./var (``HUB_VAR_DIR``)."""
    default = Path(os.environ.get("HUB_VAR_DIR", "var")) / "scheduler.lock"
    return beside_database(database_url, "scheduler.lock", default).resolve()


@contextlib.contextmanager
def running(database_url: str) -> Iterator[EmbeddedScheduler]:
    """The scheduler for the lifetime of the block (the app's lifespan)."""
    scheduler = EmbeddedScheduler(lock_path_for(database_url))
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.stop()
