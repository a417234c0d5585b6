"""Enter once, end to end with the real systems: an order typed into the legacy CRM (its SOAP
service) reaches a real Tryton as one sale with its customer, the CRM learns the ERP's sale
number, reading both systems back changes nothing and sends nothing, a retried delivery
makes no second sale, and an order Tryton refuses is kept dead until fixed and replayed.

Connections and routes are the bundled ones: ``crm`` (soap, sugar) and ``erp`` (tryton);
orders are entered in the CRM and sent to the ERP with ``report_back: orders``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update

from hub.db import session_scope, utcnow
from hub.documents.models import Order
from hub.master.models import GoldenCustomer
from hub.outbox.models import OutboxDelivery, OutboxEvent
from hub.sync.models import Link
from tests.support import tryton
from tests.support.enter_once import Systems, systems_fixture  # noqa: F401 - fixtures
from tests.support.enter_once import deliveries as _deliveries
from tests.support.enter_once import dispatch as _dispatch
from tests.support.enter_once import link as _link
from tests.support.enter_once import parties as _parties
from tests.support.enter_once import sync as _sync
from tests.support.enter_once import tryton_sales as _tryton_sales

pytestmark = [
    pytest.mark.skipif(not tryton.trytond_available(), reason=tryton.SKIP_REASON),
    pytest.mark.timeout(600),  # a cold cache builds the seeded Tryton database first
]


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
        assert (
            session.scalar(
                select(func.count())
                .select_from(GoldenCustomer)
                .where(GoldenCustomer.name == "Kranich Feinmechanik GmbH")
            )
            == 1
        )
        # What the read-back changed (Tryton's status, which the ERP owns) are the ERP's own
        # events; orders are entered in the CRM or the hub, so they are routed nowhere.
        origins = set(session.scalars(select(OutboxEvent.origin).where(OutboxEvent.id > last_event)))
        assert origins == {"erp"}
        assert session.get(Order, crm_order.hub_id).status == "processing"
    assert _dispatch(systems.dispatcher) == []  # nothing to send: no echo either way
    assert _deliveries(database_url) == sent

    # A retried delivery (the answer was lost: the hub never linked the sale) finds the sale
    # Tryton already has by the hub's ref (a line of its comment) and makes no second one.
    with session_scope(database_url) as session:
        session.execute(delete(Link).where(Link.id == erp_order.id))
        session.execute(
            update(OutboxDelivery)
            .where(OutboxDelivery.target == "erp")
            .values(status="pending", next_attempt_at=utcnow(), delivered_at=None)
        )
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
