"""Security by default, checked from the outside: every route against every role, pages closed
to strangers, connection secrets at rest (the whole OpenAPI fuzzed by schemathesis, every role
and none, is tests/integration/test_schemathesis.py).

Checked elsewhere and not repeated here:
* a missing or unknown token is 401 on every /api route, with a fixed body
  (tests/integration/test_api_customers.py::test_no_api_route_answers_without_a_token;
  test_schemathesis.py adds generated parameters and bodies);
* the secrets cipher round trip, a wrong key's message, the key file's mode
  (tests/unit/test_secrets.py); a Tryton password absent from the stored column and a wrong
  HUB_SECRET_KEY refused by the CLI (test_tryton_sync.py::test_the_cli_adds_tests_and_syncs_a_connection);
* signed web hooks: every outbox test's sink verifies the signature (tests/support/sink.py);
  hardened SOAP (no DTDs, entities, external references): test_soap_connector.py's
  test_a_broken_or_hostile_answer_fails_the_run_and_moves_no_cursor;
* SQL only with bound parameters: test_sql_connector.py (names checked against the schema,
  the password never in messages).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import text

from hub.api.app import create_app
from hub.auth.models import Role
from hub.db import get_engine, session_scope
from hub.settings import Settings
from hub.sync.connections import add_connection
from hub.sync.secrets import SecretsError, decrypt
from tests.support.pages import sign_in_client

ANY = {"admin", "it", "sales", "finance"}
IT = {"admin", "it"}
SALES = {"admin", "it", "sales"}
FINANCE = {"admin", "finance"}
FINANCE_SALES = {"admin", "finance", "sales"}

#: Who may use each route — the review copy. A route the app has and this table lacks fails
#: test_every_route_has_an_entry: decide its roles here when adding it.
ROLES: dict[str, set[str]] = {
    "GET /api/v1/me": ANY,
    "GET /api/v1/customers": ANY,
    "GET /api/v1/customers/{customer_id}": ANY,
    "GET /api/v1/customers/{customer_id}/history": ANY,
    "POST /api/v1/customers/merge": IT,
    "POST /api/v1/customers/merges/{event_id}/undo": IT,
    "GET /api/v1/steward/pairs": IT,
    "POST /api/v1/steward/pairs/{pair_id}/decision": IT,
    "GET /api/v1/quarantine": IT,
    "POST /api/v1/quarantine/replay": IT,
    "GET /api/v1/sync-runs": IT,
    "GET /api/v1/connections": IT,
    "POST /api/v1/connections": IT,
    "POST /api/v1/connections/{name}/test": IT,
    "POST /api/v1/connections/{name}/sync": IT,
    "DELETE /api/v1/connections/{name}": IT,
    "PATCH /api/v1/connections/{name}": IT,
    "POST /api/v1/connections/{name}/reset": IT,
    "GET /api/v1/master/quality": IT,
    "GET /api/v1/master/quality/findings": IT,
    "GET /api/v1/master/quality/export.csv": IT,
    "GET /api/v1/dead-letters": IT,
    "POST /api/v1/dead-letters/replay": IT,
    "GET /api/v1/orders": ANY,
    "POST /api/v1/orders": SALES,
    "GET /api/v1/orders/{order_id}/status": ANY,
    "GET /api/v1/outbox": IT,
    "GET /api/v1/outbox/deliveries": IT,
    "POST /api/v1/outbox/deliveries/replay": IT,
    "GET /api/v1/receivables/pipelines": FINANCE,
    "PUT /api/v1/receivables/pipelines/{name}": FINANCE,
    "POST /api/v1/receivables/pipelines/{name}/move": FINANCE,
    "GET /api/v1/receivables/orders/{order_id}": FINANCE_SALES,  # sales: their own orders only
    "POST /api/v1/receivables/orders/{order_id}/stages/{code}": FINANCE,
    "PUT /api/v1/receivables/orders/{order_id}/plan": FINANCE,
    "PUT /api/v1/receivables/orders/{order_id}/opportunity": FINANCE,
    "PUT /api/v1/receivables/instalments/{instalment_id}/blocked": FINANCE,
    "GET /api/v1/receivables/alerts": FINANCE,
    "GET /api/v1/receivables/set-aside": {"admin", "finance", "it"},
    "POST /api/v1/receivables/alerts/{alert_id}/acknowledge": FINANCE,
    "POST /api/v1/receivables/alerts/{alert_id}/snooze": FINANCE,
    "POST /api/v1/receivables/scan": FINANCE,
    "GET /api/v1/receivables/overdue": FINANCE_SALES,  # sales: their own orders only
    "GET /api/v1/receivables/ageing": FINANCE,
    "GET /api/v1/receivables/funnel": FINANCE,
    "GET /api/v1/receivables/counts/{field}": FINANCE,
    "GET /api/v1/receivables/export/{report}.{fmt}": FINANCE,
    "GET /metrics": IT,
    # pages (the login cookie instead of the header)
    "GET /": ANY,
    "GET /customers": ANY,
    "GET /customers/{golden_id}": ANY,
    "GET /orders": ANY,
    "GET /orders/{order_id}": ANY,
    "GET /finance/receivables": FINANCE,
    "POST /finance/receivables/alerts/{alert_id}/acknowledge": FINANCE,
    "POST /finance/receivables/alerts/{alert_id}/snooze": FINANCE,
    "GET /finance/pipelines": FINANCE,
    "POST /finance/pipelines/preview": FINANCE,
    "POST /finance/pipelines/save": FINANCE,
    "POST /finance/pipelines/move": FINANCE,
    "GET /it": IT,
    "POST /it/connections/{name}/check": IT,
    "POST /it/connections/{name}/sync": IT,
    "POST /it/dead-letters/replay": IT,
    "POST /it/deliveries/replay": IT,
    "POST /it/pairs/{pair_id}/decision": IT,
}
#: Open to anyone, by design.
PUBLIC = {
    "GET /openapi.json",
    "GET /docs",
    "GET /docs/oauth2-redirect",
    "GET /redoc",
    "GET /healthz",
    "GET /login",
    "POST /login",
    "POST /logout",
}
PAGES = {r for r in ROLES if not r.split(" ", 1)[1].startswith(("/api/", "/metrics"))}
SAMPLE = {"report": "ageing", "fmt": "csv", "field": "status", "code": "delivery", "name": "standard"}


def app_routes() -> set[str]:
    """Every route the app serves, as "METHOD /path" (HEAD is GET's shadow)."""
    app = create_app(Settings(database_url="sqlite://", broker_url=None))
    found = set()
    for route in iter_route_contexts(app.routes):
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                found.add(f"{method} {route.path}")
    return found


def _concrete(path: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: SAMPLE.get(m.group(1), "1"), path)


def test_every_route_has_an_entry() -> None:
    routes = app_routes()
    assert sorted(routes - set(ROLES) - PUBLIC) == [], "routes without an entry in ROLES"
    assert sorted(set(ROLES) - routes) == [], "entries in ROLES for routes the app no longer has"


@pytest.fixture
def tokens(database_url: str) -> dict[str, str]:
    from hub.auth.tokens import create_token

    with session_scope(database_url) as session:
        return {role.value: create_token(session, role, f"security {role.value}")[1] for role in Role}


def _request(client: TestClient, route: str, token: str | None) -> tuple[int, str]:
    method, path = route.split(" ", 1)
    if route in PAGES:
        client.cookies.clear()
        data = {"csrf": sign_in_client(client, token)} if token else None
        response = client.request(method, _concrete(path), data=data, follow_redirects=False)
        client.cookies.clear()
    else:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = client.request(method, _concrete(path), json={}, headers=headers)
    return response.status_code, response.text


def _refused(status: int, body: str) -> bool:
    """The role guard said no (not a 403 a route gives for one record, e.g. another's order)."""
    return status == 403 and ("may not do this" in body or "Not for your role" in body)


def test_each_route_admits_exactly_its_roles(client: TestClient, tokens: dict[str, str]) -> None:
    wrong = []
    for route in sorted(ROLES):
        status, body = _request(client, route, None)
        stranger_ok = status == 401 if route not in PAGES else status == 303
        if not stranger_ok:
            wrong.append(f"{route} without a token: {status}")
        for role, token in tokens.items():
            status, body = _request(client, route, token)
            if status >= 500:
                wrong.append(f"{route} as {role}: server error {status}: {body[:200]}")
            elif (role in ROLES[route]) == _refused(status, body) or status == 401:
                wrong.append(
                    f"{route} as {role}: {status} {body[:120]!r}, expected "
                    f"{'admitted' if role in ROLES[route] else 'refused (403)'}"
                )
    assert wrong == []


def test_every_page_sends_a_stranger_to_login(client: TestClient) -> None:
    pages = {r for r in app_routes() if not r.split(" ", 1)[1].startswith(("/api/", "/static", "/metrics"))} - PUBLIC
    assert pages == PAGES  # a new page must be in ROLES (and is then checked) here
    for route in sorted(pages):
        method, path = route.split(" ", 1)
        response = client.request(method, _concrete(path), follow_redirects=False)
        assert response.status_code == 303, (route, response.status_code)
        assert response.headers["location"].startswith("/login?next="), route


# --- schemathesis over the whole OpenAPI ---------------------------------------------------
# In tests/integration/test_schemathesis.py: every operation, every check, every role and none.


def test_an_id_beyond_the_databases_integer_range_is_a_client_error(
    settings: Settings, token_for: Callable[[Role], dict[str, str]]
) -> None:
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    admin = token_for(Role.admin)
    for big in (2**40, 2**63):
        assert client.get(f"/api/v1/customers/{big}", headers=admin).status_code in (404, 422)
        assert client.post("/api/v1/dead-letters/replay", json={"ids": [big]}, headers=admin).status_code < 500


def test_an_ageing_date_at_the_calendar_edge_is_a_client_error(
    settings: Settings, token_for: Callable[[Role], dict[str, str]]
) -> None:
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    admin = token_for(Role.admin)
    for params in ({"as_of": "0001-01-01"}, {"buckets": [30, 10**10]}):
        assert client.get("/api/v1/receivables/ageing", params=params, headers=admin).status_code == 422, params


# --- connection secrets at rest --------------------------------------------------------------


def _hub(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], check=False, env=env, capture_output=True, text=True, timeout=120
    )


def _stored(url: str) -> dict[str, str]:
    """The raw column, as someone with a copy of the database sees it."""
    with get_engine(url).connect() as conn:
        return dict(conn.execute(text("SELECT name, secrets_encrypted FROM connections")).all())  # type: ignore[arg-type]


def test_secrets_are_ciphertext_at_rest_and_the_rotation_command_moves_them_to_a_new_key(
    database_url: str, mappings_dir: Path
) -> None:
    clear = {"password": "Pa55-w0rd-ERP!", "client_secret": "cs_live_9f8e7d", "signing_secret": "whsec_42"}
    with session_scope(database_url) as session:
        add_connection(
            session,
            name="finance",
            kind="accounting",
            settings={"url": "http://127.0.0.1:1"},
            secrets={"client_id": "hub", "client_secret": clear["client_secret"]},
            secret_key="old-key",
        )
        add_connection(
            session,
            name="erp",
            kind="tryton",
            settings={"url": "http://127.0.0.1:1", "database": "d"},
            secrets={"password": clear["password"]},
            secret_key="old-key",
        )
        add_connection(
            session,
            name="hook",
            kind="webhook",
            settings={"url": "http://127.0.0.1:1"},
            secrets={"signing_secret": clear["signing_secret"]},
            secret_key="old-key",
        )
    before = _stored(database_url)
    for token in before.values():
        assert not any(secret in token for secret in clear.values())
        assert "password" not in token and "secret" not in token  # not even the names

    env = {
        **os.environ,
        "HUB_DATABASE_URL": database_url,
        "HUB_MAPPINGS_DIR": str(mappings_dir),
        "HUB_SECRET_KEY": "new-key",
    }
    wrong = _hub(env, "secrets", "rotate", "--old-key", "not-the-key")
    assert wrong.returncode != 0
    assert "--old-key is not the key connection" in wrong.stdout + wrong.stderr
    assert _stored(database_url) == before  # all or nothing

    done = _hub(env, "secrets", "rotate", "--old-key", "old-key")
    assert done.returncode == 0, done.stderr
    assert "re-encrypted the secrets of 3 connection(s)" in done.stdout
    after = _stored(database_url)
    assert decrypt(after["erp"], "new-key") == {"password": clear["password"]}
    assert decrypt(after["finance"], "new-key") == {"client_id": "hub", "client_secret": clear["client_secret"]}
    assert decrypt(after["hook"], "new-key") == {"signing_secret": clear["signing_secret"]}
    for name in before:
        assert after[name] != before[name]
        with pytest.raises(SecretsError):  # the old key opens nothing any more
            decrypt(after[name], "old-key")
