"""Signing in to the pages from an HTTP client (TestClient or httpx), as the login form does:
fetch the form (its CSRF cookie and field), post the token, read the session's CSRF token from
the signed-in page. For a real browser use ``tests.support.browser.sign_in``."""

from __future__ import annotations

import re
from typing import Any

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "no csrf field on the page"
    return found[1]


def post_login(client: Any, token: str, next_url: str = "/") -> Any:
    """The sign-in form posted with ``token``; returns the answer (303 on success)."""
    form = client.get("/login")
    return client.post(
        "/login", data={"token": token, "next": next_url, "csrf": csrf_of(form.text)}, follow_redirects=False
    )


def sign_in_client(client: Any, token: str) -> str:
    """Signs ``client`` in (its cookie jar holds the session); returns the session's CSRF token,
    for the ``csrf`` field of the forms it posts."""
    answer = post_login(client, token)
    assert answer.status_code == 303, (answer.status_code, answer.text[:300])
    return csrf_of(client.get("/").text)
