"""The access log of the running API names the path and the parameters asked for, never their
values: ``/api/v1/customers?email=…&tax_id=…`` carries personal data."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import httpx
import pytest
import uvicorn

from hub.api.app import create_app
from hub.auth.models import Role
from hub.observability.logs import JsonFormatter, TextFormatter
from hub.settings import Settings


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_access_log_keeps_no_query_values(
    settings: Settings, token_for: Any, caplog: pytest.LogCaptureFixture
) -> None:
    port = _port()
    # as `hub serve` runs it: uvicorn's access log through the hub's logging (log_config=None)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="info", log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the hub did not start"
            time.sleep(0.02)
        answer = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/customers",
            params={"email": "a@b.c", "tax_id": "DE811569869"},
            headers=token_for(Role.it),
        )
        assert answer.status_code < 500, answer.text
    finally:
        server.should_exit = True
        thread.join(10)
    [record] = [r for r in caplog.records if r.name == "uvicorn.access" and "/api/v1/customers" in r.getMessage()]
    for line in (record.getMessage(), JsonFormatter().format(record), TextFormatter().format(record)):
        assert "a@b.c" not in line and "DE811569869" not in line and "a%40b.c" not in line
        assert "/api/v1/customers?email=[redacted]&tax_id=[redacted]" in line
