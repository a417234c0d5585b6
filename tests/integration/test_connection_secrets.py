"""Connection secrets: a password written into a URL setting is stored encrypted, never listed,
and still reaches the system; a wrong HUB_SECRET_KEY is a clear 409 (API) or message (CLI),
never a 500 or a connection stored under the wrong key; a connection can be removed."""

from __future__ import annotations

import json
import os
import secrets as random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from hub.api.app import create_app
from hub.auth.models import Role
from hub.db import session_scope
from hub.settings import Settings
from hub.sync.connections import add_connection
from hub.sync.models import Connection, SyncCursor, SyncRun
from tests.integration.test_sql_connector import crm
from tests.support import servers

KEY = "the-right-key"
WRONG = "hub's secret key does not decrypt connection 'erp''s secrets: set HUB_SECRET_KEY"


@pytest.fixture
def mariadb_with_password() -> Iterator[tuple[str, str]]:
    """A legacy CRM database on MariaDB that only a user with a password may open:
    its URL without the password, and the password."""
    server = servers.mysql_server_url()
    if server is None:
        pytest.skip("HUB_TEST_MYSQL_URL is not set: no MariaDB server to test against")
    url = servers.create_database(server, prefix="legacy_pw")
    user, password = f"concord_{random.token_hex(4)}", "s3cr%t@" + random.token_hex(4)
    admin = create_engine(url)
    crm.create_all(admin)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"))
        conn.execute(text(f"GRANT ALL ON `{make_url(url).database}`.* TO '{user}'@'%'"))
    admin.dispose()
    try:
        yield make_url(url).set(username=user, password=None).render_as_string(hide_password=False), password
    finally:
        with create_engine(server).begin() as conn:
            conn.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))
        servers.drop_database(url)


def _with_password(url: str, password: str) -> str:
    from urllib.parse import quote

    user_at = url.index("@")
    return url[:user_at] + ":" + quote(password, safe="") + url[user_at:]


def _client(settings: Settings, key: str) -> TestClient:
    return TestClient(create_app(settings.model_copy(update={"secret_key": key})))


def test_a_password_in_a_url_setting_is_stored_encrypted_never_listed_and_still_connects(
    settings: Settings, token_for: Any, database_url: str, mappings_dir: Path, mariadb_with_password: tuple[str, str]
) -> None:
    bare, password = mariadb_with_password
    full = _with_password(bare, password)
    with pytest.raises(Exception, match="Access denied"):
        create_engine(bare).connect().close()

    it = token_for(Role.it)
    with _client(settings, KEY) as client:
        body = {
            "name": "legacy",
            "kind": "sql",
            "settings": {"url": full, "tables": "legacy_crm", "mapping": "legacy_sql"},
        }
        created = client.post("/api/v1/connections", json=body, headers=it)
        assert created.status_code == 201, created.text
        listed = client.get("/api/v1/connections", headers=it)
        tested = client.post("/api/v1/connections/legacy/test", headers=it)
    assert password not in listed.text and "s3cr" not in listed.text
    assert listed.json()[0]["settings"]["url"] == bare  # the user stays, the password goes
    with session_scope(database_url) as session:
        row = session.scalars(select(Connection)).one()
        stored = json.dumps(row.settings) + (row.secrets_encrypted or "")
        assert password not in stored and "s3cr" not in stored
    assert tested.status_code == 200 and tested.json()["ok"], tested.text  # the password reached MariaDB


def _connection(database_url: str, secret_key: str = KEY) -> None:
    with session_scope(database_url) as session:
        add_connection(
            session,
            name="erp",
            kind="webhook",
            settings={"url": "http://127.0.0.1:9/hook"},
            secrets={"signing_secret": "s"},
            secret_key=secret_key,
        )


def test_a_wrong_secret_key_is_a_clear_409_and_no_connection_is_added_under_it(
    settings: Settings, token_for: Any, database_url: str
) -> None:
    _connection(database_url)
    it = token_for(Role.it)
    with _client(settings, "not-the-key") as client:
        for path in ("/api/v1/connections/erp/test", "/api/v1/connections/erp/sync"):
            answer = client.post(path, json={}, headers=it)
            assert answer.status_code == 409 and WRONG in answer.json()["detail"], (path, answer.text)
            assert "hub secrets rotate --old-key" in answer.json()["detail"]
        added = client.post(
            "/api/v1/connections",
            headers=it,
            json={
                "name": "crm",
                "kind": "webhook",
                "settings": {"url": "http://127.0.0.1:9/x"},
                "secrets": {"signing_secret": "t"},
            },
        )
        assert added.status_code == 409 and WRONG in added.json()["detail"]
    with session_scope(database_url) as session:
        assert session.scalars(select(Connection.name)).all() == ["erp"]


def _hub(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], check=False, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_cli_says_what_to_do_about_a_wrong_key_and_removes_a_connection(
    database_url: str, mappings_dir: Path
) -> None:
    _connection(database_url)
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_MAPPINGS_DIR": str(mappings_dir)}
    for args in (
        ("connections", "test", "erp"),
        ("sync", "erp"),
        ("connections", "add", "crm", "--kind", "webhook", "-s", "url=http://127.0.0.1:9/x"),
    ):
        wrong = _hub({**env, "HUB_SECRET_KEY": "not-the-key"}, *args)
        assert wrong.returncode == 1 and "Traceback" not in wrong.stderr, wrong.stderr
        assert WRONG in " ".join(wrong.stderr.split()), (args, wrong.stderr)

    with session_scope(database_url) as session:
        erp = session.scalars(select(Connection)).one()
        session.add(SyncCursor(connection_id=erp.id, stream="orders", value="7"))
        session.add(SyncRun(connection_id=erp.id, stream="orders", system="erp", entity_type="order", source="erp"))
    removed = _hub({**env, "HUB_SECRET_KEY": KEY}, "connections", "remove", "erp")
    assert removed.returncode == 0, removed.stderr
    assert "1 cursor(s) deleted" in removed.stdout and "1 run(s), its links and documents kept" in removed.stdout
    with session_scope(database_url) as session:
        assert session.scalars(select(Connection)).all() == [] and session.scalars(select(SyncCursor)).all() == []
        assert session.scalars(select(SyncRun.system)).all() == ["erp"]
    again = _hub({**env, "HUB_SECRET_KEY": KEY}, "connections", "remove", "erp")
    assert again.returncode == 1 and "no connection named 'erp'" in again.stderr


def test_it_removes_a_connection_through_the_api(settings: Settings, token_for: Any, database_url: str) -> None:
    _connection(database_url)
    with _client(settings, KEY) as client:
        assert client.delete("/api/v1/connections/erp", headers=token_for(Role.sales)).status_code == 403
        gone = client.delete("/api/v1/connections/erp", headers=token_for(Role.it))
        assert gone.status_code == 200 and gone.json()["cursors"] == 0, gone.text
        assert client.delete("/api/v1/connections/erp", headers=token_for(Role.it)).status_code == 404
        assert client.get("/api/v1/connections", headers=token_for(Role.it)).json() == []
