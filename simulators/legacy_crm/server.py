"""Serve the legacy CRM on loopback from a thread (tests, ``hub demo``) or the foreground."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from simulators.legacy_crm.app import SHAPES, LegacyCrmApp
from simulators.legacy_crm.store import CrmStore


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class RunningCrm:
    store: CrmStore
    url: str  # http://127.0.0.1:PORT

    @property
    def sugar_wsdl(self) -> str:
        return f"{self.url}/sugar?wsdl"

    @property
    def nav_wsdl(self) -> str:
        return f"{self.url}/nav?wsdl"


def make(store: CrmStore, port: int = 0, shapes: Iterable[str] = SHAPES, quiet: bool = True) -> _Server:
    handler = _QuietHandler if quiet else WSGIRequestHandler
    return make_server("127.0.0.1", port, LegacyCrmApp(store, shapes), server_class=_Server, handler_class=handler)


@contextmanager
def serve(
    store: CrmStore | None = None,
    port: int = 0,
    shapes: Iterable[str] = SHAPES,
    wrap: Callable[[Any], Any] | None = None,
) -> Iterator[RunningCrm]:
    """The CRM on 127.0.0.1 (a free port unless given) in a daemon thread, for the block.
    ``wrap`` takes the WSGI app and returns the one to serve (tests slow it down, say)."""
    store = store if store is not None else CrmStore()
    server = make(store, port, shapes)
    if wrap is not None:
        server.set_app(wrap(server.get_app()))
    thread = threading.Thread(target=server.serve_forever, name="legacy-crm", daemon=True)
    thread.start()
    try:
        yield RunningCrm(store, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
