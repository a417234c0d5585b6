"""The finance simulator (``simulators.finance``, a Xero Accounting API subset) for tests.

``finance_server()`` starts a seeded server on a free loopback port (well under a second);
``connect(database_url, server)`` adds a hub connection of kind ``accounting`` to it, with the
client credentials as encrypted secrets, as ``hub connections add`` would.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hub.db import session_scope
from hub.sync.connections import add_connection
from simulators.finance import FinanceServer, seed_demo

KEY = "test-secret-key"


@contextmanager
def finance_server(**kwargs: Any) -> Iterator[FinanceServer]:
    server = FinanceServer(**kwargs)
    server.seed = seed_demo(server.books)  # type: ignore[attr-defined]
    with server:
        yield server


def settings_for(server: FinanceServer, **overrides: Any) -> dict[str, Any]:
    return {"url": server.url, "tenant_id": server.tenant_id, "page_size": 2, "retry_attempts": 3, **overrides}


def secrets_for(server: FinanceServer) -> dict[str, str]:
    return {"client_id": server.client_id, "client_secret": server.client_secret}


def connect(database_url: str, server: FinanceServer, name: str = "finance", **settings: Any) -> None:
    with session_scope(database_url) as session:
        add_connection(
            session,
            name=name,
            kind="accounting",
            secret_key=KEY,
            settings=settings_for(server, **settings),
            secrets=secrets_for(server),
        )
