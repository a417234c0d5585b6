"""A real browser on real pages: Debian's Chromium driven by Playwright, and the hub served by
uvicorn on a loopback port.

Never ``playwright install`` (its downloads fail here): the browser is the system's
``chromium`` (``apt-get install chromium``; ``.ci/run`` installs it), or ``HUB_TEST_CHROMIUM``.
Without one the page tests skip and say why.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn

from hub.api.app import create_app
from hub.settings import Settings
from tests.support.servers import _free_port

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: A common phone: 390 × 844 CSS pixels (iPhone 12–15).
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


def chromium_path() -> str | None:
    return os.environ.get("HUB_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium: apt-get install chromium, or set HUB_TEST_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@contextmanager
def live_hub(settings: Settings) -> Iterator[str]:
    """The hub's app on a loopback port, for as long as the block runs; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the hub did not start on a loopback port")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def sign_in(page: Any, base_url: str, token: str) -> None:
    """Through the login form, as a person would."""
    page.goto(f"{base_url}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:  # signed in: redirected away from the form
        page.wait_for_url(lambda url: "/login" not in url)
    except PlaywrightTimeout:
        raise AssertionError(f"sign-in stayed on {page.url}: {page.inner_text('body')[:300]!r}") from None
    page.wait_for_load_state()
