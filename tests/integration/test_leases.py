"""A stream's lease when two workers ask for it at the same moment, the first time ever."""

from __future__ import annotations

import threading

import pytest

from hub.db import session_scope
from hub.sync.connections import add_connection
from hub.sync.leases import SyncBusy, take_lease


@pytest.mark.postgres
def test_two_workers_taking_a_new_streams_first_lease_at_once_one_wins_the_other_is_told_busy(
    postgres_url: str,
) -> None:
    with session_scope(postgres_url) as session:
        connection_id = add_connection(
            session,
            name="erp",
            kind="webhook",
            settings={"url": "http://127.0.0.1:9/"},
            secrets={"signing_secret": "s"},
            secret_key="lease-key",
        ).id
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def take(owner: str) -> None:
        try:
            with session_scope(postgres_url) as session:
                start.wait()
                take_lease(session, connection_id, "outbox/0", owner)
            outcomes.append("taken")
        except SyncBusy:
            outcomes.append("busy")
        except Exception as exc:  # noqa: BLE001 - what the assertion reports
            outcomes.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=take, args=(f"worker-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["busy", "taken"]
