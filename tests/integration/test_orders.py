"""Orders entered once in the hub's API, sent on, and one status for sales: API, CLI, phone page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.base import SourceRecord
from hub.auth.models import Role
from hub.auth.tokens import create_token
from hub.db import session_scope
from hub.master.ingest import CustomerMaster
from hub.outbox.dispatch import Dispatcher
from hub.settings import Settings
from hub.sync.connections import add_connection
from hub.sync.engine import Applier, SyncEngine
from hub.sync.models import Link
from tests.support.browser import PHONE, live_hub, sign_in
from tests.support.sink import Sink, webhook_sink

KEY = "orders-test-key"


@pytest.fixture
def erp(database_url: str, mappings_dir: Path) -> Iterator[Sink]:
    (mappings_dir / "routes.yaml").write_text(
        "routes:\n  order:\n    entered_in: [crm, hub]\n    send_to: [{connection: erp, stream: orders}]\n"
        "ownership:\n  order: {status: erp}\n  shipment: {'*': erp}\n"
    )
    with webhook_sink(prefix="SO") as sink:
        with session_scope(database_url) as session:
            add_connection(
                session,
                name="erp",
                kind="webhook",
                settings={"url": sink.url},
                secrets={"signing_secret": sink.secret},
                secret_key=KEY,
            )
        yield sink


@pytest.fixture
def golden_id(database_url: str, mappings_dir: Path) -> int:
    with session_scope(database_url) as session:
        return (
            CustomerMaster(session, mappings_dir)
            .ingest("crm", "A1", {"name": "Suzuki Trading 株式会社", "country": "JP", "email": "sales@suzuki.example"})
            .golden_id
        )


def _order(golden: int, number: str | None = "WEB-1", quantity: str = "3") -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": golden,
        "reference": "PO-77",
        "owner": "test sales",
        "lines": [{"product": "P-100", "quantity": quantity, "unit_price": "25.50"}],
    }
    return body | ({"number": number} if number else {})


def test_an_order_posted_once_is_created_once_and_a_retry_changes_nothing(
    client: Any, token_for: Any, golden_id: int
) -> None:
    sales = token_for(Role.sales)
    first = client.post("/api/v1/orders", json=_order(golden_id), headers=sales)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/orders", json=_order(golden_id), headers=sales)
    assert again.status_code == 200 and again.json() == {**first.json(), "change": "unchanged"}
    changed = client.post("/api/v1/orders", json=_order(golden_id, quantity="4"), headers=sales)
    assert changed.json()["change"] == "updated" and changed.json()["id"] == first.json()["id"]


def test_bad_orders_are_refused_with_what_is_wrong(client: Any, token_for: Any, golden_id: int) -> None:
    sales = token_for(Role.sales)
    unknown = client.post("/api/v1/orders", json=_order(999999), headers=sales)
    assert unknown.status_code == 422 and "customer '999999'" in unknown.json()["detail"]
    zero = client.post("/api/v1/orders", json=_order(golden_id, quantity="0"), headers=sales)
    assert zero.status_code == 422 and zero.json()["detail"][0]["loc"] == ["body", "lines", 0, "quantity"]
    assert client.post("/api/v1/orders", json=_order(golden_id), headers=token_for(Role.finance)).status_code == 403


def test_one_status_with_every_systems_number_shipments_and_invoices(
    client: Any, token_for: Any, golden_id: int, erp: Sink, database_url: str, mappings_dir: Path
) -> None:
    created = client.post(
        "/api/v1/orders", json=_order(golden_id, number=None, quantity="10"), headers=token_for(Role.sales)
    ).json()
    dispatcher = Dispatcher(SyncEngine(database_url, mappings_dir, KEY))
    dispatcher.route()
    assert dispatcher.deliver("erp").sent == 1
    [sent] = erp.of("orders")
    assert sent["data"]["customer"] == "SO1" and sent["data"]["reference"] == "PO-77"

    # the ERP ships 4 of 10 and invoices, due yesterday: what its sync would bring in
    with session_scope(database_url) as session:
        line_id = session.scalar(select(Link.hub_id).where(Link.entity_type == "order_line"))
        session.add(Link(entity_type="order_line", hub_id=line_id, system="erp", external_id="L1", content_hash="-"))
        apply = Applier(session, mappings_dir, "erp")
        shipment = {
            "number": "SH1",
            "order": "SO2",
            "status": "shipped",
            "shipped_on": date.today(),
            "lines": [{"order_line": "L1", "product": "P-100", "quantity": Decimal(4)}],
        }
        invoice = {
            "number": "INV1",
            "order": "SO2",
            "customer": "SO1",
            "status": "open",
            "total": Decimal(102),
            "amount_due": Decimal(102),
            "due_dates": [{"date": date.today() - timedelta(days=1), "amount": Decimal(102)}],
        }
        for entity, ext, fields in (("shipment", "S1", shipment), ("invoice", "I1", invoice)):
            [outcome] = apply.many(entity, [(SourceRecord(ext, fields), fields)])
            assert not isinstance(outcome, Exception), outcome

    found = client.get("/api/v1/orders", params={"ref": "SO2"}, headers=token_for(Role.finance)).json()
    assert [o["id"] for o in found] == [created["id"]]
    status = client.get(created["status_url"], headers=token_for(Role.sales)).json()
    assert status["numbers"]["erp"] == "SO2" and status["numbers"]["hub"].startswith("H-")
    assert status["lines"] == [
        {"product": "P-100", "description": None, "ordered": "10", "shipped": "4", "unit_price": "25.50"}
    ]
    assert not status["fully_shipped"]
    assert [d["number"] for d in status["deliveries"]] == ["SH1"]
    assert status["invoices"][0]["amount_due"] == "102.00"
    assert status["overdue"] is True
    sources = {(e["source"], e["entity"], e["what"]) for e in status["timeline"]}
    assert ("erp", "shipment", "created") in sources and any(s.startswith("api:") for s, _e, _w in sources)

    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_MAPPINGS_DIR": str(mappings_dir)}
    cli = subprocess.run(
        [sys.executable, "-m", "hub", "orders", "status", "SO2", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["lines"][0]["shipped"] == "4"


@pytest.mark.browser
def test_sales_finds_an_order_on_a_phone(
    browser: Any, settings: Settings, database_url: str, golden_id: int, client: Any, token_for: Any
) -> None:
    posted = client.post(
        "/api/v1/orders", json=_order(golden_id, number="WEB-9", quantity="2"), headers=token_for(Role.sales)
    )
    assert posted.status_code == 201, posted.text
    with session_scope(database_url) as session:
        token = create_token(session, Role.sales, "anna")[1]
    with live_hub(settings) as url:
        page = browser.new_page(**PHONE)
        sign_in(page, url, token)
        page.click("text=Orders")
        page.fill("#q", "WEB-9")
        page.click("form[role=search] button")
        page.click("text=WEB-9")
        assert "Suzuki Trading" in page.inner_text("#summary")
        assert page.inner_text("#lines").count("P-100") == 1
        assert "created" in page.inner_text("#timeline")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        page.close()
