"""The key of a database lives beside it (issue 16): a second terminal pointed at the demo's
database finds the demo's key instead of failing on the secret key."""

from pathlib import Path

from hub.settings import Settings
from hub.sync.secrets import DEFAULT_KEY_FILE, key_file_for, key_of


def test_the_key_file_is_beside_the_sqlite_database(tmp_path: Path) -> None:
    assert key_file_for(f"sqlite:///{tmp_path}/demo/hub.db") == tmp_path / "demo" / "secret.key"
    assert key_file_for("sqlite:///./var/hub.db") == Path("./var/secret.key")
    assert key_file_for("postgresql+psycopg://db/hub") == DEFAULT_KEY_FILE


def test_a_second_process_on_the_same_database_gets_the_same_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/demo/hub.db"
    first = key_of(Settings(_env_file=None, database_url=url, secret_key=None))
    again = key_of(Settings(_env_file=None, database_url=url, secret_key=None))
    assert first == again and (tmp_path / "demo" / "secret.key").read_text().strip() == first
    assert key_of(Settings(_env_file=None, database_url=url, secret_key="given")) == "given"
