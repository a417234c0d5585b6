"""An HTTP server on loopback speaking a faithful subset of the Xero Accounting API.

* ``POST /connect/token`` — OAuth2 client credentials (HTTP Basic or form fields) →
  ``{"access_token", "expires_in", "token_type": "Bearer"}``; wrong credentials → 400
  ``{"error": "invalid_client"}``.
* ``GET /api.xro/2.0/{Contacts|Invoices|Payments}`` — ``If-Modified-Since`` (records with
  ``UpdatedDateUTC`` at or after it), ``where`` (``==`` conditions), ``order``, ``IDs``,
  ``InvoiceNumbers``, ``includeArchived``, ``page`` (1-based) and ``pageSize`` (default 100,
  at most 1000); without ``page`` every record comes back, as in Xero.
* ``GET …/{Collection}/{id}`` (invoices also by number); ``PUT …/{Collection}`` creates,
  ``POST …/{Collection}[/{id}]`` creates or updates; bodies ``{"Invoices": [...]}`` or one object.
* A bearer token on every API call (expired or unknown → 401 with Xero's problem body); a
  ``Xero-tenant-id`` naming another organisation → 403.
* Refusals as Xero sends them: 400 ``ValidationException`` with ``Elements[].ValidationErrors[]``,
  429 with ``Retry-After``, 404 for an unknown id.

Switches for tests (:class:`FinanceServer`): :meth:`throttle` (next N API calls answer 429),
:meth:`fail` (next N answer 503), :meth:`expire_tokens`, :meth:`drop_after_commit` (the next
N writes are committed, then the connection is closed without an answer), :meth:`stop` /
:meth:`start` on the same port. Every request is logged in :attr:`requests`.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

from simulators.finance.books import (
    ID_FIELDS,
    BadQuery,
    Books,
    ValidationFailed,
    ms_date,
    parse_stamp,
)

API = "/api.xro/2.0/"


@dataclass(frozen=True)
class Logged:
    at: float  # time.monotonic()
    method: str
    path: str
    status: int  # 0: the connection was dropped without an answer


def _json(value: Any) -> bytes:
    def default(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return float(obj)  # 2-4 decimal places print exactly; Xero sends plain numbers too
        raise TypeError(f"cannot encode {type(obj).__name__}")

    return json.dumps(value, default=default, separators=(",", ":")).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API behind its load balancer
    server: _HTTPServer

    def log_message(self, *args: object) -> None:  # quiet; see FinanceServer.requests
        pass

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    # --- plumbing -------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        sim = self.server.sim
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            if url.path == "/connect/token" and self.command == "POST":
                status = self._token(body)
            elif url.path.startswith(API):
                status = self._api(url.path[len(API) :], parse_qs(url.query), body)
            else:
                status = self._send(404, {"Title": "NotFound", "Status": 404, "Detail": f"no route {url.path}"})
        except _Dropped:
            status = 0
            self.close_connection = True
        sim._log(self.command, url.path, status)

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> int:
        data = _json(payload)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        return status

    # --- OAuth2 ---------------------------------------------------------------------------------
    def _token(self, body: bytes) -> int:
        sim = self.server.sim
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                client_id = client_secret = None
        if form.get("grant_type") != "client_credentials":
            return self._send(400, {"error": "unsupported_grant_type"})
        if (client_id, client_secret) != (sim.client_id, sim.client_secret):
            return self._send(400, {"error": "invalid_client"})
        token = secrets.token_urlsafe(24)
        with sim.lock:
            sim.tokens[token] = time.monotonic() + sim.token_lifetime
            sim.token_grants += 1
        return self._send(
            200,
            {
                "access_token": token,
                "expires_in": sim.token_lifetime,
                "token_type": "Bearer",
                "scope": form.get("scope", "accounting.transactions"),
            },
        )

    # --- the API --------------------------------------------------------------------------------
    def _api(self, route: str, query: dict[str, list[str]], body: bytes) -> int:
        sim = self.server.sim
        refusal = sim._take_refusal()
        if refusal == 429:
            return self._send(
                429,
                {"Title": "Too Many Requests", "Status": 429},
                {"Retry-After": str(sim.retry_after), "X-Rate-Limit-Problem": "minute"},
            )
        if refusal:
            return self._send(refusal, {"Title": "Service Unavailable", "Status": refusal})
        token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        with sim.lock:
            expires = sim.tokens.get(token)
        if expires is None or expires <= time.monotonic():
            detail = "TokenExpired: token expired" if expires else "AuthenticationUnsuccessful"
            return self._send(
                401,
                {"Type": None, "Title": "Unauthorized", "Status": 401, "Detail": detail},
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        tenant = self.headers.get("Xero-tenant-id")
        if tenant and tenant.lower() != sim.tenant_id:
            return self._send(
                403, {"Type": None, "Title": "Forbidden", "Status": 403, "Detail": "AuthenticationUnsuccessful"}
            )
        collection, _, key = (unquote(p) for p in route.partition("/"))
        if collection not in ID_FIELDS:
            return self._send(404, {"Title": "NotFound", "Status": 404, "Detail": f"no endpoint {collection}"})
        if self.command == "GET":
            return self._read(collection, key, query)
        return self._write(collection, key, body)

    def _read(self, collection: str, key: str, query: dict[str, list[str]]) -> int:
        books = self.server.sim.books
        if key:
            record = books.get(collection, key)
            if record is None:
                return self._send(
                    404,
                    {"Title": "NotFound", "Status": 404, "Detail": "The resource you're looking for cannot be found"},
                )
            return self._send(200, self._envelope(collection, [record]))
        args = {name: values[0] for name, values in query.items()}
        try:
            since = self.headers.get("If-Modified-Since")
            page = int(args["page"]) if args.get("page") else None
            size = min(int(args.get("pageSize") or 100), 1000)
            if (page is not None and page < 1) or size < 1:
                raise BadQuery("page and pageSize must be positive")
            rows, matched = books.query(
                collection,
                where=args.get("where"),
                order=args.get("order"),
                since=parse_stamp(since) if since else None,
                ids=args["IDs"].split(",") if args.get("IDs") else None,
                numbers=args["InvoiceNumbers"].split(",") if args.get("InvoiceNumbers") else None,
                include_archived=(args.get("includeArchived") or "").lower() == "true",
                page=page,
                page_size=size,
            )
        except (BadQuery, ValueError) as exc:
            return self._send(400, {"ErrorNumber": 16, "Type": "QueryParseException", "Message": str(exc)})
        envelope = self._envelope(collection, rows)
        if page is not None:
            envelope["pagination"] = {
                "page": page,
                "pageSize": size,
                "pageCount": -(-matched // size),
                "itemCount": matched,
            }
        return self._send(200, envelope)

    def _write(self, collection: str, key: str, body: bytes) -> int:
        sim = self.server.sim
        try:
            payload = json.loads(body or b"{}", parse_float=Decimal)
        except ValueError as exc:
            return self._send(
                400,
                {
                    "ErrorNumber": 14,
                    "Type": "PostDataInvalidException",
                    "Message": f"The request body is not valid JSON: {exc}",
                },
            )
        items = payload.get(collection, [payload]) if isinstance(payload, dict) else payload
        try:
            saved = sim.books.save(
                collection,
                items if isinstance(items, list) else [items],
                target_id=key or None,
                allow_update=self.command == "POST",
            )
        except ValidationFailed as exc:
            return self._send(
                400,
                {
                    "ErrorNumber": 10,
                    "Type": "ValidationException",
                    "Message": "A validation exception occurred",
                    "Elements": [
                        {
                            **(dict(item) if isinstance(item, dict) else {}),
                            "ValidationErrors": [{"Message": m} for m in messages],
                        }
                        for item, messages in exc.elements
                    ],
                },
            )
        if sim._take_drop():
            raise _Dropped
        return self._send(200, self._envelope(collection, saved))

    @staticmethod
    def _envelope(collection: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "Id": str(uuid.uuid4()),
            "Status": "OK",
            "ProviderName": "Concord finance simulator",
            "DateTimeUTC": ms_date(datetime.now(UTC)),
            collection: rows,
        }


class _Dropped(Exception):
    """The write was committed; the client gets no answer (its connection is closed)."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sim: FinanceServer):
        self.sim = sim
        self.open_sockets: set[socket.socket] = set()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.open_sockets.discard(request)
        super().shutdown_request(request)


class FinanceServer:
    """The simulator: books, credentials, switches, and the HTTP server in a thread.

    ``with FinanceServer() as server:`` starts it on a free port; ``server.url`` is the base
    for the connector's ``url`` setting and ``server.token_url`` its token endpoint.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        client_id: str = "concord-demo",
        client_secret: str | None = None,
        tenant_id: str | None = None,
        token_lifetime: int = 1800,
        books: Books | None = None,
    ):
        self.books = books or Books()
        self.port = port
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(18)
        self.tenant_id = (tenant_id or str(uuid.uuid4())).lower()
        self.token_lifetime = token_lifetime
        self.tokens: dict[str, float] = {}
        self.token_grants = 0
        self.requests: list[Logged] = []
        self.retry_after = 1
        self.lock = threading.Lock()
        self._refusals: list[int] = []
        self._drops = 0
        self._httpd: _HTTPServer | None = None

    # --- life cycle -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_url(self) -> str:
        return f"{self.url}/connect/token"

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self) -> Self:
        """Listen (again) on the same port; the books and tokens are kept across a restart."""
        if self._httpd is None:
            self._httpd = _HTTPServer(("127.0.0.1", self.port), self)
            self.port = self._httpd.server_address[1]
            threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="finance-sim", daemon=True
            ).start()
        return self

    def stop(self) -> None:
        """Stop listening and cut open keep-alive connections: the system is down."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
            for sock in list(httpd.open_sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- switches -------------------------------------------------------------------------------
    def throttle(self, count: int = 1, retry_after: int = 1) -> None:
        """The next ``count`` API calls answer 429 with ``Retry-After: retry_after``."""
        with self.lock:
            self.retry_after = retry_after
            self._refusals += [429] * count

    def fail(self, count: int = 1, status: int = 503) -> None:
        with self.lock:
            self._refusals += [status] * count

    def expire_tokens(self) -> None:
        """Every token issued so far is expired (a long sync outliving its token)."""
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, 0.0)

    def drop_after_commit(self, count: int = 1) -> None:
        with self.lock:
            self._drops += count

    def reset_switches(self) -> None:
        with self.lock:
            self._refusals, self._drops = [], 0

    def _take_refusal(self) -> int | None:
        with self.lock:
            return self._refusals.pop(0) if self._refusals else None

    def _take_drop(self) -> bool:
        with self.lock:
            if self._drops:
                self._drops -= 1
                return True
            return False

    def _log(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.requests.append(Logged(time.monotonic(), method, path, status))

    # --- seeding ----------------------------------------------------------------------------------
    def touch(self, collection: str, key: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change one record as a user in the finance system would (``UpdatedDateUTC`` moves)."""
        [saved] = self.books.save(collection, [changes], target_id=key)
        return saved

    def backdate(self, collection: str, key: str, when: datetime) -> None:
        """Set a record's ``UpdatedDateUTC`` (history, or many records sharing one stamp)."""
        with self.books.lock:
            self.books._table(collection)[key.lower()]["UpdatedDateUTC"] = when
