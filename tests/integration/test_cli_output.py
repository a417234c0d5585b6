"""What a person sees in the terminal (issue 16): no Alembic chatter on every command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_command_on_a_new_database_prints_no_migration_chatter(tmp_path: Path) -> None:
    env = {**os.environ, "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}"}
    env.pop("HUB_LOG_LEVEL", None)
    result = subprocess.run([sys.executable, "-m", "hub", "token", "list"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "alembic" not in (result.stdout + result.stderr)
    debug = subprocess.run([sys.executable, "-m", "hub", "token", "list"],
                           env={**env, "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}",
                                "HUB_LOG_LEVEL": "DEBUG"},
                           capture_output=True, text=True, timeout=120)
    assert "Running upgrade" in debug.stderr  # still there for whoever debugs a migration
