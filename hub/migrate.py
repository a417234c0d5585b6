"""Bring a database to the current schema with Alembic (``hub init``, and on ``hub serve``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from hub.db import get_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    """Apply every pending migration; a no-op on an up-to-date database."""
    engine = get_engine(database_url)
    with engine.begin() as connection:
        config = alembic_config(database_url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
