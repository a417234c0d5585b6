"""What the hub says equals what a real Tryton 8.2 holds (issue 12): a replayed dead letter
brings the record as it is now, never a stale stored copy over newer data; a record gone
from Tryton stays a dead letter saying so; service lines do not keep an order "not fully
shipped"; taxed and untaxed totals are both kept, as Tryton shows them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.base import Connector
from connectors.tryton import TrytonConnector
from hub.db import session_scope
from hub.demo.erp_scenario import sale_values as _sale_values
from hub.demo.erp_scenario import ship as _ship
from hub.demo.erp_setup import one2many as _one2many
from hub.documents.models import Invoice, Order, Shipment
from hub.documents.status import order_status
from hub.sync.connections import add_connection
from hub.sync.engine import SyncEngine
from hub.sync.models import DeadLetter, Link
from tests.support import tryton

pytestmark = [
    pytest.mark.skipif(not tryton.trytond_available(), reason=tryton.SKIP_REASON),
    pytest.mark.timeout(300),
]

KEY = "test-secret-key"


@pytest.fixture
def server(tryton_server: tryton.TrytonServer) -> tryton.TrytonServer:
    return tryton_server.start()  # the run's one Tryton (tests/conftest.py); erp resets it per test


@pytest.fixture
def erp(server: tryton.TrytonServer, database_url: str, mappings_dir: Path) -> SyncEngine:
    if not server.running:
        server.start()
    server.reset_database()
    with session_scope(database_url) as session:
        add_connection(
            session,
            name="erp",
            kind="tryton",
            secret_key=KEY,
            settings={"url": server.url, "database": server.database, "login": server.login},
            secrets={"password": server.password},
        )
    return SyncEngine(database_url, mappings_dir, KEY)


def _without_code(mappings_dir: Path, entry: str, by: str = "") -> str:
    """Take a state out of a code list, so records in that state dead-letter; the original."""
    mapping = mappings_dir / "connectors" / "tryton.yaml"
    original = mapping.read_text()
    assert original.count(entry) == 1
    mapping.write_text(original.replace(entry, by))
    return original


def _backorder_dead_letter(erp: SyncEngine, server: tryton.TrytonServer, mappings_dir: Path) -> int:
    """The waiting backorder of the partly shipped sale fails to map and becomes a dead letter;
    then Tryton ships it and the mapping is fixed. Its Tryton id."""
    original = _without_code(mappings_dir, " waiting: planned,")
    results = {r.stream: r for r in erp.sync("erp")}
    assert results["shipments"].failed == 1
    backorder = server.seed["sales"]["partial"]["backorder"]
    with server.client() as client:
        _ship(client, [backorder["id"]])
    (mappings_dir / "connectors" / "tryton.yaml").write_text(original)
    return backorder["id"]


def _tryton_shipment(server: tryton.TrytonServer, shipment_id: int) -> dict[str, Any]:
    with server.client() as client:
        [row] = client.read("stock.shipment.out", [shipment_id], ["state", "effective_date"])
    assert row["state"] == "done" and row["effective_date"] is not None
    return row


def _hub_shipment(url: str, shipment_id: int) -> Shipment:
    with session_scope(url) as session:
        link = session.scalar(
            select(Link).where(
                Link.system == "erp", Link.entity_type == "shipment", Link.external_id == str(shipment_id)
            )
        )
        assert link is not None
        shipment = session.get(Shipment, link.hub_id)
        assert shipment is not None
        session.expunge(shipment)
        return shipment


def _letter(url: str) -> DeadLetter:
    with session_scope(url) as session:
        letter = session.scalars(select(DeadLetter)).one()
        session.expunge(letter)
        return letter


def test_a_replayed_shipment_gets_trytons_current_state_not_the_stale_copy(erp, server, database_url, mappings_dir):
    shipment_id = _backorder_dead_letter(erp, server, mappings_dir)
    stored = _letter(database_url)
    assert stored.payload["data"]["effective_date"] is None and stored.payload["data"]["state"] == "waiting"

    assert erp.replay() == (1, 0)

    now = _tryton_shipment(server, shipment_id)
    shipment = _hub_shipment(database_url, shipment_id)
    assert shipment.shipped_on == now["effective_date"]
    assert shipment.status == "shipped"
    assert _letter(database_url).status == "replayed"


class _CannotReadOne(TrytonConnector):
    """Tryton read as a connector that can only read streams (as a file or a feed can)."""

    read_one = Connector.read_one  # type: ignore[assignment]


def test_a_stored_copy_older_than_what_went_in_since_is_superseded_not_applied(
    erp, server, database_url, mappings_dir, monkeypatch
):
    shipment_id = _backorder_dead_letter(erp, server, mappings_dir)
    erp.sync("erp", ["shipments"])  # the shipment, done now, goes in with this sync
    shipped_on = _tryton_shipment(server, shipment_id)["effective_date"]
    assert _hub_shipment(database_url, shipment_id).shipped_on == shipped_on
    monkeypatch.setattr("hub.sync.connections.connector_class", lambda kind: _CannotReadOne)  # the one factory

    outcome = erp.replay()

    assert outcome == (0, 0) and outcome.superseded == 1
    assert _hub_shipment(database_url, shipment_id).shipped_on == shipped_on  # not back to None
    letter = _letter(database_url)
    assert letter.status == "superseded"
    assert f"shipments {shipment_id} was applied again" in letter.error
    assert erp.replay() == (0, 0)  # closed: not tried again


def test_a_dead_letter_of_a_record_gone_from_tryton_stays_open_saying_so(erp, server, database_url, mappings_dir):
    original = _without_code(mappings_dir, "{draft: draft, quotation:", "{quotation:")
    results = {r.stream: r for r in erp.sync("erp", ["customers", "orders"])}
    assert results["orders"].failed == 1
    draft_id = server.seed["sales"]["draft"]["id"]
    with server.client() as client:
        client.button("sale.sale", "cancel", [draft_id])
        client.delete("sale.sale", [draft_id])
    (mappings_dir / "connectors" / "tryton.yaml").write_text(original)

    assert erp.replay() == (0, 1)

    letter = _letter(database_url)
    assert letter.status == "open" and letter.attempts == 2
    assert letter.error.startswith("no longer in erp")
    with session_scope(database_url) as session:
        assert (
            session.scalar(select(Link).where(Link.entity_type == "order", Link.external_id == str(draft_id))) is None
        )


def test_read_one_reads_each_stream_as_a_sync_does_and_none_for_what_tryton_lacks(server):
    if not server.running:
        server.start()
    connector = TrytonConnector(
        {"url": server.url, "database": server.database, "login": server.login}, {"password": server.password}
    )
    try:
        for stream in connector.streams:
            records = [r for page in connector.read(stream.name, None) for r in page]
            assert records, stream.name
            for record in (records[0], records[-1]):
                assert connector.read_one(stream.name, record.external_id) == record, stream.name
            assert connector.read_one(stream.name, "999999") is None, stream.name
        company_party = server.seed["company"]["party_id"]
        assert connector.read_one("customers", str(company_party)) is None  # the seller is no customer
    finally:
        connector.close()


def _taxed_products(client: tryton.TrytonClient, seed: dict[str, Any]) -> tuple[int, dict[str, dict[str, Any]]]:
    """A 19 % VAT, and two products under it: goods (a pump) and a service (its installation)."""
    company = seed["company"]["id"]
    revenue, expense = seed["accounts"]["revenue_id"], seed["accounts"]["expense_id"]
    [vat_account] = client.search(
        "account.account",
        [  # a balance sheet account, as Tryton wants
            ("company", "=", company),
            ("type.statement", "=", "balance"),
            ("closed", "!=", True),
            ("type.receivable", "=", False),
            ("type.payable", "=", False),
        ],
        limit=1,
        order=[["code", "DESC"]],
    )
    [tax] = client.create(
        "account.tax",
        [
            {
                "name": "VAT 19%",
                "description": "VAT 19%",
                "company": company,
                "type": "percentage",
                "rate": Decimal("0.19"),
                "invoice_account": vat_account,
                "credit_note_account": vat_account,
            }
        ],
    )
    [category] = client.create(
        "product.category",
        [
            {
                "name": "Taxed",
                "accounting": True,
                "account_revenue": revenue,
                "account_expense": expense,
                "customer_taxes": [["add", [tax]]],
            }
        ],
    )
    products = {}
    for code, kind, price in (("P-900", "goods", Decimal("500.00")), ("S-100", "service", Decimal("120.00"))):
        [template] = client.create(
            "product.template",
            [
                {
                    "name": code,
                    "code": code,
                    "type": kind,
                    "default_uom": seed["unit_id"],
                    "list_price": price,
                    "salable": True,
                    "sale_uom": seed["unit_id"],
                    "account_category": category,
                    "products": _one2many([{"cost_price": price / 2}]),
                }
            ],
        )
        [row] = client.read("product.template", [template], ["products"])
        products[code] = {"product_id": row["products"][0], "list_price": str(price), "name": code}
    [inventory] = client.create(
        "stock.inventory",
        [
            {  # goods need stock to ship
                "location": seed["storage_location_id"],
                "company": company,
                "date": dt.date.today(),
                "lines": _one2many([{"product": products["P-900"]["product_id"], "quantity": 100.0}]),
            }
        ],
    )
    client.button("stock.inventory", "confirm", [inventory])
    return tax, products


def _shipped_sale_with_service(server: tryton.TrytonServer) -> dict[str, Any]:
    """Two pumps and their installation, confirmed and the pumps shipped: Tryton's sale."""
    seed = server.seed
    with server.client() as client:
        tax, products = _taxed_products(client, seed)
        [sale_id] = client.create(
            "sale.sale",
            [
                _sale_values(
                    seed["customers"]["mueller"],
                    [(products["P-900"], 2.0), (products["S-100"], 1.0)],
                    seed,
                    reference="PO-MUE-SVC",
                    today=dt.date.today(),
                )
            ],
        )
        [sale] = client.read("sale.sale", [sale_id], ["lines"])
        # a line's taxes come from its product in the client's on_change, not over RPC
        client.write("sale.line", sale["lines"], {"taxes": [["add", [tax]]]})
        client.button("sale.sale", "quote", [sale_id])
        client.button("sale.sale", "confirm", [sale_id])
        [sale] = client.read("sale.sale", [sale_id], ["shipments"])
        _ship(client, sale["shipments"])
        [sale] = client.read(
            "sale.sale",
            [sale_id],
            ["number", "shipment_state", "untaxed_amount", "tax_amount", "total_amount", "invoices"],
        )
        invoices = client.read("account.invoice", sale["invoices"], ["number", "untaxed_amount", "total_amount"])
    assert sale["shipment_state"] == "sent" and sale["tax_amount"] > 0
    return {**sale, "invoices": invoices}


def _order(url: str, number: str) -> Order:
    with session_scope(url) as session:
        order = session.scalars(select(Order).where(Order.number == number)).one()
        session.expunge(order)
        return order


def test_an_order_whose_goods_all_shipped_is_fully_shipped_whatever_its_service_lines(erp, server, database_url):
    sale = _shipped_sale_with_service(server)
    assert all(r.failed == 0 for r in erp.sync("erp"))

    order = _order(database_url, sale["number"])
    with session_scope(database_url) as session:
        status = order_status(session, order.id)
    assert status is not None
    assert {line["product"]: line["shipped"] for line in status["lines"]} == {"P-900": "2", "S-100": "0"}
    assert status["fully_shipped"] is True


def test_an_orders_and_its_invoices_taxed_and_untaxed_totals_equal_trytons(erp, server, database_url):
    sale = _shipped_sale_with_service(server)
    assert all(r.failed == 0 for r in erp.sync("erp"))

    order = _order(database_url, sale["number"])
    assert (order.total, order.untaxed_total) == (Decimal(sale["total_amount"]), Decimal(sale["untaxed_amount"]))
    assert order.total - order.untaxed_total == Decimal(sale["tax_amount"])
    assert sale["invoices"], "shipping the pumps invoices them"
    with session_scope(database_url) as session:
        for tryton_invoice in sale["invoices"]:
            link = session.scalar(
                select(Link).where(Link.entity_type == "invoice", Link.external_id == str(tryton_invoice["id"]))
            )
            invoice = session.get(Invoice, link.hub_id)
            assert invoice.order_id == order.id
            assert (invoice.total, invoice.untaxed_total) == (
                Decimal(tryton_invoice["total_amount"]),
                Decimal(tryton_invoice["untaxed_amount"]),
            )
