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
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

DEFAULT_KEY_FILE = Path("var") / "secret.key"


class SecretsError(ValueError):
    """The key is missing or wrong for the stored secrets."""


def _fernet(key: str) -> Fernet:
    # Any passphrase works: it is stretched to the 32 bytes Fernet wants.
    digest = hashlib.sha256(key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


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


def decrypt(token: str | None, key: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(_fernet(key).decrypt(token.encode()))  # type: ignore[no-any-return]
    except InvalidToken:
        raise SecretsError(
            "cannot decrypt connection secrets: HUB_SECRET_KEY is not the key they were stored "
            "with (after a key change, run `hub secrets rotate --old-key …`)"
        ) from None


def rotate(token: str | None, old_key: str, new_key: str) -> str | None:
    return encrypt(decrypt(token, old_key), new_key) if token else token
