"""A web hook receiver on loopback: checks every signature, keeps what it received, and can be
told to be down (503) or to refuse records (400). The target of outbox tests and benchmarks —
it answers at once, so a measured rate is the hub's own overhead."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hub.notify.signing import SignatureError, verify


@dataclass
class Sink:
    url: str
    secret: str
    received: list[dict[str, Any]] = field(default_factory=list)
    #: hub_ref → the id this system gave the record: a retried create gets the same id
    ids: dict[str, str] = field(default_factory=dict)
    down: bool = False
    refuse: str | None = None
    #: Seconds each POST takes: a slow target keeps concurrent senders overlapping.
    delay: float = 0.0
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, stream: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.received if r["stream"] == stream]


@contextmanager
def webhook_sink(secret: str = "sink-secret", prefix: str = "X") -> Iterator[Sink]:
    holder: dict[str, Sink] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver behind a proxy
        disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms delayed-ACK stall)

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._answer(200, {"ok": True})

        def do_POST(self) -> None:  # noqa: N802
            sink = holder["sink"]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                verify(sink.secret, self.headers, body)
            except SignatureError as exc:
                sink.bad_signatures += 1
                return self._answer(401, {"error": str(exc)})
            if sink.down:
                return self._answer(503, {"error": "down for maintenance"})
            record = json.loads(body)
            if sink.refuse:
                return self._answer(400, {"error": sink.refuse})
            time.sleep(sink.delay)
            with sink.lock:
                sink.received.append(record)
                ref = record["data"].get("hub_ref") or str(len(sink.received))
                new_id = record["external_id"] or sink.ids.setdefault(ref, f"{prefix}{len(sink.ids) + 1}")
            self._answer(200, {"id": new_id, "number": new_id})

        def _answer(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder["sink"] = Sink(f"http://127.0.0.1:{server.server_address[1]}/hook", secret)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["sink"]
    finally:
        server.shutdown()
        server.server_close()
