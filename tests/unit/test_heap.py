"""hub.heap.settled_heap: long-lived objects are left out of collections during a bulk run and
handed back after it, and the run's own garbage cycles are still collected (no leak)."""

from __future__ import annotations

import gc
import threading
import weakref

from hub.heap import settled_heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_a_runs_cycles_are_collected_and_the_heap_is_handed_back() -> None:
    before = gc.get_freeze_count()
    with settled_heap():
        assert gc.get_freeze_count() > before  # what was alive is frozen
        a, b = Node(), Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        gc.collect()
        assert gone() is None  # a cycle made during the run is still garbage-collected
    assert gc.get_freeze_count() == before == 0


def test_an_inner_run_ending_keeps_the_outer_runs_freeze() -> None:
    with settled_heap():
        frozen = gc.get_freeze_count()
        with settled_heap():
            pass
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == 0


def test_concurrent_runs_in_threads_unfreeze_once_the_last_ends() -> None:
    inside, release = threading.Event(), threading.Event()

    def other_run() -> None:
        with settled_heap():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other_run)
    with settled_heap():
        thread.start()
        inside.wait(5)
    assert gc.get_freeze_count() > 0  # the other thread's run is still going
    release.set()
    thread.join(5)
    assert gc.get_freeze_count() == 0
