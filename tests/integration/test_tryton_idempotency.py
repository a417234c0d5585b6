"""Never lose an order, never make one twice, against a real Tryton 8.2: the hub's writes are
keyed on the hub's own reference, not on the customer's PO number.

Two orders of one customer often carry one PO number (a framework order called off twice, an
RFQ answered in two parts). Keyed on that number they became one Tryton sale, the second
order's lines over the first's, and the hub's second link to that sale broke every dispatch
after. Here each hub order is one sale with its own lines, and stays so when the dispatching
process is killed after Tryton answered and before the hub committed — twenty times.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from hub.db import session_scope, utcnow
from hub.documents.models import Order, OrderLine
from hub.outbox.models import OutboxDelivery
from hub.sync.models import Link, SyncCursor
from tests.support import tryton
from tests.support.enter_once import Systems, systems_fixture  # noqa: F401 - fixtures
from tests.support.enter_once import deliveries as _deliveries
from tests.support.enter_once import dispatch as _dispatch
from tests.support.enter_once import sync as _sync
from tests.support.enter_once import tryton_sales as _tryton_sales
from tests.support.legacy_crm import KEY

pytestmark = [
    pytest.mark.skipif(not tryton.trytond_available(), reason=tryton.SKIP_REASON),
    pytest.mark.timeout(600),  # a cold cache builds the seeded Tryton database first
]
ROOT = Path(__file__).resolve().parents[2]
Line = tuple[str, str, str]  # product code, quantity, unit price as a sales rep types them


def _enter(systems: Systems, n: int, po: str, lines: list[Line]) -> dict[str, Any]:
    """An order typed into the CRM with the customer's PO number ``po`` (the CRM's ``name``)."""
    return systems.crm.store.save(
        "orders",
        {
            "order_number": f"CRM-SO-{8000 + n}",
            "name": po,
            "account_id": systems.account,
            "status": "Confirmed",
            "order_date": "2026-11-20",
            "currency_id": "EUR",
            "lines": [
                {
                    "id": f"CRM-SO-{8000 + n}-{i}",
                    "product_code": code,
                    "name": f"Item {code}",
                    "product_qty": qty,
                    "product_unit_price": price,
                }
                for i, (code, qty, price) in enumerate(lines, 1)
            ],
        },
    )


def _as_sale_lines(lines: list[Line]) -> list[tuple[str, Decimal, Decimal]]:
    return sorted((code, Decimal(qty), Decimal(price)) for code, qty, price in lines)


def _sale_links(url: str) -> dict[int, str]:
    """hub order id → the Tryton sale id it is linked to."""
    with session_scope(url) as session:
        return dict(
            session.execute(
                select(Link.hub_id, Link.external_id).where(Link.system == "erp", Link.entity_type == "order")
            ).all()
        )


def _hub_orders(url: str) -> dict[str, int]:
    """CRM order number → hub order id."""
    with session_scope(url) as session:
        return dict(session.execute(select(Order.number, Order.id)).all())


def _sales_with_lines(systems: Systems, pos: list[str]) -> dict[int, list[tuple[str, Decimal, Decimal]]]:
    sales: dict[int, list[tuple[str, Decimal, Decimal]]] = {}
    for po in pos:
        for sale in _tryton_sales(systems.erp, po):
            sales[sale["id"]] = sale["lines"]
    return sales


def _read_back(systems: Systems, url: str, order_of_sale: dict[int, int]) -> None:
    """Sync Tryton's parties and sales into the hub: the hub's own sales (sale id → hub order)
    come back linked to the orders they were made for — no new hub order among them."""
    back = _sync(systems.hub, "erp", ["customers", "orders"])
    assert (back["customers"].failed, back["orders"].failed) == (0, 0)
    with session_scope(url) as session:
        linked = dict(
            session.execute(
                select(Link.external_id, Link.hub_id).where(
                    Link.system == "erp",
                    Link.entity_type == "order",
                    Link.external_id.in_([str(sale) for sale in order_of_sale]),
                )
            ).all()
        )
    assert {int(sale): order for sale, order in linked.items()} == order_of_sale


def test_two_orders_with_one_po_number_become_two_sales_each_with_its_own_lines(
    systems: Systems, database_url: str
) -> None:
    first_lines: list[Line] = [("P-100", "2", "1250.00")]
    second_lines: list[Line] = [("P-200", "4", "89.00"), ("P-300", "10", "12.50")]
    first = _enter(systems, 1, "ACME-RFQ-1", first_lines)
    second = _enter(systems, 2, "ACME-RFQ-1", second_lines)
    _sync(systems.hub, "crm", ["customers", "orders"])

    reports = _dispatch(systems.dispatcher)
    assert {(r.target, r.sent, r.dead, r.retrying) for r in reports} == {("erp", 2, 0, 0), ("crm", 2, 0, 0)}, reports
    assert all(not r.errors for r in reports), [r.errors for r in reports]

    sales = _tryton_sales(systems.erp, "ACME-RFQ-1")  # the PO number still reaches Tryton, as data
    assert len(sales) == 2
    orders = _hub_orders(database_url)
    links = _sale_links(database_url)
    by_sale = {s["id"]: s for s in sales}
    sale_of_first = by_sale[int(links[orders[first["order_number"]]])]
    sale_of_second = by_sale[int(links[orders[second["order_number"]]])]
    assert sale_of_first["id"] != sale_of_second["id"]
    assert sale_of_first["lines"] == _as_sale_lines(first_lines)
    assert sale_of_second["lines"] == _as_sale_lines(second_lines)
    # each CRM order learns its own sale's number
    assert systems.crm.store.get("orders", first["id"])["erp_number"] == sale_of_first["number"]
    assert systems.crm.store.get("orders", second["id"])["erp_number"] == sale_of_second["number"]

    # A retried delivery of both (an answer lost, a redelivered task) changes nothing in Tryton.
    with systems.erp.client() as client:
        stamps = {s["id"]: s["write_date"] for s in client.read("sale.sale", list(by_sale), ["write_date"])}
    with session_scope(database_url) as session:
        session.execute(
            update(OutboxDelivery)
            .where(OutboxDelivery.target == "erp")
            .values(status="pending", next_attempt_at=utcnow())
        )
    again = _dispatch(systems.dispatcher)
    assert [(r.sent, r.dead, r.retrying) for r in again if r.target == "erp"] == [(2, 0, 0)]
    assert _sales_with_lines(systems, ["ACME-RFQ-1"]) == {s["id"]: s["lines"] for s in sales}
    with systems.erp.client() as client:
        assert {s["id"]: s["write_date"] for s in client.read("sale.sale", list(by_sale), ["write_date"])} == stamps
    assert _sale_links(database_url) == links
    assert {status for _t, _e, status, _err in _deliveries(database_url)} == {"sent"}

    # Reading Tryton back finds both sales linked to their hub orders: no third order appears.
    _read_back(systems, database_url, {int(v): k for k, v in links.items()})
    with session_scope(database_url) as session:
        assert list(
            session.scalars(select(Order.id).where(Order.reference == "ACME-RFQ-1").order_by(Order.id))
        ) == sorted(orders.values())


def _dying_dispatch(database_url: str, mappings_dir: Path, hub_ref: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_") or k.startswith("HUB_TEST_")}
    env |= {"HUB_DATABASE_URL": database_url, "HUB_MAPPINGS_DIR": str(mappings_dir), "HUB_SECRET_KEY": KEY}
    return subprocess.run(
        [sys.executable, "-m", "tests.support.dying_dispatch", hub_ref, "2"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# The scale-out path, where workers get killed: on PostgreSQL only (a minute of kills is enough
# once; the other tests of this file run on SQLite as well).
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_orders_per_po_number_survive_twenty_kills_between_tryton_answering_and_the_hub_committing(
    systems: Systems, database_url: str, mappings_dir: Path
) -> None:
    pairs = 20
    wanted: dict[str, list[Line]] = {}  # CRM order number → its lines
    pos = [f"ACME-RFQ-{k}" for k in range(1, pairs + 1)]
    for k, po in enumerate(pos, 1):
        for half, lines in enumerate(
            ([("P-100", str(k), "1250.00")], [("P-200", str(k + 1), "89.00"), ("P-300", "1", "12.50")])
        ):
            wanted[_enter(systems, 2 * k + half, po, lines)["order_number"]] = lines
    _sync(systems.hub, "crm", ["customers", "orders"])
    systems.dispatcher.route()
    with session_scope(database_url) as session:
        queue = list(
            session.scalars(
                select(OutboxDelivery.hub_id).where(OutboxDelivery.target == "erp").order_by(OutboxDelivery.id)
            )
        )
    assert len(queue) == 2 * pairs

    started = time.monotonic()
    for k in range(pairs):
        # kill after the first order of pair k in even rounds, after the second in odd ones:
        # a half-written pair and a fully written one are both left behind uncommitted
        victim = queue[2 * k + k % 2]
        died = _dying_dispatch(database_url, mappings_dir, f"concord:order:{victim}")
        assert died.returncode == -9, (died.returncode, died.stdout, died.stderr)  # it did die there
        assert victim not in _sale_links(database_url)  # Tryton has the sale, the hub did not commit it
        with session_scope(database_url) as session:  # what the dead process's leases running out does
            session.execute(
                update(OutboxDelivery).where(OutboxDelivery.status == "pending").values(next_attempt_at=utcnow())
            )
            session.execute(update(SyncCursor).where(SyncCursor.stream.like("~outbox%")).values(locked_until=utcnow()))
    killing = time.monotonic() - started

    reports = _dispatch(systems.dispatcher)  # a clean dispatch after the last kill
    assert [(r.sent, r.dead, r.retrying) for r in reports if r.target == "erp"] == [(2, 0, 0)], reports
    assert {(status, error) for t, _e, status, error in _deliveries(database_url)} == {("sent", None)}

    orders = _hub_orders(database_url)
    assert sorted(orders) == sorted(wanted)  # no order lost, none made twice
    links = _sale_links(database_url)
    sales = _sales_with_lines(systems, pos)
    assert len(sales) == 2 * pairs  # each order's sale created once
    assert sorted(int(links[orders[number]]) for number in wanted) == sorted(sales)  # one sale per order
    for number, lines in wanted.items():
        assert sales[int(links[orders[number]])] == _as_sale_lines(lines), number
    assert {po: len(_tryton_sales(systems.erp, po)) for po in pos} == dict.fromkeys(pos, 2)

    _read_back(systems, database_url, {int(v): k for k, v in links.items()})  # reading Tryton back adds no order
    with session_scope(database_url) as session:
        mine = select(Order.id).where(Order.reference.like("ACME-RFQ-%"))
        assert session.scalar(select(func.count()).select_from(mine.subquery())) == 2 * pairs
        assert (
            session.scalar(select(func.count()).select_from(OrderLine).where(OrderLine.order_id.in_(mine))) == 3 * pairs
        )
    print(f"20 kills in {killing:.1f} s")


def test_a_sync_between_a_lost_answer_and_its_retry_links_the_sale_to_its_order(
    systems: Systems, database_url: str, mappings_dir: Path
) -> None:
    """The window the kills leave: Tryton has the hub's sale, the hub never recorded it, and a
    Tryton sync runs before the delivery is retried. The sale carries the hub's key, so the
    sync links it to the hub order it was made for — no second hub order, and the retry then
    finds it sent (was: a duplicate hub order, and the retry dead on "links to order X")."""
    entered = _enter(systems, 90, "ACME-RFQ-90", [("P-100", "3", "1250.00")])
    _sync(systems.hub, "crm", ["customers", "orders"])
    systems.dispatcher.route()
    order_id = _hub_orders(database_url)[entered["order_number"]]
    died = _dying_dispatch(database_url, mappings_dir, f"concord:order:{order_id}")
    assert died.returncode == -9, (died.returncode, died.stdout, died.stderr)
    assert order_id not in _sale_links(database_url)
    [sale] = _tryton_sales(systems.erp, "ACME-RFQ-90")

    back = _sync(systems.hub, "erp", ["customers", "orders"])  # before the retry
    assert back["orders"].failed == 0
    assert _sale_links(database_url).get(order_id) == str(sale["id"])
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count()).select_from(Order).where(Order.reference == "ACME-RFQ-90")) == 1
        session.execute(
            update(OutboxDelivery).where(OutboxDelivery.status == "pending").values(next_attempt_at=utcnow())
        )
        session.execute(update(SyncCursor).where(SyncCursor.stream.like("~outbox%")).values(locked_until=utcnow()))
    _dispatch(systems.dispatcher)
    assert len(_tryton_sales(systems.erp, "ACME-RFQ-90")) == 1
    erp = [(status, error) for target, _e, status, error in _deliveries(database_url) if target == "erp"]
    assert erp and all(status == "sent" for status, _error in erp), erp
