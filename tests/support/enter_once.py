"""Enter once with the real systems, shared by the end-to-end tests: the run's one Tryton
(``tryton_server``, tests/conftest.py; a fresh database per test), the legacy CRM's SOAP service on loopback with one account,
the connections ``crm`` (soap, sugar) and ``erp`` (tryton), and helpers to sync, dispatch and
look at both systems and the hub.

Test modules import the fixture (``from tests.support.enter_once import systems_fixture``)
so that pytest finds it as ``systems``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hub.db import session_scope
from hub.outbox.dispatch import DeliveryReport, Dispatcher
from hub.outbox.models import OutboxDelivery
from hub.sync.connections import add_connection
from hub.sync.engine import StreamResult, SyncEngine
from hub.sync.models import Link
from simulators.legacy_crm import CrmStore, RunningCrm
from tests.support import tryton
from tests.support.legacy_crm import KEY, PASSWORD, USER, add_crm_connection, serve

__all__ = ["Systems", "deliveries", "dispatch", "link", "parties", "sync", "systems_fixture", "tryton_sales"]

_serial = itertools.count(1)


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
        return self.crm.store.save(
            "orders",
            {
                "order_number": f"CRM-SO-{7000 + n}",
                "name": f"PO-KRANICH-{n}",
                "account_id": self.account,
                "status": "Confirmed",
                "order_date": "2026-11-20",
                "currency_id": "EUR",
                "lines": [
                    {
                        "id": f"CRM-SO-{7000 + n}-{i}",
                        "product_code": code,
                        "name": f"Item {code}",
                        "product_qty": qty,
                        "product_unit_price": price,
                    }
                    for i, (code, qty, price) in enumerate(lines, 1)
                ],
            },
        )


@pytest.fixture(name="systems")
def systems_fixture(tryton_server: tryton.TrytonServer, database_url: str, mappings_dir: Path) -> Iterator[Systems]:
    # A fresh ERP per test: the hub's tables restart their ids, and a party made for golden
    # record 1 of an earlier test carries the same hub_ref as this test's golden record 1.
    tryton_server.reset_database()
    store = CrmStore(users={USER: PASSWORD})
    store.seed(
        accounts=[
            {
                "id": "CRM-ACC-1",
                "name": "Kranich Feinmechanik GmbH",
                "email1": "einkauf@kranich-feinmechanik.example",
                "phone_office": "+49 561 7003 0",
                "billing_address_street": "Lindenweg 4",
                "billing_address_city": "Kassel",
                "billing_address_postalcode": "34117",
                "billing_address_country": "de",
            }
        ]
    )
    with serve(store) as crm:
        add_crm_connection(database_url, "crm", "sugar", crm, mappings_dir)
        with session_scope(database_url) as session:
            add_connection(
                session,
                name="erp",
                kind="tryton",
                secret_key=KEY,
                settings={"url": tryton_server.url, "database": tryton_server.database, "login": tryton_server.login},
                secrets={"password": tryton_server.password},
            )
        hub = SyncEngine(database_url, mappings_dir, KEY)
        yield Systems(crm, tryton_server, hub, Dispatcher(hub), "CRM-ACC-1")


# --- helpers ---------------------------------------------------------------------------------
def sync(hub: SyncEngine, name: str, streams: list[str]) -> dict[str, StreamResult]:
    results = {r.stream: r for r in hub.sync(name, streams)}
    assert all(r.status == "done" for r in results.values()), results
    return results


def dispatch(dispatcher: Dispatcher) -> list[DeliveryReport]:
    """Route, then deliver until nothing is due (the report-back is queued by the ERP's delivery)."""
    dispatcher.route()
    reports: list[DeliveryReport] = []
    for _ in range(4):
        targets = dispatcher.due_targets()
        if not targets:
            break
        reports += [dispatcher.deliver(target) for target in targets]
    return reports


def deliveries(url: str) -> list[tuple[str, str, str, str | None]]:
    with session_scope(url) as session:
        return [
            tuple(r)
            for r in session.execute(  # type: ignore[misc]
                select(
                    OutboxDelivery.target, OutboxDelivery.entity_type, OutboxDelivery.status, OutboxDelivery.last_error
                ).order_by(OutboxDelivery.id)
            )
        ]


def link(url: str, system: str, entity: str, *, hub_id: int | None = None, external_id: str | None = None) -> Link:
    with session_scope(url) as session:
        query = select(Link).where(Link.system == system, Link.entity_type == entity)
        if hub_id is not None:
            query = query.where(Link.hub_id == hub_id)
        if external_id is not None:
            query = query.where(Link.external_id == external_id)
        link = session.scalars(query).one()
        session.expunge(link)
        return link


def tryton_sales(erp: tryton.TrytonServer, reference: str) -> list[dict[str, Any]]:
    """The sales with this reference, as Tryton's own RPC reads them, lines by product code."""
    with erp.client() as client:
        sales = client.read(
            "sale.sale",
            client.search("sale.sale", [("reference", "=", reference)]),
            ["number", "state", "party", "lines"],
        )
        for sale in sales:
            lines = client.read("sale.line", sale["lines"], ["product", "quantity", "unit_price"])
            codes = {
                p["id"]: p["code"] for p in client.read("product.product", [l["product"] for l in lines], ["code"])
            }
            sale["lines"] = sorted(
                (codes[l["product"]], Decimal(str(l["quantity"])), Decimal(str(l["unit_price"]))) for l in lines
            )
    return sales


def parties(erp: tryton.TrytonServer, name: str) -> list[int]:
    with erp.client() as client:
        return client.search("party.party", [("name", "=", name)])
