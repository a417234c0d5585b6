"""Connection secrets, encrypted at rest (Fernet: AES-128-CBC with HMAC-SHA256).

The key comes from ``HUB_SECRET_KEY``. In the embedded default, when it is unset, a random key
is created once in ``var/secret.key`` (mode 0600) next to the SQLite file, so secrets are never
stored in clear even on a laptop; production sets the variable (docker-compose requires it).
Rotation re-encrypts every secret under a new key (``rotate``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet, InvalidToken

from hub.db import beside_database

if TYPE_CHECKING:
    from hub.settings import Settings

DEFAULT_KEY_FILE = Path("var") / "secret.key"


class SecretsError(ValueError):
    """The key is missing or wrong for the stored secrets."""


def wrong_key_message(connection: str) -> str:
    """What to do when the hub's key does not open ``connection``'s secrets (one wording for
    the API's 409, the CLI and the pages)."""
    return (
        f"the hub's secret key does not decrypt connection {connection}'s secrets: set HUB_SECRET_KEY "
        "to the key they were stored with, or `hub secrets rotate --old-key …`"
    )


def _fernet(key: str) -> Fernet:
    # Any passphrase works: it is stretched to the 32 bytes Fernet wants.
    digest = hashlib.sha256(key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def key_file_for(database_url: str) -> Path:
    """Where the embedded default keeps the key of this database: beside its SQLite file (so a
    second terminal pointed at the demo's ``var/demo/hub.db`` finds the demo's key), else
    ``var/secret.key``."""
    return beside_database(database_url, "secret.key", DEFAULT_KEY_FILE)


def key_of(settings: Settings) -> str:
    """The secret key the hub runs with: ``HUB_SECRET_KEY``, else the key file of its database."""
    return resolve_key(settings.secret_key, key_file_for(settings.database_url))


def resolve_key(configured: str | None, key_file: Path = DEFAULT_KEY_FILE) -> str:
    if configured:
        return configured
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def encrypt(secrets: dict[str, str], key: str) -> str:
    return _fernet(key).encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()


def decrypt(token: str | None, key: str, connection: str = "") -> dict[str, str]:
    """The secrets in clear; ``SecretsError`` naming ``connection`` when ``key`` is not theirs."""
    if not token:
        return {}
    try:
        secrets: dict[str, str] = json.loads(_fernet(key).decrypt(token.encode()))
        return secrets
    except InvalidToken:
        raise SecretsError(wrong_key_message(repr(connection) if connection else "a")) from None


def rotate(token: str | None, old_key: str, new_key: str) -> str | None:
    return encrypt(decrypt(token, old_key), new_key) if token else token


# --- credentials written into settings -------------------------------------------------------
# A password typed into a URL setting (``postgresql://u:pw@host/db``, ``https://u:pw@host``),
# a secret-looking query parameter (``?api_key=…``) or a setting named like a secret would be
# stored and listed in clear. ``split_credentials`` moves each into the secrets under a reserved
# key naming where it came from; ``merge_credentials`` puts it back when the connector is built,
# so a connector sees exactly the settings it was given.

#: Names of settings and query parameters whose values are secrets.
SECRET_NAMES = re.compile(
    r"(^|[_.-])(pass(word|wd)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|"
    r"private[_-]?key|client[_-]?secret|signature|sig)$",
    re.IGNORECASE,
)
#: Prefix of the secrets that came out of settings: ``@setting:<json path>`` plus what it was.
_MOVED = "@setting:"


def _is_secret_name(name: str) -> bool:
    return bool(SECRET_NAMES.search(name))


def _split_url(value: str) -> tuple[str, dict[str, str]]:
    """``value`` without credentials, and the credentials (``#password``, ``?<param>``)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return value, {}
    if not parts.scheme or not parts.netloc:
        return value, {}
    found: dict[str, str] = {}
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        user, _colon, password = userinfo.partition(":")
        found["#password"] = password  # as written (percent-encoded): put back byte for byte
        netloc = f"{user}@{host}"
    query = parts.query
    if query:
        kept = []
        for n, pair in enumerate(query.split("&")):
            name = pair.split("=", 1)[0]
            if "=" in pair and _is_secret_name(name):
                found[f"?{n}:{name}"] = pair.split("=", 1)[1]  # its place: put back where it was
            else:
                kept.append(pair)
        query = "&".join(kept)
    if not found:
        return value, {}
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)), found


def _walk(value: Any, path: list[str | int], found: dict[str, str]) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(item, str) and item and _is_secret_name(str(key)):
                found[_MOVED + json.dumps([*path, key]) + "="] = item
            else:
                out[key] = _walk(item, [*path, key], found)
        return out
    if isinstance(value, list):
        return [_walk(item, [*path, n], found) for n, item in enumerate(value)]
    if isinstance(value, str):
        clean, parts = _split_url(value)
        for what, secret in parts.items():
            found[_MOVED + json.dumps(path) + what] = secret
        return clean
    return value


def split_credentials(settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """``settings`` without any credential, and the credentials as secrets to store encrypted."""
    found: dict[str, str] = {}
    clean = _walk(settings, [], found)
    return clean, found


def merge_credentials(settings: dict[str, Any], secrets: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings and secrets as given at ``add``: credentials moved out of the settings go
    back where they were; the connector's own secrets are returned unchanged."""
    moved = {k: v for k, v in secrets.items() if k.startswith(_MOVED)}
    if not moved:
        return settings, secrets
    merged: Any = json.loads(json.dumps(settings))  # a deep copy: the row's dict stays as stored
    for key, secret in sorted(moved.items(), key=_query_place):
        rest = key[len(_MOVED) :]
        end = rest.rindex("]") + 1
        path, what = json.loads(rest[:end]), rest[end:]
        if what == "=":
            _at(merged, path[:-1])[path[-1]] = secret
            continue
        holder, last = _at(merged, path[:-1]), path[-1]  # settings are a mapping: a URL has a path
        parts = urlsplit(holder[last])
        netloc, query = parts.netloc, parts.query
        if what == "#password":
            user, _at_sign, host = netloc.rpartition("@")
            netloc = f"{user}:{secret}@{host}"
        else:
            place, name = what[1:].split(":", 1)
            pairs = query.split("&") if query else []
            pairs.insert(int(place), f"{name}={secret}")
            query = "&".join(pairs)
        holder[last] = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    return merged, {k: v for k, v in secrets.items() if k not in moved}


def _query_place(item: tuple[str, str]) -> int:
    """Query parameters go back in the order they were taken out (first place first)."""
    what = item[0][item[0].rindex("]") + 1 :]
    return int(what[1:].split(":", 1)[0]) if what.startswith("?") else -1


def _at(value: Any, path: list[str | int]) -> Any:
    for step in path:
        value = value[step]
    return value
