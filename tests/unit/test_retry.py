"""The connectors' retry policy against a real HTTP server on loopback that throttles."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connectors.errors import TransientError
from connectors.tryton.rpc import TrytonRPC


class Throttling(BaseHTTPRequestHandler):
    """Answers 429 with Retry-After for the first ``throttle`` requests, then JSON-RPC results."""

    throttle = 2
    seen: list[float] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(time.monotonic())
        if len(self.seen) <= self.throttle:
            self.send_response(429)
            self.send_header("Retry-After", "0.3")
            self.end_headers()
            return
        result = [1, "session-token"] if body["method"] == "common.db.login" else {"company": 1}
        payload = json.dumps({"id": body["id"], "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    Throttling.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Throttling)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def test_retry_after_is_honoured_then_the_call_succeeds(server):
    Throttling.throttle = 2
    rpc = TrytonRPC(server, "db", "admin", "pw", retries=3)
    rpc.login()
    assert rpc.session == "session-token"
    gaps = [b - a for a, b in zip(Throttling.seen, Throttling.seen[1:3])]
    assert all(gap >= 0.28 for gap in gaps), gaps  # waited as told, not the 0.2 s backoff


def test_a_system_that_keeps_throttling_is_a_transient_error(server):
    Throttling.throttle = 99
    rpc = TrytonRPC(server, "db", "admin", "pw", retries=2)
    with pytest.raises(TransientError, match="HTTP 429") as caught:
        rpc.login()
    assert caught.value.retry_after == pytest.approx(0.3)
    assert len(Throttling.seen) == 3
