"""What a person sees in the terminal (issue 16): no Alembic chatter on every command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_command_on_a_new_database_prints_no_migration_chatter(tmp_path: Path) -> None:
    env = {**os.environ, "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}"}
    env.pop("HUB_LOG_LEVEL", None)
    result = subprocess.run(
        [sys.executable, "-m", "hub", "token", "list"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "alembic" not in (result.stdout + result.stderr)
    debug = subprocess.run(
        [sys.executable, "-m", "hub", "token", "list"],
        env={**env, "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}", "HUB_LOG_LEVEL": "DEBUG"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Running upgrade" in debug.stderr  # still there for whoever debugs a migration


def test_hub_sync_without_a_name_lists_the_connections(tmp_path: Path) -> None:
    from hub.db import session_scope
    from hub.migrate import upgrade
    from hub.sync.connections import add_connection

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    with session_scope(url) as session:
        add_connection(
            session,
            name="erp",
            kind="webhook",
            settings={"url": "http://127.0.0.1:9/x"},
            secrets={"signing_secret": "s"},
            secret_key="k",
        )
    env = {**os.environ, "HUB_DATABASE_URL": url, "HUB_SECRET_KEY": "k"}
    result = subprocess.run([sys.executable, "-m", "hub", "sync"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "erp (webhook)" in result.stderr and "Traceback" not in result.stderr


def test_a_second_terminal_beside_the_demo_is_told_where_the_demo_is(tmp_path: Path) -> None:
    (tmp_path / "var" / "demo").mkdir(parents=True)
    (tmp_path / "var" / "demo" / "hub.db").write_bytes(b"")
    env = {k: v for k, v in os.environ.items() if k != "HUB_DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "hub", "token", "list"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "var/demo/hub.db" in result.stderr and "export HUB_DATABASE_URL=" in result.stderr
