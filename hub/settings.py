"""Runtime settings, read once from the environment (prefix ``HUB_``) or a ``.env`` file.

The defaults are the embedded mode: a SQLite file under ``./var/`` and tasks run in-process,
so ``hub serve`` is all a newcomer needs. Production sets ``HUB_DATABASE_URL`` (PostgreSQL)
and ``HUB_BROKER_URL`` (Redis) and runs Celery workers.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The repository's own ``mappings/`` folder: the default configuration of a source checkout.
BUNDLED_MAPPINGS = Path(__file__).resolve().parent.parent / "mappings"


def default_mappings_dir() -> Path:
    """``./mappings`` of the working directory when there is one (what the README says: a
    site keeps its own folder beside its data), else the bundled folder, so that a command run
    from anywhere still finds working defaults."""
    local = Path("mappings")
    return local.resolve() if local.is_dir() else BUNDLED_MAPPINGS


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/hub.db",
        description="SQLAlchemy URL of the hub's own database.",
    )
    broker_url: str | None = Field(
        default=None,
        description="Celery broker (e.g. redis://host:6379/0). Unset: tasks run in-process.",
    )
    task_queue: str = Field(
        default="hub",
        description="Celery queue the hub's tasks go to and its workers consume.",
    )
    mappings_dir: Path = Field(
        default_factory=default_mappings_dir,
        description="Folder of YAML mappings: column maps, matching rules, survivorship "
        "(default ./mappings when it exists, else the bundled folder).",
    )
    embedded_scheduler: bool = Field(
        default=False,
        description="Run beat's schedule (outbox dispatch, due syncs, receivables scan) inside the "
        "serving process; `hub serve` and `hub demo` turn it on when no broker is set.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Key that encrypts connection secrets at rest.",
    )
    # --- the API's limits (hub/api/limits.py, hub/bounds.py) ---
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        description="Largest request body the hub reads; a larger one is 413 before it is parsed or its token checked.",
    )
    max_order_lines: int = Field(
        default=1000,
        ge=1,
        description="Lines one order entered through the API may have.",
    )
    # --- imported files (connectors/files): limits that refuse a file or set a row aside ---
    file_max_rows: int = Field(
        default=1_000_000,
        ge=1,
        description="Rows a CSV/XLSX file may have; a longer file is refused as a whole.",
    )
    file_max_cell_chars: int = Field(
        default=32_767,
        ge=1,
        description="Characters in one cell (Excel's own limit); a longer cell sets its row aside.",
    )
    import_max_field_chars: int = Field(
        default=1_000,
        ge=1,
        description="Characters in one mapped customer field (a name, a street) of `hub import customers`.",
    )
    xlsx_max_uncompressed_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=1,
        description="Total uncompressed size of an XLSX's zip members; more is refused (zip bomb).",
    )
    xlsx_max_member_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=1,
        description="Uncompressed size of one member (a sheet, the shared strings) of an XLSX.",
    )
    xlsx_max_compression_ratio: float = Field(
        default=100.0,
        gt=1,
        description="Uncompressed/compressed ratio of an XLSX member over 1 MB; more is refused.",
    )
    xlsx_max_members: int = Field(
        default=10_000,
        ge=1,
        description="Members (files) in an XLSX's zip.",
    )
    run_stale_seconds: int = Field(
        default=1800,
        ge=60,
        description="A running import/sync whose heartbeat is older than this (or whose process on "
        "this host is gone) is marked failed as interrupted.",
    )
    session_idle_minutes: int = Field(
        default=60,
        ge=1,
        description="A page session not used for this long ends (the person signs in again).",
    )
    session_max_hours: int = Field(
        default=12,
        ge=1,
        description="A page session ends this long after sign-in, however busy it was.",
    )
    auth_failures_max: int = Field(
        default=10,
        ge=1,
        description="Failed tokens (API bearer or login form) one client address may present "
        "within auth_failures_window_seconds before it is answered 429 for the rest of the window.",
    )
    auth_failures_window_seconds: int = Field(
        default=300,
        ge=1,
        description="Window over which failed tokens of one client address are counted.",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


#: Written by ``hub serve`` and ``hub demo`` (relative to where they run): which database and
#: key the running hub uses, so that ``hub …`` in a second terminal works on the same hub
#: without exporting anything. Never the key itself: where it is.
SETTINGS_FILE = Path("var/hub.toml")


def write_settings_file(database_url: str, key_file: Path | None, written_by: str, path: Path = SETTINGS_FILE) -> Path:
    """Record the running hub's database URL and key location in ``path`` (TOML).
    ``key_file`` None: the key is in that process's ``HUB_SECRET_KEY``."""
    import datetime as dt
    import json

    lines = [
        f"# written by `{written_by}` at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC;",
        "# `hub …` reads it when HUB_DATABASE_URL is unset (HUB_DATABASE_URL / HUB_SECRET_KEY override it)",
        f"database_url = {json.dumps(database_url)}",  # a JSON string is a TOML basic string
        f"key_file = {json.dumps(str(key_file.resolve()))}" if key_file else 'key_from = "HUB_SECRET_KEY"',
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_settings_file(path: Path = SETTINGS_FILE) -> dict[str, str] | None:
    """The settings file's values, None when there is none; a file that does not parse or
    lacks ``database_url`` is a ValueError naming it."""
    import tomllib

    if not path.exists():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not valid TOML ({exc}): fix or delete it, or set HUB_DATABASE_URL") from exc
    if not isinstance(data.get("database_url"), str):
        raise ValueError(f"{path} has no database_url: delete it (hub serve writes it again) or set HUB_DATABASE_URL")
    return {k: str(v) for k, v in data.items()}


def use_settings_file(path: Path = SETTINGS_FILE) -> str | None:
    """Point this process at the hub recorded in ``path`` (``HUB_DATABASE_URL``, and
    ``HUB_SECRET_KEY`` from its key file when that is unset too); the line to tell the person,
    None when there is no file. The caller clears :func:`get_settings`' cache."""
    import os

    recorded = read_settings_file(path)
    if recorded is None:
        return None
    os.environ["HUB_DATABASE_URL"] = recorded["database_url"]
    key_note = ""
    if "HUB_SECRET_KEY" not in os.environ:
        key_file = Path(recorded["key_file"]) if "key_file" in recorded else None
        if key_file is not None and key_file.exists():
            os.environ["HUB_SECRET_KEY"] = key_file.read_text().strip()
            key_note = f", key from {key_file}"
        elif key_file is not None:
            key_note = f"; its key file {key_file} is gone: set HUB_SECRET_KEY to the hub's key"
        else:
            key_note = "; that hub's key is in its HUB_SECRET_KEY: set HUB_SECRET_KEY here too"
    return f"the hub of {path} (database {recorded['database_url']}{key_note})"
