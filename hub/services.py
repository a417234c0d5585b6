"""The one provider of the services that talk to systems, after the ``deps.py`` of FastAPI's
full-stack template: the API (``hub.api.deps``), the pages, the CLI, the Celery tasks and the
demo all get the connection service, the sync engine and the outbox dispatcher here, built
the same way from the same settings — the database, the mappings folder and the secrets key.
Four hand-built ``SyncEngine(...)`` calls had drifted (one used the CLI's migrated URL, one
the settings', one a key the demo passed in).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.settings import Settings
from hub.sync.connections import ConnectionService
from hub.sync.secrets import key_of

if TYPE_CHECKING:  # the engine imports the master and the document store: built on demand
    from hub.outbox.dispatch import Dispatcher
    from hub.sync.engine import SyncEngine


def connection_service(settings: Settings) -> ConnectionService:
    """Look-up, secrets, connectors (``with service.open(session, name) as connector``) and
    field maps of the configured systems."""
    return ConnectionService(settings.mappings_dir, key_of(settings))


def sync_engine(settings: Settings, database_url: str | None = None) -> SyncEngine:
    """The sync engine on ``database_url`` (default: the settings'; the CLI passes the URL it
    migrated)."""
    from hub.sync.engine import SyncEngine

    return SyncEngine(database_url or settings.database_url, settings.mappings_dir, key_of(settings))


def dispatcher(settings: Settings, database_url: str | None = None) -> Dispatcher:
    """The outbox dispatcher, over the same engine (its connections and mappings)."""
    from hub.outbox.dispatch import Dispatcher

    return Dispatcher(sync_engine(settings, database_url))
