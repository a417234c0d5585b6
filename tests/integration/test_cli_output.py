"""What a person sees in the terminal (issue 16): no Alembic chatter on every command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
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


def _hub(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _two_connections(tmp_path: Path) -> dict[str, str]:
    """A file drop that syncs (its inbox exists, empty) and one whose inbox has gone."""
    from hub.db import session_scope
    from hub.migrate import upgrade
    from hub.sync.connections import add_connection

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    (tmp_path / "inbox").mkdir()
    with session_scope(url) as session:
        for name, inbox in (("crmfiles", tmp_path / "inbox"), ("oldfiles", tmp_path / "gone")):
            add_connection(
                session,
                name=name,
                kind="files",
                settings={"inbox": str(inbox), "files": "crm", "mapping": "crm_files", "settle_seconds": 0},
                secrets={},
                secret_key="k",
            )
    return {**os.environ, "HUB_DATABASE_URL": url, "HUB_SECRET_KEY": "k", "COLUMNS": "200"}


def test_hub_sync_without_a_name_lists_the_connections(tmp_path: Path) -> None:
    env = _two_connections(tmp_path)
    result = _hub(env, "sync")
    assert result.returncode == 0, result.stderr
    assert "crmfiles" in result.stdout and "oldfiles" in result.stdout and "files" in result.stdout
    assert "hub sync --all" in result.stderr and "Traceback" not in result.stderr
    listed = json.loads(_hub(env, "sync", "--json").stdout)
    assert [r["name"] for r in listed] == ["crmfiles", "oldfiles"]


def test_hub_sync_all_syncs_each_connection_and_fails_if_one_did(tmp_path: Path) -> None:
    env = _two_connections(tmp_path)
    result = _hub(env, "sync", "--all")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout + result.stderr
    [ok] = [line for line in out.splitlines() if line.startswith("crmfiles:")]
    [bad] = [line for line in out.splitlines() if line.startswith("oldfiles:")]
    assert "failed" not in ok.replace("failed 0", "") and "read 0" in ok, out
    assert "failed" in bad and "gone" in bad, out  # its reason names the missing folder
    assert "1 of 2 connection(s) failed: oldfiles" in result.stderr and "Traceback" not in out


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


def test_the_cli_uses_the_hub_that_serve_recorded_with_its_key(tmp_path: Path) -> None:
    """`hub serve` records its database and key file in var/hub.toml; `hub …` in a second
    terminal (no HUB_ variables) works on that hub, decrypting its secrets, and says so."""
    from tests.support.servers import _free_port

    hub_dir = tmp_path / "elsewhere"
    hub_dir.mkdir()
    url = f"sqlite:///{hub_dir / 'hub.db'}"
    bare = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    serve = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve", "--port", str(_free_port()), "--no-scheduler"],
        env={**bare, "HUB_DATABASE_URL": url},
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "var" / "hub.toml").exists():
            assert time.monotonic() < deadline and serve.poll() is None, "hub serve wrote no var/hub.toml"
            time.sleep(0.1)
    finally:
        serve.terminate()
        serve.wait(30)
    recorded = (tmp_path / "var" / "hub.toml").read_text()
    key = (hub_dir / "secret.key").read_text().strip()
    assert url in recorded and str(hub_dir / "secret.key") in recorded and key not in recorded

    added = _hub(
        bare, "connections", "add", "erp", "--kind", "webhook", "-s", "url=http://127.0.0.1:9/x",
        "--secret", "signing_secret=s", cwd=tmp_path,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "var/hub.toml" in added.stderr and str(hub_dir / "hub.db") in added.stderr
    assert not (tmp_path / "var" / "hub.db").exists()  # no second, empty hub

    from hub.db import session_scope
    from hub.sync.connections import get_connection
    from hub.sync.secrets import decrypt

    with session_scope(url) as session:
        row = get_connection(session, "erp")
        assert decrypt(row.secrets_encrypted, key, "erp")  # stored with the served hub's key
