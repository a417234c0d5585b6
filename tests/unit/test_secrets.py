"""Connection secrets are never stored in clear and need the right key."""

from __future__ import annotations

import os
import stat

import pytest

from hub.sync.secrets import SecretsError, decrypt, encrypt, resolve_key, rotate


def test_round_trip_and_no_clear_text():
    token = encrypt({"password": "s3cret-Pa55"}, "key-1")
    assert "s3cret" not in token
    assert decrypt(token, "key-1") == {"password": "s3cret-Pa55"}


def test_wrong_key_is_refused_with_a_hint():
    token = encrypt({"password": "x"}, "key-1")
    with pytest.raises(SecretsError, match="HUB_SECRET_KEY"):
        decrypt(token, "key-2")


def test_rotation_re_encrypts_under_the_new_key():
    token = rotate(encrypt({"token": "abc"}, "old"), "old", "new")
    assert decrypt(token, "new") == {"token": "abc"}
    with pytest.raises(SecretsError):
        decrypt(token, "old")


def test_embedded_key_file_is_created_once_and_private(tmp_path):
    path = tmp_path / "var" / "secret.key"
    first = resolve_key(None, path)
    assert resolve_key(None, path) == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert resolve_key("from-env", path) == "from-env"


def test_credentials_in_settings_move_to_the_secrets_and_come_back_as_written():
    from hub.sync.secrets import merge_credentials, split_credentials

    given = {
        "url": "postgresql://crm:pa%40ss@db:5432/crm?token=T1&sslmode=require&password=P2",
        "hooks": [{"target": "https://u:pw@h.example/x?api_key=K3&b=2"}],
        "password": "P4",
        "tables": "legacy_crm",
        "page_size": 2,
        "plain": "https://h.example/?q=1",
    }
    clean, moved = split_credentials(given)
    assert clean == {
        "url": "postgresql://crm@db:5432/crm?sslmode=require",
        "hooks": [{"target": "https://u@h.example/x?b=2"}],
        "tables": "legacy_crm",
        "page_size": 2,
        "plain": "https://h.example/?q=1",
    }
    assert not any(s in str(clean) for s in ("pa%40ss", "T1", "P2", "pw", "K3", "P4"))
    assert merge_credentials(clean, {**moved, "signing_secret": "S"}) == (given, {"signing_secret": "S"})
