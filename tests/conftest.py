"""Shared fixtures: the hub on SQLite and on a real PostgreSQL, its API, tokens per role.

``database_url`` is parametrised over both backends, so every test that touches the database
runs twice. Each backend's database is created and migrated once per run; each test starts
from empty tables.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from hub.api.app import create_app
from hub.auth.models import Role
from hub.auth.tokens import create_token
from hub.db import get_engine, session_scope
from hub.migrate import upgrade
from hub.models import Base
from hub.settings import BUNDLED_MAPPINGS, Settings
from tests.support import servers
from tests.support.browser import browser  # noqa: F401 - one Chromium for the whole run
from tests.support.tryton import tryton_server_fixture  # noqa: F401 - one Tryton for the whole run


@pytest.fixture(scope="session")
def _sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'hub.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def _postgresql_url() -> Iterator[str]:
    url = servers.create_database(servers.postgres_server_url())
    try:
        upgrade(url)
        yield url
    finally:
        get_engine(url).dispose()
        servers.drop_database(url)


def _empty_tables(url: str) -> None:
    engine = get_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    url = request.getfixturevalue(f"_{request.param}_url")
    _empty_tables(url)
    return url


@pytest.fixture
def postgres_url(_postgresql_url: str) -> str:
    """For tests of the scale-out path only, which never runs on SQLite."""
    _empty_tables(_postgresql_url)
    return _postgresql_url


@pytest.fixture
def mappings_dir(tmp_path: Path) -> Path:
    """A private copy of the bundled mappings, so a test may edit them."""
    target = tmp_path / "mappings"
    shutil.copytree(BUNDLED_MAPPINGS, target)
    return target


@pytest.fixture
def settings(database_url: str, mappings_dir: Path) -> Settings:
    return Settings(database_url=database_url, mappings_dir=mappings_dir, broker_url=None)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def token_for(database_url: str) -> Callable[[Role], dict[str, str]]:
    """Authorization headers of a fresh token with the given role."""

    def make(role: Role) -> dict[str, str]:
        with session_scope(database_url) as session:
            _row, clear = create_token(session, role, f"test {role.value}")
        return {"Authorization": f"Bearer {clear}"}

    return make
