"""The legacy CRM as a WSGI application: both service shapes over one store.

GET  /sugar?wsdl            the generic shape's WSDL;   POST /sugar            its calls
GET  /nav?wsdl              the typed shape's WSDL;     POST /nav/Page/<Page>  its calls
GET  /xxe-probe             counts hits (a resolved external entity would show up here)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from simulators.legacy_crm import nav, sugar
from simulators.legacy_crm.envelope import Fault, broken, envelope, fault, local, parse_request
from simulators.legacy_crm.store import CrmStore

SHAPES = ("sugar", "nav")
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
_STATUS = {
    200: "200 OK",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}
_MAX_REQUEST = 10 * 1024 * 1024


class LegacyCrmApp:
    def __init__(self, store: CrmStore, shapes: Iterable[str] = SHAPES):
        self.store = store
        self.shapes = tuple(shapes)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        status, content_type, body = self.answer(environ)
        start_response(_STATUS[status], [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def answer(self, environ: dict[str, Any]) -> tuple[int, str, bytes]:
        path = environ.get("PATH_INFO", "").rstrip("/")
        method = environ["REQUEST_METHOD"]
        base = f"{environ['wsgi.url_scheme']}://{environ.get('HTTP_HOST') or environ['SERVER_NAME']}"
        if path == "/xxe-probe":
            with self.store.lock:
                self.store.probe_hits += 1
            return 200, "text/plain", b"probe"
        shape = path.split("/")[1] if path.count("/") >= 1 else ""
        if shape not in self.shapes:
            return 404, "text/plain", f"no service at {path or '/'} (shapes: {', '.join(self.shapes)})".encode()
        if method == "GET":
            xml = sugar.wsdl(f"{base}/sugar") if shape == "sugar" else nav.wsdl(f"{base}/nav")
            return 200, "text/xml; charset=utf-8", xml
        if method != "POST":
            return 405, "text/plain", b"GET for the WSDL, POST for calls"
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > _MAX_REQUEST:
            return 500, "text/xml; charset=utf-8", fault("request too large")
        return self.call(shape, environ["wsgi.input"].read(length), f"{base}/xxe-probe")

    def call(self, shape: str, body: bytes, probe_url: str) -> tuple[int, str, bytes]:
        operation = "?"
        try:
            header, request = parse_request(body)
            operation = local(request)
            trick = self.store.trick_for(operation)
            if shape == "sugar":
                answer = envelope(sugar.handle(self.store, request))
            else:
                answer = envelope(nav.handle(self.store, header, request))
        except Fault as exc:
            return 500, "text/xml; charset=utf-8", fault(str(exc), exc.code)
        if trick is not None:
            return broken(trick.kind, answer, probe_url, trick.xxe_file)
        return 200, "text/xml; charset=utf-8", answer
