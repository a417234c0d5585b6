"""The `hub` command as a user runs it: a real subprocess, a real database file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.customer_files import write_crm, write_erp


def hub(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "hub", *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr + result.stdout
    return result


@pytest.fixture
def env(database_url: str, mappings_dir: Path) -> dict[str, str]:
    return {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_MAPPINGS_DIR": str(mappings_dir)}


def test_import_then_show_by_a_systems_id(env, tmp_path):
    first = hub(env, "import", "customers", "--system", "erp", str(write_erp(tmp_path)))
    assert "created 5" in first.stdout and "quarantined 0" in first.stdout
    again = hub(env, "import", "customers", "--system", "erp", str(tmp_path / "erp_parties.csv"))
    assert "created 0" in again.stdout and "unchanged 5" in again.stdout
    hub(env, "import", "customers", "--system", "crm", str(write_crm(tmp_path)))

    shown = hub(env, "customers", "show", "--system", "crm", "--external-id", "A102", "--json")
    detail = json.loads(shown.stdout)
    assert detail["fields"]["name"]["value"] == "トヨタ自動車株式会社"
    assert {(s["system"], s["external_id"]) for s in detail["sources"]} == {("erp", "P-3"), ("crm", "A102")}

    missing = hub(env, "customers", "show", "--system", "crm", "--external-id", "nope", check=False)
    assert missing.returncode == 1 and "no such customer" in missing.stderr


def test_import_reports_quarantined_rows(env, tmp_path):
    path = write_erp(
        tmp_path, [("P-1", "???", "", "", "", "", "", "", "DE"), ("P-2", "Real GmbH", "", "", "", "", "Köln", "", "DE")]
    )
    out = hub(env, "import", "customers", "--system", "erp", str(path)).stdout
    assert "created 1" in out and "quarantined 1" in out
    assert "row 2: name" in out or "row 2: no usable name" in out
    listed = json.loads(hub(env, "quarantine", "list", "--json").stdout)
    assert listed[0]["row"] == 2 and listed[0]["source"].endswith("erp_parties.csv")


def test_token_create_prints_a_token_the_api_accepts(env, settings):
    from fastapi.testclient import TestClient

    from hub.api.app import create_app

    token = hub(env, "token", "create", "--role", "finance").stdout.strip()
    assert token.startswith("hub_")
    with TestClient(create_app(settings)) as client:
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "finance"


def test_mappings_check_names_file_line_and_field(env, mappings_dir):
    assert "mappings OK" in hub(env, "mappings", "check").stdout
    matching = mappings_dir / "matching.yaml"
    matching.write_text(matching.read_text().replace("link: 7.0", "link: high"))
    result = hub(env, "mappings", "check", check=False)
    assert result.returncode == 1
    assert "matching.yaml:10: thresholds.link:" in result.stderr.replace("\n", "")


def test_a_national_phone_is_read_in_the_hubs_countries_or_asks_for_country(env, tmp_path):
    unknown = hub(env, "customers", "search", "--phone", "030 1234567", check=False)
    assert unknown.returncode == 2 and "--country" in unknown.stderr, unknown.stderr  # nothing to infer it from
    hub(env, "import", "customers", "--system", "erp", str(write_erp(tmp_path)))
    found = json.loads(hub(env, "customers", "search", "--phone", "030 1234567", "--json").stdout)
    assert [r["name"] for r in found] == ["Müller Bau GmbH"]  # read as German: most customers are
    nobody = hub(env, "customers", "search", "--phone", "030 7654321")
    assert "no customer found with phone 030 7654321" in nobody.stderr


def test_table_commands_answer_json_for_machines(env, tmp_path):
    hub(env, "token", "create", "--role", "finance")
    [token] = json.loads(hub(env, "token", "list", "--json").stdout)
    assert token["role"] == "finance" and token["revoked"] is None and token["created"]
    bad_vat = ("P-9", "Brandt Feinmechanik GmbH", "DE123456789", "", "", "", "Stuttgart", "70499", "DE")
    hub(env, "import", "customers", "--system", "erp", str(write_erp(tmp_path, [bad_vat])))
    counts = json.loads(hub(env, "master", "quality", "--json").stdout)
    assert counts == [{"system": "erp", "field": "tax_id", "reason": counts[0]["reason"], "count": 1}]
    assert "check digit" in counts[0]["reason"]
