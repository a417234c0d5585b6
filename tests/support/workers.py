"""A real Celery worker process for the distributed-path tests."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def celery_worker(env: dict[str, str], drain: bool = True) -> Iterator[subprocess.Popen[str]]:
    """``celery -A hub.tasks worker --pool=solo`` with ``env`` (broker, database, queue).

    Its output is drained by a thread into ``worker.tail`` (the last 300 lines): a worker that
    logs more than a pipe holds would otherwise block on its next write. ``drain=False`` leaves
    ``worker.stdout`` to the caller, who must then read it."""
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "hub.tasks",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if drain:
        tail: deque[str] = deque(maxlen=300)
        worker.tail = tail  # type: ignore[attr-defined]
        threading.Thread(target=lambda: tail.extend(worker.stdout or ()), daemon=True).start()
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
            tail = getattr(worker, "tail", None)
            output = "".join(tail) if tail is not None else (worker.stdout.read() if worker.stdout else "")
            raise AssertionError(f"the Celery worker exited: {output}")
        time.sleep(0.2)
    raise AssertionError(f"not done within {seconds} s")
