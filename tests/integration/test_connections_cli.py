"""Connections as IT manages them: add with a field map that exists, update, test end to end,
remove without orphaning data unnoticed — each mistake a one-line error that says which side is
wrong, never a traceback. Against a system held in memory (``tests.support.memory``)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.api.app import create_app
from hub.auth.models import Role
from hub.db import session_scope, utcnow
from hub.settings import Settings
from hub.sync.connections import add_connection
from hub.sync.engine import SyncEngine
from hub.sync.models import Connection, Link
from tests.support.memory import STORES, customer, hub_cli, memory_hub  # noqa: F401 - fixture

KEY = "connections-cli-key"


def _hub(monkeypatch: pytest.MonkeyPatch, url: str, mappings_dir: Path, *args: str) -> Any:
    return hub_cli(monkeypatch, url, mappings_dir, KEY, *args)


@pytest.mark.usefixtures("memory_hub")
def test_a_connection_without_its_field_map_is_refused_at_add_and_named_at_sync(
    database_url: str,
    mappings_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    soap = _hub(
        monkeypatch, database_url, mappings_dir, "connections", "add", "crm", "--kind", "soap", "-s", "service=sugar"
    )
    assert soap.exit_code == 1 and "Traceback" not in soap.stderr
    said = " ".join(soap.stderr.split())
    assert "our configuration is wrong: no field map 'soap' (no setting 'mapping'" in said
    assert "hub connections update crm -s mapping=NAME (field maps: accounting," in said and "sugar" in said
    wrong = _hub(
        monkeypatch,
        database_url,
        mappings_dir,
        "connections",
        "add",
        "crm",
        "--kind",
        "memory",
        "-s",
        "store=crm",
        "-s",
        "mapping=nope",
    )
    assert wrong.exit_code == 1 and "no field map 'nope'" in wrong.stderr
    with session_scope(database_url) as session:
        assert session.scalars(select(Connection)).all() == []  # nothing half-added
        # one stored before the check (or its map deleted since): hub sync names it, no traceback
        add_connection(
            session, name="crm", kind="memory", secret_key=KEY, secrets={}, settings={"store": "crm", "mapping": "nope"}
        )
    sync = _hub(monkeypatch, database_url, mappings_dir, "sync", "crm")
    assert sync.exit_code == 1 and "connection 'crm': our configuration is wrong: no field map 'nope'" in " ".join(
        sync.stderr.split()
    )
    test = _hub(monkeypatch, database_url, mappings_dir, "connections", "test", "crm")
    assert test.exit_code == 1 and "no field map 'nope'" in test.stderr
    fixed = _hub(monkeypatch, database_url, mappings_dir, "connections", "update", "crm", "--unset", "mapping")
    assert fixed.exit_code == 0 and "connection 'crm' updated: mapping" in fixed.stdout
    assert _hub(monkeypatch, database_url, mappings_dir, "sync", "crm").exit_code == 0


@pytest.mark.usefixtures("memory_hub")
def test_update_changes_only_what_it_names_and_secrets_stay_hidden(
    database_url: str,
    mappings_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    added = _hub(
        monkeypatch,
        database_url,
        mappings_dir,
        "connections",
        "add",
        "crm",
        "--kind",
        "memory",
        "-s",
        "store=crm",
        "-s",
        "page_size=2",
        "--secret",
        "token=old",
    )
    assert added.exit_code == 0, added.stderr
    updated = _hub(
        monkeypatch,
        database_url,
        mappings_dir,
        "connections",
        "update",
        "crm",
        "-s",
        "page_size=50",
        "--secret",
        "token=new",
        "--interval",
        "600",
    )
    assert updated.exit_code == 0 and "connection 'crm' updated: " in updated.stdout, updated.stderr
    assert set(updated.stdout.split("updated: ")[1].strip().split(", ")) == {"interval_seconds", "page_size", "token"}
    [listed] = json.loads(_hub(monkeypatch, database_url, mappings_dir, "connections", "list", "--json").stdout)
    assert listed["settings"] == {"store": "crm", "page_size": "50"} and listed["has_secrets"]
    assert listed["interval_seconds"] == 600 and "new" not in json.dumps(listed)
    from hub.sync.secrets import decrypt

    with session_scope(database_url) as session:
        row = session.scalars(select(Connection)).one()
        assert decrypt(row.secrets_encrypted, KEY, "crm") == {"token": "new"}
    again = _hub(monkeypatch, database_url, mappings_dir, "connections", "update", "crm", "-s", "page_size=50")
    assert again.exit_code == 0 and "nothing changed" in again.stdout
    for args, said in (
        (("update", "erp", "-s", "x=1"), "no connection named 'erp'"),
        (("update", "crm", "--unset", "colour"), "connection 'crm' has no setting or secret 'colour' to unset"),
        (("update", "crm", "-s", "mapping=nope"), "no field map 'nope'"),
    ):
        refused = _hub(monkeypatch, database_url, mappings_dir, "connections", *args)
        assert refused.exit_code == 1 and said in " ".join(refused.stderr.split()), (args, refused.stderr)
    with session_scope(database_url) as session:
        assert (
            session.scalars(select(Connection)).one().settings.get("mapping") is None
        )  # a refused update changes nothing


@pytest.mark.usefixtures("memory_hub")
def test_connections_test_reads_a_page_of_each_stream_and_says_what_does_not_fit(
    database_url: str,
    mappings_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    STORES["crm"] = {
        "customers": {r["id"]: r for r in (customer(1), customer(2), customer(3))},
        "orders": {"O1": {"id": "O1", "number": "O1", "customer": "C1", "ordered_on": "yesterday", "total": "5"}},
    }
    with session_scope(database_url) as session:
        add_connection(
            session, name="crm", kind="memory", secret_key=KEY, secrets={}, settings={"store": "crm", "page_size": 2}
        )
    tested = _hub(monkeypatch, database_url, mappings_dir, "connections", "test", "crm")
    assert tested.exit_code == 1  # a record the field map cannot take is a finding
    assert "crm: OK (in memory" in tested.stdout
    assert "customers: 2 record(s) on the first page, all fit the field map" in tested.stdout
    # a path that finds nothing in a non-empty page is named (the memory system has no phones)
    assert "found nothing in any of them: phone ('phone')" in tested.stdout
    said = " ".join(tested.stderr.split())
    assert (
        "orders: 1 record(s) on the first page, 1 would be dead letters (first: O1: our field map: orders: "
        "ordered_on: 'yesterday'" in said
    )
    STORES["crm"]["orders"]["O1"]["ordered_on"] = "2026-11-30"
    with session_scope(database_url) as session:  # syncs failed meanwhile: the breaker is open
        row = session.scalars(select(Connection)).one()
        row.consecutive_failures, row.open_until = 3, utcnow() + timedelta(minutes=5)
    passed = _hub(monkeypatch, database_url, mappings_dir, "connections", "test", "crm")
    assert passed.exit_code == 0 and "circuit breaker closed" in passed.stdout, passed.stderr
    with session_scope(database_url) as session:
        assert session.scalars(select(Connection)).one().open_until is None


@pytest.mark.usefixtures("memory_hub")
def test_remove_refuses_while_links_would_be_orphaned_unless_forced(
    database_url: str,
    mappings_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    STORES["crm"] = {"customers": {r["id"]: r for r in (customer(1), customer(2))}}
    assert (
        _hub(
            monkeypatch, database_url, mappings_dir, "connections", "add", "crm", "--kind", "memory", "-s", "store=crm"
        ).exit_code
        == 0
    )
    assert _hub(monkeypatch, database_url, mappings_dir, "sync", "crm", "--stream", "customers").exit_code == 0
    refused = _hub(monkeypatch, database_url, mappings_dir, "connections", "remove", "crm")
    assert refused.exit_code == 1
    said = " ".join(refused.stderr.split())
    assert "connection 'crm' is still in use; removing it would orphan 2 link(s)" in said and "--force" in said
    forced = _hub(monkeypatch, database_url, mappings_dir, "connections", "remove", "crm", "--force")
    assert forced.exit_code == 0 and "its links and documents kept (2 link(s))" in forced.stdout
    with session_scope(database_url) as session:
        assert session.scalars(select(Connection)).all() == []
        assert len(session.scalars(select(Link).where(Link.system == "crm")).all()) == 2  # kept


@pytest.mark.usefixtures("memory_hub")
def test_the_api_updates_tests_and_removes_a_connection(
    database_url: str,
    mappings_dir: Path,
    token_for: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    STORES["crm"] = {"customers": {"C1": customer(1)}}
    settings = Settings(database_url=database_url, mappings_dir=mappings_dir, broker_url=None, secret_key=KEY)
    it = token_for(Role.it)
    with TestClient(create_app(settings)) as client:
        bad = client.post(
            "/api/v1/connections",
            headers=it,
            json={"name": "crm", "kind": "memory", "settings": {"store": "crm", "mapping": "nope"}},
        )
        assert bad.status_code == 422 and "no field map 'nope'" in bad.json()["detail"]
        assert (
            client.post(
                "/api/v1/connections", headers=it, json={"name": "crm", "kind": "memory", "settings": {"store": "crm"}}
            ).status_code
            == 201
        )
        assert client.patch("/api/v1/connections/crm", headers=token_for(Role.sales), json={}).status_code == 403
        changed = client.patch("/api/v1/connections/crm", headers=it, json={"settings": {"page_size": 1}})
        assert changed.status_code == 200 and changed.json()["changed"] == ["page_size"], changed.text
        assert changed.json()["settings"]["page_size"] == 1
        assert client.patch("/api/v1/connections/erp", headers=it, json={}).status_code == 404
        assert (
            client.patch("/api/v1/connections/crm", headers=it, json={"settings": {"mapping": "nope"}}).status_code
            == 422
        )
        tested = client.post("/api/v1/connections/crm/test", headers=it).json()
        assert tested["ok"] and [(s["stream"], s["read"], s["error"]) for s in tested["streams"]] == [
            ("customers", 1, None),
            ("orders", 0, None),
        ]
        assert client.post("/api/v1/connections/crm/sync", headers=it, json={"force": True}).status_code == 422
        [synced] = SyncEngine(database_url, mappings_dir, KEY).sync("crm", ["customers"])
        assert synced.status == "done" and synced.created == 1
        refused = client.delete("/api/v1/connections/crm", headers=it)
        assert refused.status_code == 409 and "orphan 1 link(s)" in refused.json()["detail"]
        gone = client.delete("/api/v1/connections/crm?force=true", headers=it)
        assert gone.status_code == 200 and gone.json()["links_kept"] == 1


@pytest.mark.usefixtures("memory_hub")
def test_update_checks_the_connectors_own_settings_as_add_does(
    database_url: str,
    mappings_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    added = _hub(
        monkeypatch,
        database_url,
        mappings_dir,
        "connections",
        "add",
        "hook",
        "--kind",
        "webhook",
        "-s",
        "base_url=http://127.0.0.1:9/in",
        "--secret",
        "signing_secret=s3cret",
    )
    assert added.exit_code == 0, added.stderr
    refused = _hub(monkeypatch, database_url, mappings_dir, "connections", "update", "hook", "-s", "retries=many")
    assert refused.exit_code == 1 and "retries" in refused.stderr and "Traceback" not in refused.stderr
    gone = _hub(monkeypatch, database_url, mappings_dir, "connections", "update", "hook", "--unset", "signing_secret")
    assert gone.exit_code == 1 and "signing_secret" in gone.stderr  # a required secret cannot be unset
    ok = _hub(monkeypatch, database_url, mappings_dir, "connections", "update", "hook", "-s", "retries=5")
    assert ok.exit_code == 0 and "updated: retries" in ok.stdout, ok.stderr
    with session_scope(database_url) as session:
        assert session.scalars(select(Connection)).one().settings["retries"] == 5  # parsed, as at add
    # the hub's own settings of every kind: the full-read guard's ratio, the read-back
    assert (
        _hub(
            monkeypatch,
            database_url,
            mappings_dir,
            "connections",
            "update",
            "hook",
            "-s",
            "min_full_read_ratio=0.3",
            "-s",
            "verify=false",
        ).exit_code
        == 0
    )
    too_much = _hub(
        monkeypatch, database_url, mappings_dir, "connections", "update", "hook", "-s", "min_full_read_ratio=2"
    )
    assert too_much.exit_code == 1 and "min_full_read_ratio" in too_much.stderr
    with session_scope(database_url) as session:
        stored = session.scalars(select(Connection)).one().settings
        assert (stored["min_full_read_ratio"], stored["verify"]) == (0.3, False)


@pytest.mark.usefixtures("memory_hub")
def test_a_connector_bug_at_sync_is_one_line_and_a_failed_run_not_a_traceback(
    database_url: str,
    mappings_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hub.sync.models import SyncRun

    with session_scope(database_url) as session:
        add_connection(
            session,
            name="crm",
            kind="memory",
            secret_key=KEY,
            secrets={},
            settings={"store": "crm", "crash": "AccountName"},
        )
    run = _hub(monkeypatch, database_url, mappings_dir, "sync", "crm", "--stream", "customers")
    assert run.exit_code == 1 and "Traceback" not in run.stderr
    said = " ".join(run.stderr.split())
    assert "crm customers: the sync stopped on an unexpected error: KeyError: 'AccountName' (run 1 is recorded" in said
    with session_scope(database_url) as session:
        assert [r.status for r in session.scalars(select(SyncRun))] == ["failed"]
