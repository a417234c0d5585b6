"""Values from data reach the operator's terminal as text: rich markup is printed literally and
escape sequences (clear screen, window title) are shown, never sent to the terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hub.db import session_scope
from hub.master.ingest import CustomerMaster

NAME = "[bold]x[/bold]\x1b[2J Trading\x1b]0;owned\x07 GmbH"


def test_a_customer_name_with_markup_and_escape_sequences_prints_as_text(database_url: str, mappings_dir: Path) -> None:
    with session_scope(database_url) as session:
        golden = (
            CustomerMaster(session, mappings_dir)
            .ingest("crm", "[red]A1[/red]", {"name": NAME, "country": "DE"})
            .golden_id
        )
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_MAPPINGS_DIR": str(mappings_dir), "COLUMNS": "200"}
    shown = subprocess.run(
        [sys.executable, "-m", "hub", "customers", "show", str(golden)],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    assert "[bold]x[/bold]" in shown.stdout and "[red]A1[/red]" in shown.stdout  # the brackets, literally
    assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout
    assert "\\x1b[2J" in shown.stdout  # what was there is visible
