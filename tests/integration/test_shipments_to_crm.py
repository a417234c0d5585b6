"""Shipments flow ERP → hub → CRM, with the real systems: an order entered in the legacy CRM
reaches Tryton as a sale; Tryton ships part of it (a backorder remains); the hub reads the
ERP's shipments and writes each into the CRM's Shipments module, linked to the CRM's own order
and order lines; the hub's order status shows shipped < ordered; nothing is sent twice, and
reading the CRM's copies back changes nothing and sends nothing to the ERP.

Routes are the bundled ones (``mappings/routes.yaml``): shipments are entered in ``erp`` and
sent to ``crm`` on the stream ``shipments``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.db import session_scope
from hub.documents.status import order_status
from hub.outbox.models import OutboxDelivery, OutboxEvent
from tests.support import tryton
from tests.support.enter_once import (  # noqa: F401
    Systems,
    dispatch,
    link,
    sync,
    systems_fixture,
)

pytestmark = [
    pytest.mark.skipif(not tryton.trytond_available(), reason=tryton.SKIP_REASON),
    pytest.mark.timeout(600),  # a cold cache builds the seeded Tryton database first
]


def _ship_part(erp: tryton.TrytonServer, reference: str, ship: dict[str, float]) -> dict[str, Any]:
    """In Tryton, as the warehouse does it: the sale's shipment with only ``ship`` (product code
    → quantity) taken, walked through assign → pick → pack → done; Tryton makes the backorder."""
    with erp.client() as client:
        [sale] = client.read("sale.sale", client.search("sale.sale", [("reference", "=", reference)]), ["shipments"])
        [shipment_id] = sale["shipments"]
        [shipment] = client.read("stock.shipment.out", [shipment_id], ["inventory_moves"])
        moves = client.read("stock.move", shipment["inventory_moves"], ["product", "quantity"])
        codes = {p["id"]: p["code"] for p in client.read("product.product", [m["product"] for m in moves], ["code"])}
        for move in moves:
            client.write("stock.move", [move["id"]], {"quantity": ship[codes[move["product"]]]})
        for step in ("assign_try", "pick", "pack", "do"):
            client.button("stock.shipment.out", step, [shipment_id], skip_warnings=True)
        [done] = client.read("stock.shipment.out", [shipment_id], ["number", "state", "effective_date"])
        [sale] = client.read("sale.sale", client.search("sale.sale", [("reference", "=", reference)]), ["shipments"])
        [backorder] = client.read(
            "stock.shipment.out", [s for s in sale["shipments"] if s != shipment_id], ["number", "state"]
        )
    return {"done": done, "backorder": backorder}


def _crm_shipments(systems: Systems) -> dict[str, dict[str, Any]]:
    """The CRM's Shipments records by their number, lines as (order line, product, quantity)."""
    return {
        row["name"]: {
            **row,
            "lines": sorted((l["order_line"], l["product"], Decimal(l["quantity"])) for l in row["lines"]),
        }
        for row in systems.crm.store.select("shipments")
    }


def _outbox(url: str) -> tuple[int, int]:
    with session_scope(url) as session:
        return (
            session.scalar(select(func.count()).select_from(OutboxEvent)) or 0,
            session.scalar(select(func.count()).select_from(OutboxDelivery)) or 0,
        )


def test_a_partial_shipment_in_tryton_shows_in_the_crm_on_its_order_and_nothing_comes_back(
    systems: Systems, database_url: str
) -> None:
    order = systems.enter_order(("P-100", "2", "1250.00"), ("P-200", "1", "89.00"))
    sync(systems.hub, "crm", ["customers", "orders"])
    dispatch(systems.dispatcher)  # the sale in Tryton, its number back in the CRM
    sync(systems.hub, "erp", ["customers", "orders"])  # the sale's lines linked to the order's

    shipped = _ship_part(systems.erp, order["name"], {"P-100": 1.0, "P-200": 1.0})
    done, backorder = shipped["done"], shipped["backorder"]
    assert (done["state"], backorder["state"]) == ("done", "waiting")
    result = sync(systems.hub, "erp", ["shipments"])["shipments"]
    # ours and the seed's three (orders entered in the ERP, which the CRM never had)
    assert (result.created, result.failed) == (5, 0)

    reports = dispatch(systems.dispatcher)
    assert [(r.target, r.sent, r.dead, r.retrying) for r in reports] == [("crm", 2, 0, 0)], reports
    # the seed's three belong to orders the CRM never had: `when_linked: order` keeps them out
    with session_scope(database_url) as session:
        assert (
            session.scalar(select(func.count()).select_from(OutboxDelivery).where(OutboxDelivery.status != "sent")) == 0
        )

    # The CRM: both deliveries on its own order, lines on its own order lines
    line = {code: f"{order['order_number']}-{i}" for i, code in enumerate(("P-100", "P-200"), 1)}
    crm = _crm_shipments(systems)
    assert set(crm) == {done["number"], backorder["number"]}
    sent = crm[done["number"]]
    assert (sent["order_id"], sent["status"], sent["shipped_date"]) == (order["id"], "shipped", done["effective_date"])
    assert sent["lines"] == [(line["P-100"], "P-100", 1), (line["P-200"], "P-200", 1)]
    waiting = crm[backorder["number"]]
    assert (waiting["order_id"], waiting["status"], waiting.get("shipped_date")) == (order["id"], "planned", None)
    assert waiting["lines"] == [(line["P-100"], "P-100", 1)]
    assert (
        link(database_url, "crm", "shipment", external_id=sent["id"]).hub_id
        == link(database_url, "erp", "shipment", external_id=str(done["id"])).hub_id
    )

    # The hub's order status: one of two pumps shipped, the valve in full
    with session_scope(database_url) as session:
        status = order_status(session, link(database_url, "crm", "order", external_id=order["id"]).hub_id)
    assert status is not None
    assert [(x["product"], x["ordered"], x["shipped"]) for x in status["lines"]] == [
        ("P-100", "2", "1"),
        ("P-200", "1", "1"),
    ]
    assert status["fully_shipped"] is False

    # Nothing is sent twice; the CRM's copies read back change no hub field (the ERP owns
    # shipments) and so raise no event, and nothing goes to the ERP.
    assert dispatch(systems.dispatcher) == []  # (the seed's are not due again for a while)
    before = _outbox(database_url)
    again = sync(systems.hub, "crm", ["orders", "shipments"])
    assert (again["shipments"].read, again["shipments"].failed, again["shipments"].created) == (2, 0, 0)
    assert _outbox(database_url) == before
    assert dispatch(systems.dispatcher) == []
    with session_scope(database_url) as session:
        targets = set(session.scalars(select(OutboxDelivery.target).where(OutboxDelivery.entity_type == "shipment")))
    assert targets == {"crm"}
