"""The schema comes from Alembic migrations, and they match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.db import get_engine
from hub.migrate import upgrade
from hub.models import Base


def test_migrations_match_the_models_and_rerun_as_no_op(database_url):
    upgrade(database_url)  # already at head: must change nothing and not fail
    with get_engine(database_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
