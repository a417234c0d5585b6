"""The shared HTTP log-in flows (``connectors.auth``) against real servers: an expired session or
token is renewed once inside the request; a second 401 is an AuthError, never a loop.

Tryton (trytond 8.2) expires a session by deleting it (``common.db.logout`` here, as its idle
timeout does): the next call answers 401. The finance simulator expires OAuth2 tokens the same
way. A loopback token server stands in for a provider that rotates refresh tokens.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from connectors.accounting.client import XeroClient
from connectors.auth import ClientCredentials, RefreshToken
from connectors.errors import AuthError
from connectors.http import send
from connectors.tryton.rpc import TrytonRPC, TrytonSession
from tests.support import tryton
from tests.support.finance import finance_server

if not hasattr(tryton, "tryton_server_fixture"):  # no run-wide Tryton in conftest: one for this module

    @pytest.fixture(scope="module")
    def tryton_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tryton.TrytonServer]:
        if not tryton.trytond_available():
            pytest.skip(tryton.SKIP_REASON)
        with tryton.start_tryton(tmp_path_factory.mktemp("tryton-auth")) as server:
            yield server


@pytest.fixture
def erp(tryton_server: tryton.TrytonServer) -> tryton.TrytonServer:
    if not tryton.trytond_available():
        pytest.skip(tryton.SKIP_REASON)
    if not tryton_server.running:
        tryton_server.start()
    return tryton_server


def _log_out(rpc_url: str, login: str, user_id: int | None, session: str | None) -> None:
    """End a session on the Tryton server itself: from now on it answers 401 to that session."""
    token = base64.b64encode(f"{login}:{user_id}:{session}".encode()).decode()
    answer = httpx.post(
        rpc_url,
        json={"id": 1, "method": "common.db.logout", "params": []},
        headers={"Authorization": f"Session {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def _company(rpc: TrytonRPC) -> int:
    [company] = rpc.search("company.company", [], 1)
    return int(company)


def test_an_expired_tryton_session_logs_in_again_once_inside_the_request(
    erp: tryton.TrytonServer,
) -> None:
    rpc = TrytonRPC(erp.url, erp.database, erp.login, erp.password, retries=0)
    try:
        company = _company(rpc)
        first = rpc.session
        assert rpc.auth.logins == 1
        _log_out(rpc.rpc_url, rpc.login_name, rpc.user_id, first)
        with httpx.Client() as probe:  # the old session is really dead on the server
            request = probe.build_request(
                "POST",
                rpc.rpc_url,
                json={
                    "id": 1,
                    "method": "model.company.company.search",
                    "params": [[], 0, 1, None, rpc.context],
                },
            )
            rpc.auth.apply(request)
            assert probe.send(request).status_code == 401
        assert _company(rpc) == company  # the same call, answered after one fresh log-in
        fresh = rpc.session
        assert rpc.auth.logins == 2 and fresh not in (None, first)
        assert _company(rpc) == company and rpc.auth.logins == 2  # the fresh session is kept
    finally:
        rpc.close()


class _Doomed(TrytonSession):
    """Every session it gets is ended on the server right after the log-in: a server that keeps
    refusing (a user disabled between log-in and call, a proxy stripping the header)."""

    def read_login(self, response: httpx.Response) -> None:
        super().read_login(response)
        _log_out(self.rpc_url, self.login_name, self.user_id, self.session)


def test_a_second_401_after_a_fresh_log_in_is_an_auth_error_not_a_loop(
    erp: tryton.TrytonServer,
) -> None:
    rpc = TrytonRPC(erp.url, erp.database, erp.login, erp.password, retries=3)
    try:
        _company(rpc)
        session, user_id = rpc.session, rpc.user_id
        rpc.auth = doomed = _Doomed(rpc.rpc_url, erp.login, erp.password)
        doomed.session, doomed.user_id = session, user_id  # the session taken over, then ended
        _log_out(rpc.rpc_url, erp.login, user_id, session)
        started = time.monotonic()
        with pytest.raises(AuthError, match="keeps refusing model.company.company.search after a fresh login"):
            _company(rpc)
        assert doomed.logins == 1  # one fresh log-in, not one per retry
        assert time.monotonic() - started < 10  # refused at once: no backoff, no loop
    finally:
        rpc.close()


def test_a_wrong_tryton_password_is_an_auth_error_naming_the_user(erp: tryton.TrytonServer) -> None:
    rpc = TrytonRPC(erp.url, erp.database, erp.login, "not-the-password", retries=0)
    try:
        with pytest.raises(AuthError, match=f"Tryton refused the login of '{erp.login}'"):
            rpc.login()
    finally:
        rpc.close()


# --- OAuth2 ----------------------------------------------------------------------------------------


def test_client_credentials_renew_an_expired_token_once_then_refuse() -> None:
    with finance_server() as server:
        client = XeroClient(
            server.url,
            server.token_url,
            client_id=server.client_id,
            client_secret=server.client_secret,
            tenant_id=server.tenant_id,
            retries=0,
        )
        try:
            client.request("GET", "Contacts", params={"page": 1, "pageSize": 1})
            server.expire_tokens()
            client.request("GET", "Contacts", params={"page": 1, "pageSize": 1})
            assert client.tokens_fetched == 2 and server.token_grants == 2

            original = ClientCredentials.read_login

            def expire_at_once(auth: ClientCredentials, response: httpx.Response) -> None:
                original(auth, response)
                server.expire_tokens()  # every token is dead on arrival

            client.auth.read_login = expire_at_once.__get__(client.auth)  # type: ignore[method-assign]
            server.expire_tokens()
            with pytest.raises(AuthError, match="refused even with a fresh token"):
                client.request("GET", "Contacts", params={"page": 1, "pageSize": 1})
            assert server.token_grants == 3  # one renewal, no loop
        finally:
            client.close()


def test_threads_sharing_a_client_renew_an_expired_token_once() -> None:
    with finance_server() as server:
        client = XeroClient(
            server.url,
            server.token_url,
            client_id=server.client_id,
            client_secret=server.client_secret,
            tenant_id=server.tenant_id,
            retries=0,
        )
        try:
            client.request("GET", "Contacts", params={"page": 1, "pageSize": 1})
            server.expire_tokens()
            start, errors = threading.Barrier(6), []

            def read() -> None:
                start.wait()
                try:
                    client.request("GET", "Contacts", params={"page": 1, "pageSize": 1})
                except Exception as exc:  # noqa: BLE001 - collected and asserted on below
                    errors.append(exc)

            workers = [threading.Thread(target=read) for _ in range(6)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(30)
            assert errors == [] and server.token_grants == 2  # the first token and ONE renewal
        finally:
            client.close()


class _Provider(BaseHTTPRequestHandler):
    """A token endpoint that rotates refresh tokens, and an API that takes only the newest token."""

    refresh = "r-1"
    access: str | None = None
    grants: list[str] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
        cls = type(self)
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != cls.refresh:
            return self._json(400, {"error": "invalid_grant"})
        number = len(cls.grants) + 1
        cls.grants.append(form["refresh_token"])
        cls.refresh, cls.access = f"r-{number + 1}", f"a-{number}"
        self._json(200, {"access_token": cls.access, "expires_in": 3600, "refresh_token": cls.refresh})

    def do_GET(self) -> None:  # noqa: N802
        if self.headers.get("Authorization") != f"Bearer {type(self).access}":
            return self._json(401, {"error": "invalid_token"})
        self._json(200, {"ok": True})


@pytest.fixture
def provider() -> Iterator[str]:
    _Provider.refresh, _Provider.access, _Provider.grants = "r-1", None, []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_refresh_token_is_rotated_and_the_new_one_is_handed_to_the_caller(provider: str) -> None:
    rotated: list[str] = []
    auth = RefreshToken(f"{provider}/token", "client", "", "r-1", on_rotate=rotated.append)
    with httpx.Client(auth=auth) as client:
        assert send(client, client.build_request("GET", f"{provider}/api"), "api").json() == {"ok": True}
        _Provider.access = "revoked-elsewhere"  # the provider no longer takes our access token
        assert send(client, client.build_request("GET", f"{provider}/api"), "api").json() == {"ok": True}
        assert _Provider.grants == ["r-1", "r-2"] and rotated == ["r-2", "r-3"] and auth.refresh_token == "r-3"

        _Provider.refresh = "taken-by-someone-else"  # our refresh token is no longer valid
        _Provider.access = "revoked-again"
        with pytest.raises(AuthError, match="refused the refresh token grant"):
            send(client, client.build_request("GET", f"{provider}/api"), "api")
