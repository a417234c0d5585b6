"""The pages' guard in a real browser: login with a token, roles, and a phone-sized screen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hub.auth.models import Role
from hub.auth.tokens import create_token
from hub.db import session_scope
from hub.settings import Settings
from hub.web.auth import COOKIE
from tests.support.browser import PHONE, live_hub, sign_in
from tests.support.pages import post_login

pytestmark = pytest.mark.browser


@pytest.fixture
def hub_url(settings: Settings) -> Iterator[str]:
    with live_hub(settings) as url:
        yield url


def _token(database_url: str, role: Role) -> str:
    with session_scope(database_url) as session:
        return create_token(session, role, f"{role.value} person")[1]


def test_a_page_sends_a_stranger_to_login_and_back_after(browser: Any, hub_url: str, database_url: str) -> None:
    page = browser.new_page(**PHONE)
    page.goto(f"{hub_url}/?from=test")
    assert page.url.startswith(f"{hub_url}/login?next=")
    page.fill("#token", "not-a-token")
    page.click("button[type=submit]")
    assert "not valid" in page.inner_text("[role=alert]")

    page.fill("#token", _token(database_url, Role.sales))
    page.click("button[type=submit]")
    page.wait_for_url(f"{hub_url}/?from=test")
    assert "(sales)" in page.inner_text("header")
    # nothing wider than the phone: no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.click("text=Sign out")
    page.goto(f"{hub_url}/")
    assert "/login" in page.url


def test_the_login_cookie_is_out_of_reach_of_scripts(browser: Any, hub_url: str, database_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, hub_url, _token(database_url, Role.finance))
    cookies = context.cookies()
    assert COOKIE in {c["name"] for c in cookies}
    assert all(c["httpOnly"] and c["sameSite"] == "Strict" for c in cookies), cookies
    assert page.evaluate("document.cookie") == ""
    context.close()


def test_login_never_redirects_off_the_hub(client: Any, database_url: str) -> None:
    answer = post_login(client, _token(database_url, Role.it), "//evil.example/x")
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_the_api_docs_render_without_internet(browser: Any, hub_url: str) -> None:
    """Issue 16: /docs was a blank page on a machine without internet (Swagger UI from a CDN).
    This machine has none: the page must render from the hub's own assets."""
    page = browser.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(f"{hub_url}/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "Concord hub" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".opblock").count() > 10  # the operations are listed
    assert all(url.startswith(hub_url) for url in asked), [u for u in asked if not u.startswith(hub_url)]
    page.goto(f"{hub_url}/redoc")
    page.wait_for_selector("h1", timeout=15_000)
    assert "Concord hub" in page.inner_text("h1")
    page.close()
