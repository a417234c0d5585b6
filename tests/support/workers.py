"""A real Celery worker process for the distributed-path tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def celery_worker(env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """``celery -A hub.tasks worker --pool=solo`` with ``env`` (broker, database, queue)."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "hub.tasks", "worker", "--pool=solo",
         "--concurrency=1", "--without-heartbeat", "--without-gossip", "--without-mingle",
         "--loglevel=WARNING"],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()


def wait_for(condition: Callable[[], bool], worker: subprocess.Popen[str], seconds: float = 60) -> None:
    """Poll until ``condition()``; fail early with the worker's output if it died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.poll() is not None:
            output = worker.stdout.read() if worker.stdout else ""
            raise AssertionError(f"the Celery worker exited: {output}")
        time.sleep(0.2)
    raise AssertionError(f"not done within {seconds} s")
