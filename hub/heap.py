"""Bulk runs (an import, a sync, a re-normalise) and Python's cyclic garbage collector.

Each full collection walks every tracked object in the process: the modules, SQLAlchemy's
mappers, pydantic's models, whatever the caller holds. A run of 20k customers makes enough
objects to set off about twenty of them, and on an unchanged re-load they took a third of the
time (20k records/s with them, 30k without, measured 2026-12-04). ``settled_heap`` moves what
is alive when a run starts into the collector's permanent generation (``gc.freeze``, constant
time) and back when it ends (``gc.unfreeze``): the run's own cycles are still collected, only
the long-lived objects are no longer walked again and again.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_runs = 0  # runs inside settled_heap now (nested, or in several threads of the server)


@contextmanager
def settled_heap() -> Iterator[None]:
    """Leave the objects alive now out of the collector's passes until the last run ends.

    Nested and concurrent runs share one freeze: the first in freezes, the last out unfreezes,
    so an inner run ending never hands an outer run's objects back early.
    """
    global _runs
    with _lock:
        if _runs == 0:
            gc.freeze()
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0:
                gc.unfreeze()
