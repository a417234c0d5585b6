"""Enter once, end to end with the real systems: an order typed into the legacy CRM (its SOAP
service) reaches a real Tryton as one sale with its customer, the CRM learns the ERP's sale
number, reading both systems back changes nothing and sends nothing, a retried delivery
makes no second sale, and an order Tryton refuses is kept dead until fixed and replayed.

Connections and routes are the bundled ones: ``crm`` (soap, sugar) and ``erp`` (tryton);
orders are entered in the CRM and sent to the ERP with ``report_back: orders``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from hub.db import session_scope, utcnow
from hub.documents.models import Order
from hub.master.models import GoldenCustomer
from hub.outbox.dispatch import DeliveryReport, Dispatcher
from hub.outbox.models import OutboxDelivery, OutboxEvent
from hub.sync.connections import add_connection
from hub.sync.engine import StreamResult, SyncEngine
from hub.sync.models import Link
from simulators.legacy_crm import CrmStore, RunningCrm
from tests.support import tryton
from tests.support.legacy_crm import KEY, PASSWORD, USER, add_crm_connection, serve

pytestmark = [
    pytest.mark.skipif(not tryton.trytond_available(), reason=tryton.SKIP_REASON),
    pytest.mark.timeout(600),  # a cold cache builds the seeded Tryton database first
]

_serial = itertools.count(1)


@pytest.fixture(scope="module")
def tryton_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tryton.TrytonServer]:
    with tryton.start_tryton(tmp_path_factory.mktemp("tryton-enter-once")) as server:
        yield server


@dataclass
class Systems:
    crm: RunningCrm
    erp: tryton.TrytonServer
    hub: SyncEngine
    dispatcher: Dispatcher
    account: str  # the CRM's id of a customer only the CRM has

    def enter_order(self, *lines: tuple[str, str, str]) -> dict[str, Any]:
        """What a sales rep types into the CRM: an order with (product code, quantity, price) lines."""
        n = next(_serial)
        return self.crm.store.save("orders", {
            "order_number": f"CRM-SO-{7000 + n}", "name": f"PO-KRANICH-{n}", "account_id": self.account,
            "status": "Confirmed", "order_date": "2026-11-20", "currency_id": "EUR",
            "lines": [{"id": f"CRM-SO-{7000 + n}-{i}", "product_code": code, "name": f"Item {code}",
                       "product_qty": qty, "product_unit_price": price}
                      for i, (code, qty, price) in enumerate(lines, 1)],
        })


@pytest.fixture
def systems(tryton_server: tryton.TrytonServer, database_url: str, mappings_dir: Path) -> Iterator[Systems]:
    # A fresh ERP per test: the hub's tables restart their ids, and a party made for golden
    # record 1 of an earlier test carries the same hub_ref as this test's golden record 1.
    tryton_server.reset_database()
    store = CrmStore(users={USER: PASSWORD})
    store.seed(accounts=[{
        "id": "CRM-ACC-1", "name": "Kranich Feinmechanik GmbH", "email1": "einkauf@kranich-feinmechanik.example",
        "phone_office": "+49 561 7003 0", "billing_address_street": "Lindenweg 4",
        "billing_address_city": "Kassel", "billing_address_postalcode": "34117", "billing_address_country": "de",
    }])
    with serve(store) as crm:
        add_crm_connection(database_url, "crm", "sugar", crm, mappings_dir)
        with session_scope(database_url) as session:
            add_connection(session, name="erp", kind="tryton", secret_key=KEY,
                           settings={"url": tryton_server.url, "database": tryton_server.database,
                                     "login": tryton_server.login},
                           secrets={"password": tryton_server.password})
        hub = SyncEngine(database_url, mappings_dir, KEY)
        yield Systems(crm, tryton_server, hub, Dispatcher(hub), "CRM-ACC-1")


# --- helpers ---------------------------------------------------------------------------------
def _sync(hub: SyncEngine, name: str, streams: list[str]) -> dict[str, StreamResult]:
    results = {r.stream: r for r in hub.sync(name, streams)}
    assert all(r.status == "done" for r in results.values()), results
    return results


def _dispatch(dispatcher: Dispatcher) -> list[DeliveryReport]:
    """Route, then deliver until nothing is due (the report-back is queued by the ERP's delivery)."""
    dispatcher.route()
    reports: list[DeliveryReport] = []
    for _ in range(4):
        targets = dispatcher.due_targets()
        if not targets:
            break
        reports += [dispatcher.deliver(target) for target in targets]
    return reports


def _deliveries(url: str) -> list[tuple[str, str, str, str | None]]:
    with session_scope(url) as session:
        return [tuple(r) for r in session.execute(  # type: ignore[misc]
            select(OutboxDelivery.target, OutboxDelivery.entity_type, OutboxDelivery.status, OutboxDelivery.last_error)
            .order_by(OutboxDelivery.id))]


def _link(url: str, system: str, entity: str, *, hub_id: int | None = None, external_id: str | None = None) -> Link:
    with session_scope(url) as session:
        query = select(Link).where(Link.system == system, Link.entity_type == entity)
        if hub_id is not None:
            query = query.where(Link.hub_id == hub_id)
        if external_id is not None:
            query = query.where(Link.external_id == external_id)
        link = session.scalars(query).one()
        session.expunge(link)
        return link


def _tryton_sales(erp: tryton.TrytonServer, reference: str) -> list[dict[str, Any]]:
    """The sales with this reference, as Tryton's own RPC reads them, lines by product code."""
    with erp.client() as client:
        sales = client.read("sale.sale", client.search("sale.sale", [("reference", "=", reference)]),
                            ["number", "state", "party", "lines"])
        for sale in sales:
            lines = client.read("sale.line", sale["lines"], ["product", "quantity", "unit_price"])
            codes = {p["id"]: p["code"] for p in client.read("product.product", [l["product"] for l in lines], ["code"])}
            sale["lines"] = sorted((codes[l["product"]], Decimal(str(l["quantity"])), Decimal(str(l["unit_price"])))
                                  for l in lines)
    return sales


def _parties(erp: tryton.TrytonServer, name: str) -> list[int]:
    with erp.client() as client:
        return client.search("party.party", [("name", "=", name)])


# --- tests -----------------------------------------------------------------------------------
def test_an_order_entered_in_the_crm_becomes_one_sale_in_tryton_and_the_crm_learns_its_number(
    systems: Systems, database_url: str
) -> None:
    order = systems.enter_order(("P-100", "2", "1250.00"), ("P-200", "1", "89.00"))
    synced = _sync(systems.hub, "crm", ["customers", "orders"])
    assert (synced["customers"].created, synced["orders"].created) == (1, 1)

    reports = _dispatch(systems.dispatcher)
    assert {(r.target, r.sent, r.dead) for r in reports} == {("erp", 1, 0), ("crm", 1, 0)}, reports

    # Tryton: one party, made from the golden record, and one sale with the order's lines
    [party] = _parties(systems.erp, "Kranich Feinmechanik GmbH")
    [sale] = _tryton_sales(systems.erp, order["name"])
    assert sale["party"] == party and sale["state"] in ("confirmed", "processing")
    assert sale["lines"] == [("P-100", 2, Decimal(1250)), ("P-200", 1, Decimal(89))]
    # the CRM's order carries the ERP's sale number, written through its SOAP set_entry
    assert systems.crm.store.get("orders", order["id"])["erp_number"] == sale["number"]

    crm_order = _link(database_url, "crm", "order", external_id=order["id"])
    crm_customer = _link(database_url, "crm", "customer", external_id=systems.account)
    sent = _deliveries(database_url)
    with session_scope(database_url) as session:
        last_event = session.scalar(select(func.max(OutboxEvent.id)))

    # The report-back was a real set_entry (the CRM's record version moved, date_modified with
    # it), so the CRM sync reads the order again — and finds none of the hub's fields changed
    # (erp_number is not one of them): no update, no event.
    assert systems.crm.store.get("orders", order["id"])["version"] == order["version"] + 1
    again = _sync(systems.hub, "crm", ["orders"])["orders"]
    assert (again.read, again.unchanged, again.created, again.updated) == (1, 1, 0, 0)
    # Reading the ERP back links its party and sale to the same golden customer and hub order.
    back = _sync(systems.hub, "erp", ["customers", "orders"])
    assert (back["customers"].failed, back["orders"].failed) == (0, 0)
    assert _link(database_url, "erp", "customer", external_id=str(party)).hub_id == crm_customer.hub_id
    erp_order = _link(database_url, "erp", "order", hub_id=crm_order.hub_id)
    assert erp_order.external_id == str(sale["id"]) and erp_order.external_ref == sale["number"]
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count()).select_from(Order).where(Order.reference == order["name"])) == 1
        assert session.scalar(select(func.count()).select_from(GoldenCustomer).where(
            GoldenCustomer.name == "Kranich Feinmechanik GmbH")) == 1
        # What the read-back changed (Tryton's status, which the ERP owns) are the ERP's own
        # events; orders are entered in the CRM or the hub, so they are routed nowhere.
        origins = set(session.scalars(select(OutboxEvent.origin).where(OutboxEvent.id > last_event)))
        assert origins == {"erp"}
        assert session.get(Order, crm_order.hub_id).status == "processing"
    assert _dispatch(systems.dispatcher) == []  # nothing to send: no echo either way
    assert _deliveries(database_url) == sent

    # A retried delivery (the answer was lost: the hub never linked the sale) finds the sale
    # Tryton already has by its reference and makes no second one.
    with session_scope(database_url) as session:
        session.execute(delete(Link).where(Link.id == erp_order.id))
        session.execute(update(OutboxDelivery).where(OutboxDelivery.target == "erp").values(
            status="pending", next_attempt_at=utcnow(), delivered_at=None))
    reports = _dispatch(systems.dispatcher)
    assert [(r.target, r.sent, r.dead) for r in reports if r.target == "erp"] == [("erp", 1, 0)]
    assert [s["id"] for s in _tryton_sales(systems.erp, order["name"])] == [sale["id"]]
    assert _parties(systems.erp, "Kranich Feinmechanik GmbH") == [party]
    assert _link(database_url, "erp", "order", hub_id=crm_order.hub_id).external_id == str(sale["id"])
    told = systems.crm.store.get("orders", order["id"])
    assert told["erp_number"] == sale["number"] and told["version"] == order["version"] + 2  # told again


def test_an_order_tryton_refuses_stays_dead_with_its_message_until_fixed_and_replayed(
    systems: Systems, database_url: str
) -> None:
    order = systems.enter_order(("P-100", "1", "1250.00"), ("P-999", "3", "10.00"))
    _sync(systems.hub, "crm", ["customers", "orders"])
    [report] = _dispatch(systems.dispatcher)
    assert (report.target, report.sent, report.dead) == ("erp", 0, 1)
    [(target, entity, status, error)] = _deliveries(database_url)
    assert (target, entity, status) == ("erp", "order", "dead")
    assert "unknown product code 'P-999' (line 2)" in (error or "") and order["name"] in (error or "")
    assert _tryton_sales(systems.erp, order["name"]) == []
    assert systems.crm.store.get("orders", order["id"]).get("erp_number") is None  # nothing to report

    # the sales rep corrects the line in the CRM; the sync brings the change in
    lines = systems.crm.store.get("orders", order["id"])["lines"]
    lines[1]["product_code"] = "P-300"
    systems.crm.store.save("orders", {"id": order["id"], "lines": lines})
    assert _sync(systems.hub, "crm", ["orders"])["orders"].updated == 1
    assert systems.dispatcher.replay(target="erp") == 1
    reports = _dispatch(systems.dispatcher)
    assert [(r.target, r.sent, r.dead) for r in reports] == [("erp", 2, 0), ("crm", 1, 0)]  # two deliveries, one write

    [sale] = _tryton_sales(systems.erp, order["name"])
    assert sale["lines"] == [("P-100", 1, Decimal(1250)), ("P-300", 3, Decimal(10))]
    # the party the failed attempt created is found by its hub_ref, not made twice
    assert len(_parties(systems.erp, "Kranich Feinmechanik GmbH")) == 1
    assert systems.crm.store.get("orders", order["id"])["erp_number"] == sale["number"]
    assert {s for _t, _e, s, _err in _deliveries(database_url)} == {"sent"}
