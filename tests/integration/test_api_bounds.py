"""Bounds at the edge (issue 13): what the API and the connectors take in fits the tables, and
whatever a caller sends is answered with a 4xx naming it — never a 500, never unbounded work.

Each test is one finding of the security review of the running hub.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from connectors.base import SourceRecord
from hub.api.app import create_app
from hub.auth.models import Role
from hub.db import session_scope
from hub.documents.models import Order
from hub.settings import BUNDLED_MAPPINGS, Settings
from hub.sync.engine import Applier
from hub.sync.mapping import MappingError
from tests.support.browser import live_hub

Headers = Callable[[Role], dict[str, str]]
JSON = {"content-type": "application/json"}

#: 284 bytes of YAML that expand to 9**7 (4.8 million) strings: 7 s of CPU before the fix
#: (each further line multiplies that by nine).
ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n" for prev, name in zip("abcdef", "bcdefg")
)


@pytest.fixture
def api(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), raise_server_exceptions=False)


def _golden(url: str) -> int:
    with session_scope(url) as session:
        applier = Applier(session, BUNDLED_MAPPINGS, "crm")
        applier.many("customer", [(SourceRecord("C1", {}), {"name": "Acme GmbH", "country": "DE"})])
    with session_scope(url) as session:
        from hub.master.models import GoldenCustomer

        return session.scalar(select(GoldenCustomer.id))  # type: ignore[return-value]


def _order(customer_id: int, quantity: Any = "1", price: Any = "10", lines: int = 1) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "lines": [{"product": f"P-{n}", "quantity": quantity, "unit_price": price} for n in range(lines)],
    }


def test_an_order_with_a_price_of_1e30_is_refused_and_scans_keep_working(
    api: TestClient, database_url: str, token_for: Headers
) -> None:
    sales, finance = token_for(Role.sales), token_for(Role.finance)
    golden = _golden(database_url)
    for quantity, price in ((1e30, 1e30), ("1", "1e30"), (1, 10**14), ("99999999999999", "2")):
        answer = api.post("/api/v1/orders", json=_order(golden, quantity, price), headers=sales)
        assert answer.status_code == 422, (quantity, price, answer.text)
    assert "10^14" in api.post("/api/v1/orders", json=_order(golden, 1e30, 1), headers=sales).text
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 0  # nothing went in
    assert api.post("/api/v1/orders", json=_order(golden, "2", "99999999999.9999"), headers=sales).status_code == 201
    assert api.post("/api/v1/receivables/scan", json={}, headers=finance).status_code == 200


def test_an_order_has_at_most_the_configured_number_of_lines(
    api: TestClient, settings: Settings, database_url: str, token_for: Headers
) -> None:
    golden, sales = _golden(database_url), token_for(Role.sales)
    too_many = api.post("/api/v1/orders", json=_order(golden, lines=1001), headers=sales)
    assert too_many.status_code == 422 and "at most 1000 lines" in too_many.text  # the default
    five = TestClient(create_app(settings.model_copy(update={"max_order_lines": 5})))
    assert five.post("/api/v1/orders", json=_order(golden, lines=6), headers=sales).status_code == 422
    assert five.post("/api/v1/orders", json=_order(golden, lines=5), headers=sales).status_code == 201


def test_nul_and_lone_surrogates_are_refused_with_422(api: TestClient, database_url: str, token_for: Headers) -> None:
    admin = {**token_for(Role.admin), **JSON}
    golden = _golden(database_url)
    for product in ("\\ud800", "P\\u0000"):
        body = f'{{"customer_id": {golden}, "lines": [{{"product": "{product}", "quantity": 1, "unit_price": 1}}]}}'
        answer = api.post("/api/v1/orders", content=body.encode(), headers=admin)
        assert answer.status_code == 422, (product, answer.status_code, answer.text)
        assert "surrogate" in answer.text or "NUL" in answer.text or "pattern" in answer.text
    nested = b'{"name": "erp", "kind": "tryton", "settings": {"url": "http://x", "database": "\\udc80"}}'
    answer = api.post("/api/v1/connections", content=nested, headers=admin)
    assert answer.status_code == 422 and "settings.database: contains a lone UTF-16 surrogate" in answer.text
    assert api.get("/api/v1/customers", params={"q": "a\x00b"}, headers=admin).status_code == 422


def test_a_number_with_a_huge_exponent_is_a_422_not_a_500(
    api: TestClient, database_url: str, token_for: Headers
) -> None:
    admin = {**token_for(Role.admin), **JSON}
    for body in (b'{"survivor_id": 1E+999999, "absorbed_id": 2}', b'{"ids": [1E+999999]}'):
        for path in ("/api/v1/customers/merge", "/api/v1/dead-letters/replay"):
            answer = api.post(path, content=body, headers=admin)
            assert answer.status_code == 422, (path, body, answer.status_code, answer.text)
    golden = _golden(database_url)
    answer = api.post(
        "/api/v1/orders",
        content=f'{{"customer_id": {golden}, "lines": [{{"product": "P", '
        f'"quantity": 1E+999999, "unit_price": -1E+999999}}]}}'.encode(),
        headers=admin,
    )
    assert answer.status_code == 422 and "finite" in answer.text


def test_an_alias_bomb_is_refused_at_once(api: TestClient, token_for: Headers) -> None:
    assert len(ALIAS_BOMB) < 400
    started = time.monotonic()
    answer = api.put(
        "/api/v1/receivables/pipelines/standard",
        content=ALIAS_BOMB.encode(),
        headers={**token_for(Role.finance), "content-type": "application/yaml"},
    )
    assert time.monotonic() - started < 1
    assert answer.status_code == 422 and "aliases expand to more than" in answer.json()["detail"]


def test_an_unknown_sync_stream_is_a_422_naming_the_streams(api: TestClient, token_for: Headers) -> None:
    it = token_for(Role.it)
    created = api.post(
        "/api/v1/connections",
        json={
            "name": "erp",
            "kind": "tryton",
            "settings": {"url": "http://127.0.0.1:1", "database": "d"},
            "secrets": {"password": "p"},
        },
        headers=it,
    )
    assert created.status_code == 201, created.text
    answer = api.post("/api/v1/connections/erp/sync", json={"streams": ["orders", "nope"]}, headers=it)
    assert answer.status_code == 422, answer.text
    assert "has no stream 'nope'" in answer.json()["detail"] and "customers" in answer.json()["detail"]
    assert api.post("/api/v1/connections/none/sync", json={"streams": ["nope"]}, headers=it).status_code == 404


def _status(sock: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return int(head.split(b" ", 2)[1])


def test_an_oversized_body_is_413_before_it_is_read_or_its_token_checked(settings: Settings) -> None:
    """Without a token, on a real server: a declared 100 MB body is refused at once, and a
    streamed (chunked) one as soon as it passes the limit — the server stops reading."""
    limit = 1024 * 1024
    with live_hub(settings.model_copy(update={"max_body_bytes": limit})) as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            started = time.monotonic()
            sock.sendall(
                b"POST /api/v1/orders HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
                b"Content-Length: 104857600\r\n\r\n"
            )
            assert _status(sock) == 413
            assert time.monotonic() - started < 1

        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(
                b"POST /api/v1/orders HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            piece = b'{"product": "P", "quantity": 1, "unit_price": 1},' * 1300  # ~64 KB of order lines
            chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
            sent = 0
            sock.settimeout(0.05)
            status = None
            deadline = time.monotonic() + 10
            while sent < 100 * limit and time.monotonic() < deadline:  # 100 MB, unless the server stops it
                try:
                    sock.sendall(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += len(piece)
                try:
                    status = _status(sock)
                    break
                except TimeoutError:
                    continue
            if status is None:
                sock.settimeout(5)
                try:
                    status = _status(sock)
                except (TimeoutError, IndexError, ValueError):
                    status = 0  # no answer: the server is still reading
        assert status == 413
        assert sent < 20 * limit, f"the server read {sent} bytes before refusing"


def test_a_connector_record_out_of_bounds_is_a_dead_letter_and_the_rest_of_the_page_goes_in(database_url: str) -> None:
    """SQLite enforces no Numeric(18, 4): the record is refused by hub.bounds, on both backends."""
    _golden(database_url)

    def order(number: str, total: Any, product: str = "P") -> tuple[SourceRecord, dict[str, Any]]:
        fields = {
            "number": number,
            "customer": "C1",
            "status": "confirmed",
            "ordered_on": date(2026, 11, 1),
            "currency": "EUR",
            "total": total,
            "lines": [{"id": f"{number}/1", "product": product, "quantity": Decimal(1), "unit_price": Decimal(1)}],
        }
        return SourceRecord(number, fields), fields

    page = [
        order("SO1", Decimal(1)),
        order("SO2", Decimal("1e30")),
        order("SO3", Decimal("NaN")),
        order("SO4", Decimal(1), "P\x00"),
        order("SO5", Decimal(5)),
    ]
    with session_scope(database_url) as session:
        outcomes = Applier(session, BUNDLED_MAPPINGS, "crm").many("order", page)
    assert [type(o).__name__ for o in outcomes] == ["Change", "MappingError", "MappingError", "MappingError", "Change"]
    assert "total: 1E+30 is too large" in str(outcomes[1])
    assert "total: NaN is not a finite number" in str(outcomes[2])
    assert "lines[0].product: contains a NUL character" in str(outcomes[3])
    assert all(isinstance(o, MappingError) for o in outcomes[1:4])
    with session_scope(database_url) as session:
        assert sorted(session.scalars(select(Order.number))) == ["SO1", "SO5"]

    with session_scope(database_url) as session:
        (refused,) = Applier(session, BUNDLED_MAPPINGS, "crm").many(
            "customer", [(SourceRecord("C2", {}), {"name": "X" * 400, "country": "DE"})]
        )
    assert "name: 400 characters, at most 300 fit" in str(refused)


def test_the_openapi_documents_every_error_with_its_shape(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for code in ("401", "403", "404", "409", "413", "422"):
                assert code in operation["responses"], (method, path, code)
    invalid = spec["components"]["schemas"]["Invalid"]["properties"]["detail"]
    assert {"type": "string"} in invalid["anyOf"]  # a service's sentence, or FastAPI's field list
