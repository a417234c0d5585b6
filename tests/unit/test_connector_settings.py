"""Connection settings are typed per connector and checked when the connection is added.

Before, settings were an untyped dict: ``-s page_size=lots`` was stored and failed at the first
sync, a typo (``-s page_szie=50``) was ignored silently, and the retry setting was ``attempts``,
``retry_attempts`` or absent depending on the connector.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.accounting import AccountingConnector
from connectors.filedrop import FileDropConnector
from connectors.registry import available, connector_class
from connectors.settings import ConnectorSettings, SettingsError, describe_kind, validate_connection
from connectors.soap import SoapConnector
from connectors.sql import SqlConnector
from connectors.tryton import TrytonConnector
from connectors.webhook import WebhookConnector

BUILT_IN = ["accounting", "files", "soap", "sql", "tryton", "webhook"]


def _problems(cls: type, settings: dict, secrets: dict) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        validate_connection(cls, settings, secrets)
    return caught.value.problems


def test_a_bad_value_is_refused_at_add_time_naming_the_setting() -> None:
    problems = _problems(
        TrytonConnector,
        {"url": "http://erp:8000/", "database": "d", "page_size": "lots", "timeout": "0"},
        {"password": "pw"},
    )
    assert problems == ["page_size: not an integer", "timeout: Input should be greater than 0"]


def test_a_typo_a_missing_setting_and_a_missing_secret_are_named_together() -> None:
    problems = _problems(WebhookConnector, {"page_szie": "50"}, {})
    assert problems == [
        "base_url: required setting",
        "page_szie: unknown setting (known: base_url, retries, streams, timeout)",
        "signing_secret: required secret",
    ]
    assert _problems(AccountingConnector, {"url": "http://x"}, {"client_secret": "s"}) == [
        "secrets: client_id and client_secret (or access_token) required"
    ]
    assert _problems(SqlConnector, {"url": "not a url", "tables": "t", "timezone": "Mars/Olympus"}, {}) == [
        "url: not an SQLAlchemy URL (dialect+driver://user@host/database)",
        "timezone: unknown time zone 'Mars/Olympus' (an IANA name such as Europe/Berlin)",
    ]


def test_command_line_text_is_parsed_and_stored_under_todays_names() -> None:
    checked = validate_connection(
        WebhookConnector,
        {
            "url": "http://hook/",
            "timeout": "2.5",
            "attempts": "5",
            "streams": "orders, invoices",
            "lanes": "2",
        },
        {"signing_secret": "s"},
    )
    assert checked.stored_settings() == {
        "base_url": "http://hook/",
        "timeout": 2.5,
        "retries": 4,
        "streams": ["orders", "invoices"],
        "lanes": 2,
    }
    assert checked.notes == ["attempts: deprecated, now retries", "url: deprecated, now base_url"]


def test_a_secret_given_as_a_setting_is_taken_as_that_secret() -> None:
    checked = validate_connection(TrytonConnector, {"base_url": "http://erp/", "database": "d", "password": "pw"}, {})
    assert "password" not in checked.stored_settings() and checked.secret_values == {"password": "pw"}
    assert checked.notes == ["password: a secret of tryton, stored encrypted with the secrets"]


@pytest.mark.parametrize(
    ("old", "value", "retries"), [("attempts", 4, 3), ("retry_attempts", "2", 1), ("retries", 0, 0)]
)
def test_stored_connections_with_the_old_names_keep_working(old: str, value: object, retries: int) -> None:
    tryton = TrytonConnector({"url": "http://erp/", "database": "d", old: value}, {"password": "pw"})
    assert tryton.options.base_url == "http://erp/" and tryton.options.retries == retries
    assert tryton.rpc._attempts == retries + 1
    finance = AccountingConnector({"url": "http://fin", old: value}, {"access_token": "t"})
    assert finance.client._attempts == retries + 1
    tryton.close()
    finance.close()


def test_a_stale_setting_of_a_stored_connection_is_left_out_but_a_bad_value_is_not() -> None:
    hook = WebhookConnector({"url": "http://hook/", "dropped_long_ago": "x"}, {"signing_secret": "s"})
    assert hook.url == "http://hook/" and hook.settings["dropped_long_ago"] == "x"  # the raw mapping stays
    hook.close()
    with pytest.raises(SettingsError, match="timeout: not a number"):
        WebhookConnector({"url": "http://hook/", "timeout": "soon"}, {"signing_secret": "s"})


def test_one_name_per_idea_across_connectors() -> None:
    for cls in (TrytonConnector, AccountingConnector, WebhookConnector):
        assert {"base_url", "timeout", "retries"} <= set(cls.Settings.model_fields), cls
    for cls in (TrytonConnector, AccountingConnector, SoapConnector):
        assert {"timeout", "retries", "page_size"} <= set(cls.Settings.model_fields), cls
    for cls in (SqlConnector, FileDropConnector):
        assert "page_size" in cls.Settings.model_fields
    every = [connector_class(kind).Settings for kind in BUILT_IN]
    for name in ("attempts", "retry_attempts", "url_base", "page", "pagesize"):
        assert not any(name in model.model_fields for model in every), name
    assert all(issubclass(model, ConnectorSettings) for model in every)


def test_help_kind_lists_every_setting_and_secret_with_type_default_and_meaning() -> None:
    assert set(BUILT_IN) <= set(available())
    for kind in BUILT_IN:
        cls = connector_class(kind)
        text = describe_kind(cls)
        for name, info in {**cls.Settings.model_fields, **cls.Secrets.model_fields}.items():
            [line] = [row for row in text.splitlines() if row.split()[:1] == [name]]
            assert info.description and info.description.split(" (")[0][:30] in line, (kind, line)
    tryton = describe_kind(TrytonConnector).splitlines()
    assert any(r.split()[:4] == ["page_size", "integer", "default", "200"] for r in tryton)
    assert any(r.split()[:3] == ["password", "text", "required"] for r in tryton)
    assert any("(old names: attempts, retry_attempts)" in r for r in tryton if r.split()[:1] == ["retries"])


def test_the_cli_refuses_a_bad_setting_and_stores_a_good_one_under_todays_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    from hub.cli import app
    from hub.settings import get_settings

    database = tmp_path / "hub.db"
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("HUB_SECRET_KEY", "k")
    get_settings.cache_clear()  # read this environment, not an earlier test's
    request.addfinalizer(get_settings.cache_clear)
    runner = CliRunner()
    refused = runner.invoke(
        app,
        [
            "connections",
            "add",
            "erp",
            "--kind",
            "tryton",
            "-s",
            "url=http://erp:8000/",
            "-s",
            "database=d",
            "-s",
            "page_size=lots",
            "--secret",
            "password=pw",
        ],
    )
    assert refused.exit_code == 1
    assert "page_size: not an integer" in refused.output and "--help-kind tryton" in refused.output
    assert "Traceback" not in refused.output
    from hub.db import session_scope
    from hub.sync.models import Connection

    with session_scope(f"sqlite:///{database}") as session:
        assert session.query(Connection).count() == 0  # nothing stored
    added = runner.invoke(
        app,
        [
            "connections",
            "add",
            "erp",
            "--kind",
            "tryton",
            "-s",
            "url=http://erp:8000/",
            "-s",
            "database=d",
            "-s",
            "attempts=2",
            "--secret",
            "password=pw",
        ],
    )
    assert added.exit_code == 0, added.output
    assert "attempts: deprecated, now retries" in added.output and "credentials" not in added.output
    with session_scope(f"sqlite:///{database}") as session:
        [row] = session.query(Connection).all()
        assert row.settings == {"base_url": "http://erp:8000/", "database": "d", "retries": 1}

    listed = runner.invoke(app, ["connections", "add", "--help-kind", "sql"])
    assert listed.exit_code == 0 and "timezone" in listed.output and "default UTC" in listed.output
