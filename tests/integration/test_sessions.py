"""Page sessions, CSRF, security headers and failed-token throttling (issue 13, the security
review of the running hub): each test is one of its findings, seen from a client or a browser."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from hub.api.app import create_app
from hub.auth.models import PageSession, Role
from hub.auth.tokens import create_token, revoke_token
from hub.db import session_scope, utcnow
from hub.settings import Settings
from hub.web.auth import COOKIE
from tests.support.browser import live_hub, sign_in
from tests.support.pages import csrf_of, post_login, sign_in_client

FOREIGN = "http://127.0.0.1:9"  # a page served on another port of the same host


def _token(database_url: str, role: Role) -> tuple[int, str]:
    with session_scope(database_url) as session:
        row, clear = create_token(session, role, f"{role.value} person")
        return row.id, clear


def _signed_in(client: TestClient) -> bool:
    answer = client.get("/", follow_redirects=False)
    return answer.status_code == 200 and "Sign out" in answer.text


def test_the_cookie_is_a_session_not_the_api_token(client: TestClient, database_url: str) -> None:
    _id, token = _token(database_url, Role.sales)
    sign_in_client(client, token)
    cookie = client.cookies[COOKIE]
    assert token not in cookie and cookie not in token
    with session_scope(database_url) as session:  # stored only as a digest
        assert cookie not in {row.session_hash for row in session.scalars(select(PageSession))}

    client.cookies.clear()
    client.cookies.set(COOKIE, token)  # the old design: the token itself as the cookie
    assert not _signed_in(client)


def test_logout_ends_the_session_even_if_its_cookie_is_replayed(client: TestClient, database_url: str) -> None:
    csrf = sign_in_client(client, _token(database_url, Role.sales)[1])
    cookie = client.cookies[COOKIE]
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).headers["location"] == "/login"

    client.cookies.set(COOKIE, cookie)  # replayed, e.g. from a copy taken before logout
    answer = client.get("/orders", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")


def test_revoking_the_token_ends_its_sessions(client: TestClient, database_url: str) -> None:
    token_id, token = _token(database_url, Role.finance)
    sign_in_client(client, token)
    with session_scope(database_url) as session:
        revoke_token(session, token_id)
    assert not _signed_in(client)


@pytest.mark.parametrize("how", ["idle", "absolute"])
def test_an_expired_session_is_refused(client: TestClient, database_url: str, how: str) -> None:
    sign_in_client(client, _token(database_url, Role.sales)[1])
    assert _signed_in(client)
    now = utcnow()
    change = (
        {"last_seen_at": now - timedelta(minutes=61)}
        if how == "idle"  # default idle: 60 minutes
        else {"expires_at": now - timedelta(seconds=1), "last_seen_at": now}
    )
    with session_scope(database_url) as session:
        session.execute(update(PageSession).values(**change))
    assert not _signed_in(client)


def test_cross_site_posts_are_refused(client: TestClient, database_url: str) -> None:
    _id, token = _token(database_url, Role.it)
    form = client.get("/login")
    login = client.post(
        "/login", data={"token": token, "csrf": csrf_of(form.text)}, headers={"Origin": FOREIGN}, follow_redirects=False
    )
    assert login.status_code == 403 and COOKIE not in client.cookies

    csrf = sign_in_client(client, token)
    for path in ("/it/dead-letters/replay", "/it/deliveries/replay", "/logout"):
        for header in ({"Origin": FOREIGN}, {"Referer": f"{FOREIGN}/evil.html"}, {"Origin": "null"}):
            answer = client.post(path, data={"csrf": csrf}, headers=header, follow_redirects=False)
            assert answer.status_code == 403, (path, header, answer.status_code)
    assert _signed_in(client)  # the forged logout did not end the session
    same = client.post(
        "/it/dead-letters/replay", data={"csrf": csrf}, headers={"Origin": "http://testserver"}, follow_redirects=False
    )
    assert same.status_code == 303  # the hub's own form still works


def test_a_post_without_the_sessions_csrf_token_is_refused(client: TestClient, database_url: str) -> None:
    _id, token = _token(database_url, Role.admin)
    form = client.get("/login")
    assert client.post("/login", data={"token": token}, follow_redirects=False).status_code == 403
    client.cookies.clear()
    forged = client.post("/login", data={"token": token, "csrf": csrf_of(form.text)}, follow_redirects=False)
    assert forged.status_code == 403  # the field alone, without the form's cookie

    csrf = sign_in_client(client, token)
    posts = sorted(
        r.path
        for r in iter_route_contexts(client.app.routes)  # type: ignore[attr-defined]
        if "POST" in (getattr(r, "methods", None) or ()) and not r.path.startswith(("/api/", "/login"))
    )
    assert {"/logout", "/it/dead-letters/replay", "/it/pairs/{pair_id}/decision"} <= set(posts)
    forged_csrf = ("y" if csrf[0] == "x" else "x") + csrf[1:]  # differs from the session's in one character
    for path in posts:
        concrete = path.replace("{name}", "erp").replace("{pair_id}", "1")
        for data in ({"same": "true"}, {"same": "true", "csrf": forged_csrf}):
            answer = client.post(concrete, data=data, follow_redirects=False)
            assert answer.status_code == 403, (path, data, answer.status_code)
    assert _signed_in(client)  # the logout without a token did not end the session
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert not _signed_in(client)


def test_every_answer_carries_the_security_headers(client: TestClient, database_url: str) -> None:
    _id, token = _token(database_url, Role.admin)
    answers = {"/login": client.get("/login")}
    sign_in_client(client, token)
    for path in ("/", "/orders?q=x", "/it", "/finance/receivables", "/orders/999"):
        answers[path] = client.get(path)
    answers["/api/v1/customers"] = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
    for path, answer in answers.items():
        headers = answer.headers
        assert headers["x-frame-options"] == "DENY", path
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] in ("same-origin", "no-referrer"), path
        assert headers["cache-control"] == "no-store", path
    style = client.get("/static/hub.css")
    assert style.headers["x-content-type-options"] == "nosniff" and "no-store" not in style.headers.get(
        "cache-control", ""
    )


def test_failed_tokens_from_one_client_are_throttled(database_url: str, mappings_dir: Path) -> None:
    settings = Settings(
        database_url=database_url,
        mappings_dir=mappings_dir,
        broker_url=None,
        auth_failures_max=3,
        auth_failures_window_seconds=60,
    )
    _id, token = _token(database_url, Role.it)
    app = create_app(settings)
    guesser = TestClient(app, client=("10.0.0.7", 40000))
    wrong = {"Authorization": "Bearer hub_guess"}
    assert [guesser.get("/api/v1/me", headers=wrong).status_code for _ in range(3)] == [401] * 3
    blocked = guesser.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})  # even the right one
    assert blocked.status_code == 429 and 0 < int(blocked.headers["retry-after"]) <= 60
    page = post_login(guesser, token)  # the login form counts with the API
    assert page.status_code == 429 and "try again in" in page.text and int(page.headers["retry-after"]) <= 60

    other = TestClient(app, client=("10.0.0.8", 40000))  # another address is not slowed down
    assert other.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert [post_login(other, "hub_guess").status_code for _ in range(3)] == [401] * 3  # login failures count
    assert other.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 429


def test_a_signed_in_page_session_opens_the_api_links_it_shows(client: TestClient, database_url: str) -> None:
    """The finance page's exports are /api links: a browser follows them with the session
    cookie, not a bearer token. Roles still hold, and state-changing calls need the bearer."""
    sign_in_client(client, _token(database_url, Role.finance)[1])
    page = client.get("/finance/receivables", params={"as_of": "2026-12-01"})
    link = "/api/v1/receivables/export/overdue.csv?as_of=2026-12-01"
    assert link in page.text
    answer = client.get(link)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert client.post("/api/v1/receivables/scan", json={}).status_code == 401

    client.cookies.clear()
    sign_in_client(client, _token(database_url, Role.sales)[1])
    assert client.get(link).status_code == 403


# --- in a real browser ------------------------------------------------------------------------


@pytest.fixture
def framing_site(tmp_path: Path) -> Iterator[Any]:
    """Another origin (a port of the same host) serving a page that frames the hub's /it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.browser
def test_another_origin_cannot_frame_the_it_page(
    browser: Any, settings: Settings, database_url: str, framing_site: tuple[Path, str]
) -> None:
    folder, site = framing_site
    with live_hub(settings) as url:
        (folder / "frame.html").write_text(f'<!doctype html><iframe id="hub" src="{url}/it"></iframe>')
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, url, _token(database_url, Role.it)[1])
        assert "Systems and syncs" in page.goto(f"{url}/it").text()  # signed in: the page itself renders

        page.goto(f"{site}/frame.html")
        page.wait_for_timeout(500)
        [framed] = [f for f in page.frames if f != page.main_frame]
        try:
            shown = framed.evaluate("document.body ? document.body.innerText : ''")
        except Exception as exc:  # noqa: BLE001 - a blocked frame may refuse the evaluation altogether
            shown = f"(not evaluable: {exc})"
        assert "Systems and syncs" not in shown and "Replay" not in shown
        context.close()


def test_signing_in_clears_away_sessions_that_ended(client: TestClient, database_url: str) -> None:
    _id, token = _token(database_url, Role.sales)
    for _ in range(3):
        client.post("/logout", data={"csrf": sign_in_client(client, token)})
    sign_in_client(client, token)
    with session_scope(database_url) as session:
        assert [row.ended_at for row in session.scalars(select(PageSession))] == [None]  # only the live one
