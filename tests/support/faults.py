"""Faults on purpose, for the fault tests (``tests/integration/test_fault_*.py``).

* ``crash_prone_worker``: a real Celery worker (``hub.tasks``) whose sync lease and broker
  visibility timeout are seconds, not the production 10 minutes / 1 hour, so a test can kill it
  with SIGKILL and see the task redelivered and the stream taken over within seconds. Run as
  ``python -m tests.support.faults LEASE_S VISIBILITY_S`` (a process of its own: the settings
  are patched before the worker starts, nothing else about the worker differs).
* ``kill_hard``: SIGKILL, what a power cut or the OOM killer does — no ``finally`` runs.
* ``slow_crm``: the legacy CRM SOAP simulator answering each call after a delay, so a sync
  lasts long enough to be killed or raced.
* ``RepeatingSoap``: the SOAP connector of a CRM that hands out every page ten times, as a
  source with broken paging or a retrying proxy does; registered under a kind of its own with
  ``register_kind`` for the duration of a test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from connectors.base import SourceRecord
from connectors.soap import SoapConnector
from simulators.legacy_crm import CrmStore, RunningCrm
from simulators.legacy_crm.server import serve

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def crash_prone_worker(
    env: dict[str, str], lease_seconds: float, visibility_seconds: float
) -> Iterator[subprocess.Popen[str]]:
    """A worker process; killed (not terminated) on exit, as it may be killed already."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.support.faults", str(lease_seconds), str(visibility_seconds)],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield worker
    finally:
        kill_hard(worker)


def kill_hard(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


@contextmanager
def slow_crm(store: CrmStore, delay: float) -> Iterator[RunningCrm]:
    """The CRM on loopback; every SOAP call (not the WSDL) waits ``delay`` seconds first."""

    def slowed(app: Any) -> Any:
        def slow(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            if environ["REQUEST_METHOD"] == "POST":
                time.sleep(delay)
            return app(environ, start_response)  # type: ignore[no-any-return]

        return slow

    with serve(store, wrap=slowed) as crm:
        yield crm


class RepeatingSoap(SoapConnector):
    """Every page of the real SOAP service, delivered ``times`` times in a row."""

    kind = "soap-repeating"
    times = 10

    def read(self, stream: str, since: str | None) -> Iterator[list[SourceRecord]]:
        for page in super().read(stream, since):
            for _ in range(self.times):
                yield list(page)


def register_kind(monkeypatch: pytest.MonkeyPatch, kind: str, target: str) -> None:
    """Install a connector kind for this test only, as an entry point of ``concord.connectors``
    would (``target`` is ``module:Class``)."""
    from connectors import registry
    from hub.sync import connections

    kinds = {**registry.available(), kind: EntryPoint(kind, target, registry.GROUP)}
    monkeypatch.setattr(registry, "available", lambda: kinds)
    monkeypatch.setattr(connections, "available", lambda: kinds)


def _run_worker(lease_seconds: float, visibility_seconds: float) -> None:
    from hub.sync import engine
    from hub.tasks import celery_app

    engine.LEASE = timedelta(seconds=lease_seconds)  # read at each take_lease / renew_lease
    celery_app.conf.broker_transport_options = {
        "visibility_timeout": visibility_seconds,  # a killed worker's task comes back after this
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
    celery_app.worker_main(
        [
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ]
    )


if __name__ == "__main__":
    _run_worker(float(sys.argv[1]), float(sys.argv[2]))
