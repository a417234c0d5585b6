"""The connection service and the Binder, as their callers rely on them.

The connection service (hub.sync.connections.ConnectionService) is the one way to a system: a
connector opened with ``open`` is closed whatever the block does, its secrets are the ones
stored encrypted, and a field map is read again as soon as its file changes (an operator who
fixed a map replays with it). The Binder (hub.sync.links) answers a page in one statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from hub import services
from hub.db import get_engine, session_scope
from hub.settings import Settings
from hub.sync.connections import ConnectionService, add_connection
from hub.sync.links import Binder, NewLink

KEY = "Dd1Wc8vBj3Zi6n0M2VhQ0YxG0zM7e5H1Lr8k2b9XyQA="  # a Fernet key


@pytest.fixture
def service(mappings_dir: Path) -> ConnectionService:
    return ConnectionService(mappings_dir, KEY)


def test_open_closes_the_connector_even_when_the_block_fails(database_url: str, service: ConnectionService) -> None:
    with session_scope(database_url) as session:
        add_connection(
            session,
            name="hook",
            kind="webhook",
            settings={"base_url": "https://example.invalid/in"},
            secrets={"signing_secret": "s3cret"},
            secret_key=KEY,
        )
    opened: list[Any] = []
    with pytest.raises(RuntimeError, match="the block failed"), session_scope(database_url) as session:
        with service.open(session, "hook") as connector:
            opened.append(connector)
            assert connector.credentials.signing_secret == "s3cret"  # decrypted with the hub's key
            raise RuntimeError("the block failed")
    assert opened and opened[0].client.is_closed
    with session_scope(database_url) as session, pytest.raises(KeyError, match="hub connections list"):
        with service.open(session, "nobody"):
            pass


def test_a_field_map_is_cached_until_its_file_changes(
    database_url: str, service: ConnectionService, mappings_dir: Path
) -> None:
    with session_scope(database_url) as session:
        connection = add_connection(
            session,
            name="erp",
            kind="tryton",
            settings={"url": "http://localhost:1", "database": "hub", "login": "admin"},
            secrets={"password": "x"},
            secret_key=KEY,
        )
        first = service.field_map(connection)
        assert service.field_map(connection) is first  # parsed once
        path = mappings_dir / "connectors" / "tryton.yaml"
        path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
        again = service.field_map(connection)
    assert again is not first  # the edited file is read again, not a stale copy


def test_the_provider_builds_every_service_from_the_same_settings(database_url: str, mappings_dir: Path) -> None:
    settings = Settings(database_url=database_url, mappings_dir=mappings_dir, broker_url=None, secret_key=KEY)
    engine = services.sync_engine(settings)
    dispatcher = services.dispatcher(settings)
    assert (engine.database_url, engine.mappings_dir, engine.secret_key) == (database_url, mappings_dir, KEY)
    assert dispatcher.engine.database_url == database_url
    assert engine.connections.secret_key == services.connection_service(settings).secret_key == KEY


@contextmanager
def _statements(url: str) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(get_engine(url), "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(get_engine(url), "before_cursor_execute", count)


def test_the_binder_answers_a_page_in_one_statement_and_writes_to_a_systems_first_record(database_url: str) -> None:
    ids = [f"C{n}" for n in range(500)]
    with session_scope(database_url) as session:
        binder = Binder(session)
        binder.bind_many("crm", "customer", [NewLink(ext, n + 1, f"h{n}") for n, ext in enumerate(ids)])
        binder.bind_many("crm", "customer", [NewLink("C-again", 1, "h")])  # customer 1 entered twice
    with session_scope(database_url) as session:
        binder = Binder(session)
        with _statements(database_url) as seen:
            states = binder.states("crm", "customer", ids + ["unknown"])
            to_hub = binder.to_hub("crm", "customer", ids)
            to_external = binder.to_external("customer", list(range(1, 501)), "crm")
        assert len(seen) == 3, seen  # one statement per page, never one per record
        assert len(states) == len(to_hub) == len(to_external) == 500 and "unknown" not in states
        assert states["C7"].hub_id == 8 and states["C7"].content_hash == "h7" and not states["C7"].missing
        assert to_external[1] == "C0"  # its first record there, not whichever was linked last
        assert list(binder.copies("customer", [1])[1]) == ["crm"]
