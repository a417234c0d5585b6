"""Documents applied a page at a time: what a sync relies on, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors.base import SourceRecord
from hub.audit.models import AuditEntry
from hub.auth.models import Role
from hub.db import session_scope
from hub.documents.ingest import DocumentStore
from hub.documents.models import Opportunity, Order, OrderLine, ServiceCase, Shipment, ShipmentLine
from hub.outbox.models import OutboxEvent
from hub.settings import BUNDLED_MAPPINGS
from hub.sync.engine import Applier
from hub.sync.links import Change
from hub.sync.mapping import MappingError
from hub.sync.models import Link

SYSTEM = "crm"


def _apply(url: str, entity: str, records: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    with session_scope(url) as session:
        apply = Applier(session, BUNDLED_MAPPINGS, SYSTEM)
        return apply.many(entity, [(SourceRecord(ext, fields), fields) for ext, fields in records])


def _customers(url: str, *ids: str) -> None:
    _apply(url, "customer", [(i, {"name": f"Customer {i} GmbH", "country": "DE"}) for i in ids])


def _order(number: str, customer: str, lines: list[tuple[str, str, str]], total: str = "100") -> dict[str, Any]:
    return {
        "number": number,
        "customer": customer,
        "status": "confirmed",
        "ordered_on": date(2026, 11, 1),
        "currency": "EUR",
        "total": Decimal(total),
        "lines": [{"id": i, "product": p, "quantity": Decimal(q), "unit_price": Decimal("10")} for i, p, q in lines],
    }


def _count(url: str, model: type) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_page_goes_in_at_once_and_a_reread_is_a_no_op(database_url: str) -> None:
    _customers(database_url, "C1", "C2")
    page = [
        (f"O{i}", _order(f"SO{i}", f"C{1 + i % 2}", [(f"L{i}a", "P1", "1"), (f"L{i}b", "P2", "2")])) for i in range(50)
    ]

    assert _apply(database_url, "order", page) == [Change.created] * 50
    assert _count(database_url, Order) == 50
    assert _count(database_url, OrderLine) == 100
    assert _apply(database_url, "order", page) == [Change.unchanged] * 50
    with session_scope(database_url) as session:
        events = session.execute(select(OutboxEvent.entity_type, OutboxEvent.action, OutboxEvent.origin)).all()
    assert sorted(set(events)) == [("order", "created", SYSTEM)]
    assert len(events) == 50  # one event per created order; none for the unchanged re-read


def test_an_unknown_customer_fails_that_record_only(database_url: str) -> None:
    _customers(database_url, "C1")
    outcomes = _apply(
        database_url,
        "order",
        [
            ("O1", _order("SO1", "C1", [("L1", "P1", "1")])),
            ("O2", _order("SO2", "NOPE", [("L2", "P1", "1")])),
            ("O3", _order("SO3", "C1", [("L3", "P1", "1")])),
        ],
    )
    assert outcomes[0] is Change.created and outcomes[2] is Change.created
    assert isinstance(outcomes[1], MappingError)
    assert "customer 'NOPE'" in str(outcomes[1]) and "not in the hub yet" in str(outcomes[1])
    with session_scope(database_url) as session:
        assert sorted(session.scalars(select(Order.number))) == ["SO1", "SO3"]


def test_an_update_keeps_line_ids_and_drops_removed_lines(database_url: str) -> None:
    _customers(database_url, "C1")
    _apply(database_url, "order", [("O1", _order("SO1", "C1", [("L1", "P1", "1"), ("L2", "P2", "2")]))])
    with session_scope(database_url) as session:
        before = dict(session.execute(select(OrderLine.product, OrderLine.id)).all())

    changed = _order("SO1", "C1", [("L1", "P1", "5"), ("L3", "P3", "1")], total="150")
    assert _apply(database_url, "order", [("O1", changed)]) == [Change.updated]
    with session_scope(database_url) as session:
        lines = {p: (i, q) for p, i, q in session.execute(select(OrderLine.product, OrderLine.id, OrderLine.quantity))}
        total = session.scalar(select(Order.total))
    assert set(lines) == {"P1", "P3"}
    assert lines["P1"] == (before["P1"], Decimal(5))  # same row, new quantity
    assert total == Decimal(150)


def test_the_same_record_twice_in_a_page_ends_as_its_later_version(database_url: str) -> None:
    _customers(database_url, "C1")
    outcomes = _apply(
        database_url,
        "order",
        [
            ("O1", _order("SO1", "C1", [("L1", "P1", "1")], total="10")),
            ("O1", _order("SO1", "C1", [("L1", "P1", "2")], total="20")),
        ],
    )
    assert outcomes == [Change.created, Change.updated]
    assert _count(database_url, Order) == 1
    with session_scope(database_url) as session:
        assert session.scalar(select(Order.total)) == Decimal(20)


def test_a_shipment_finds_its_order_through_its_lines(database_url: str) -> None:
    _customers(database_url, "C1")
    _apply(database_url, "order", [("O1", _order("SO1", "C1", [("L1", "P1", "10")]))])
    outcomes = _apply(
        database_url,
        "shipment",
        [
            (
                "S1",
                {
                    "number": "SH1",
                    "status": "shipped",
                    "lines": [{"order_line": "L1", "product": "P1", "quantity": Decimal(4)}],
                },
            ),
            (
                "S2",
                {
                    "number": "SH2",
                    "status": "shipped",
                    "lines": [{"order_line": "L9", "product": "P1", "quantity": Decimal(1)}],
                },
            ),
        ],
    )
    assert outcomes[0] is Change.created
    assert isinstance(outcomes[1], MappingError) and "order_line 'L9'" in str(outcomes[1])
    with session_scope(database_url) as session:
        order_id = session.scalar(select(Order.id))
        assert session.scalar(select(Shipment.order_id)) == order_id
        assert session.scalar(select(ShipmentLine.quantity)) == Decimal(4)


def test_opportunities_and_cases_attach_to_the_golden_customer(database_url: str) -> None:
    _customers(database_url, "C1")
    assert _apply(
        database_url,
        "opportunity",
        [
            (
                "OP1",
                {
                    "number": "OP1",
                    "name": "Roll-out",
                    "customer": "C1",
                    "stage": "proposal",
                    "amount": Decimal("12000"),
                    "currency": "EUR",
                    "owner": "anna",
                },
            ),
        ],
    ) == [Change.created]
    assert _apply(
        database_url,
        "case",
        [
            (
                "CS1",
                {"number": "CS1", "customer": "C1", "subject": "Late delivery", "status": "open", "priority": "high"},
            ),
        ],
    ) == [Change.created]
    with session_scope(database_url) as session:
        opportunity = session.scalars(select(Opportunity)).one()
        case = session.scalars(select(ServiceCase)).one()
    assert opportunity.stage == "proposal" and opportunity.amount == Decimal(12000)
    assert case.customer_id == opportunity.customer_id is not None


def test_a_value_the_database_refuses_fails_that_record_only(postgres_url: str) -> None:
    """A value too long for its column fails that record only, on both backends (hub.bounds
    checks it before the page is written; the database's own refusal is the fallback)."""
    _customers(postgres_url, "C1")
    outcomes = _apply(
        postgres_url,
        "order",
        [
            ("O1", _order("SO1", "C1", [("L1", "P1", "1")])),
            ("O2", _order("X" * 200, "C1", [("L2", "P1", "1")])),
            ("O3", _order("SO3", "C1", [("L3", "P1", "1")])),
        ],
    )
    assert outcomes[0] is Change.created and outcomes[2] is Change.created
    assert "number: 200 characters, at most 80 fit" in str(outcomes[1])
    assert _count(postgres_url, Order) == 2
    assert _count(postgres_url, OutboxEvent) == 2


def test_the_customer_record_shows_open_cases_and_deals(database_url: str, client: Any, token_for: Any) -> None:
    """Sales must see an open complaint before pitching; closed cases and won deals drop off."""
    _customers(database_url, "C1")
    _apply(
        database_url,
        "case",
        [
            (
                "CS1",
                {"number": "CS1", "customer": "C1", "subject": "Late delivery", "status": "open", "priority": "high"},
            ),
            ("CS2", {"number": "CS2", "customer": "C1", "subject": "Old issue", "status": "closed", "priority": "low"}),
        ],
    )
    _apply(
        database_url,
        "opportunity",
        [
            (
                "OP1",
                {"number": "OP1", "name": "Roll-out", "customer": "C1", "stage": "negotiation", "amount": Decimal(5)},
            ),
            ("OP2", {"number": "OP2", "name": "Pilot", "customer": "C1", "stage": "won", "amount": Decimal(1)}),
        ],
    )
    with session_scope(database_url) as session:
        golden_id = session.scalar(select(ServiceCase.customer_id))
    answer = client.get(f"/api/v1/customers/{golden_id}", headers=token_for(Role.sales))
    assert answer.status_code == 200
    body = answer.json()
    assert [c["subject"] for c in body["open_cases"]] == ["Late delivery"]
    assert [(o["number"], o["stage"], o["amount"]) for o in body["open_opportunities"]] == [
        ("OP1", "negotiation", "5.00")
    ]


def _audit(url: str) -> list[tuple[str, str | None, str | None, str]]:
    """The documents' trail (customers have their own entries, hub.master.ingest)."""
    with session_scope(url) as session:
        return [
            tuple(r)
            for r in session.execute(  # type: ignore[misc]
                select(AuditEntry.field, AuditEntry.before, AuditEntry.after, AuditEntry.actor)
                .where(AuditEntry.entity_type.not_in(["customer", "customer_source"]))
                .order_by(AuditEntry.id)
            )
        ]


def test_every_change_to_an_order_is_in_the_audit_trail(database_url: str) -> None:
    _customers(database_url, "C1")
    _apply(database_url, "order", [("O1", _order("SO1", "C1", [("L1", "P1", "1"), ("L2", "P2", "2")]))])
    changed = _order("SO1", "C1", [("L1", "P1", "3")], total="130")
    with session_scope(database_url) as session:
        DocumentStore(session, actor="api:anna").apply(SYSTEM, "order", "O1", changed)

    trail = _audit(database_url)
    assert trail[0] == ("*", None, "SO1", SYSTEM)
    assert ("total", "100.0000", "130", "api:anna") in trail or ("total", "100", "130", "api:anna") in trail
    assert ("lines[P1].quantity", "1.0000", "3", "api:anna") in trail or (
        "lines[P1].quantity",
        "1",
        "3",
        "api:anna",
    ) in trail
    assert any(f == "lines[P2]" and after is None for f, _b, after, _a in trail)


def test_a_field_owned_by_another_system_is_not_overwritten(database_url: str) -> None:
    """The ERP owns an order's status: the CRM sending another status changes nothing."""
    _customers(database_url, "C1")
    with session_scope(database_url) as session:
        _customers_in(session, "erp", "E1", "C1")
    ownership = {"order": {"status": "erp"}}
    with session_scope(database_url) as session:
        DocumentStore(session, ownership).apply(SYSTEM, "order", "O1", _order("SO1", "C1", [("L1", "P1", "1")]))
    with session_scope(database_url) as session:
        hub_id = session.scalar(select(Order.id))
        session.add(Link(entity_type="order", hub_id=hub_id, system="erp", external_id="7", content_hash="-"))
    erp_copy = {**_order("SO1", "E1", [("L1", "P1", "1")]), "status": "processing"}
    crm_copy = {**_order("SO1", "C1", [("L1", "P1", "1")]), "status": "cancelled"}
    with session_scope(database_url) as session:
        assert DocumentStore(session, ownership).apply("erp", "order", "7", erp_copy) is Change.updated
    with session_scope(database_url) as session:
        assert DocumentStore(session, ownership).apply(SYSTEM, "order", "O1", crm_copy) is Change.updated
    with session_scope(database_url) as session:
        assert session.scalar(select(Order.status)) == "processing"


def test_reading_back_what_the_hub_wrote_raises_no_event(database_url: str) -> None:
    """No echo: the same order read from a second system changes nothing, so nothing is sent."""
    _customers(database_url, "C1")
    with session_scope(database_url) as session:
        _customers_in(session, "erp", "E1", "C1")
    _apply(database_url, "order", [("O1", _order("SO1", "C1", [("L1", "P1", "1")]))])
    with session_scope(database_url) as session:
        hub_id = session.scalar(select(Order.id))
        session.add(Link(entity_type="order", hub_id=hub_id, system="erp", external_id="7", content_hash="-"))
    erp_copy = _order("SO1", "E1", [("L1", "P1", "1")])
    with session_scope(database_url) as session:
        # the ERP's lines have their own ids: link them as the dispatcher does after writing
        line_id = session.scalar(select(OrderLine.id))
        session.add(Link(entity_type="order_line", hub_id=line_id, system="erp", external_id="L1", content_hash="-"))
        DocumentStore(session).apply("erp", "order", "7", erp_copy)
    assert _count(database_url, OutboxEvent) == 1  # only the CRM's create
    assert len(_audit(database_url)) == 1


def _customers_in(session: Any, system: str, external_id: str, same_as: str) -> None:
    """Link a second system's copy of a customer to the same golden record."""
    golden = session.scalar(select(Link.hub_id).where(Link.system == SYSTEM, Link.external_id == same_as))
    session.add(Link(entity_type="customer", hub_id=golden, system=system, external_id=external_id, content_hash="-"))


@pytest.mark.parametrize("entered_in", ["crm", "hub"])
def test_a_read_back_never_clears_or_overwrites_what_the_system_does_not_own(
    database_url: str, entered_in: str
) -> None:
    """Issue 16: after the ERP was read back, an order's timeline showed "owner: a.sales → —".
    With the bundled routes, owner, stage and reference belong to the system the order was
    entered in (or the CRM, for the stage); another system sending nothing or something else
    for them changes nothing, whichever system it is."""
    from hub.outbox.routes import load_routes

    ownership = load_routes(BUNDLED_MAPPINGS).ownership
    _customers(database_url, "C1")
    with session_scope(database_url) as session:
        _customers_in(session, "erp", "E1", "C1")
    entered = {
        **_order("SO1", "C1", [("L1", "P1", "1")]),
        "owner": "a.sales",
        "stage": "negotiation",
        "reference": "PO-77",
    }
    with session_scope(database_url) as session:
        if entered_in == "hub":  # through the API: the golden id, no CRM stage, the hub the origin
            golden = session.scalar(
                select(Link.hub_id).where(
                    Link.system == SYSTEM, Link.external_id == "C1", Link.entity_type == "customer"
                )
            )
            entered = {**entered, "stage": None, "customer": str(golden)}
        DocumentStore(session, ownership).apply(entered_in, "order", "O1", entered)
        hub_id = session.scalar(select(Order.id))
        session.add(Link(entity_type="order", hub_id=hub_id, system="erp", external_id="7", content_hash="-"))
    for erp_copy in (
        {**_order("SO1", "E1", [("L1", "P1", "1")]), "status": "processing"},  # holds none of them
        {
            **_order("SO1", "E1", [("L1", "P1", "1")]),
            "status": "processing",
            "owner": "erp-admin",
            "stage": "won",
            "reference": "SO00007",
        },  # says otherwise
    ):
        with session_scope(database_url) as session:
            DocumentStore(session, ownership).apply("erp", "order", "7", erp_copy)
        with session_scope(database_url) as session:
            order = session.get(Order, hub_id)
            assert (order.owner, order.stage, order.reference, order.status) == (
                "a.sales",
                entered["stage"],
                "PO-77",
                "processing",
            )
            cleared = session.scalars(
                select(AuditEntry.field).where(
                    AuditEntry.entity_type == "order",
                    AuditEntry.actor == "erp",
                    AuditEntry.field.in_(["owner", "stage", "reference"]),
                )
            ).all()
            assert cleared == []
    # the owner itself may change them
    with session_scope(database_url) as session:
        DocumentStore(session, ownership).apply(entered_in, "order", "O1", {**entered, "owner": "c.sales"})
    with session_scope(database_url) as session:
        assert session.get(Order, hub_id).owner == "c.sales"


def test_a_crm_read_back_never_clears_or_overwrites_what_the_erp_entered(database_url: str) -> None:
    """The other direction of the read-back rule: an order typed into the ERP (origin erp),
    then read back from the CRM that received it. Owner and reference are the origin's — here
    the ERP's — and status is the ERP's; the CRM sending nothing or something else for them
    changes nothing and leaves no audit entry. The stage is the CRM's in every case
    (``stage: crm``), so the CRM's stage is taken: that half of "never overwrites" does not
    apply to it, and the test checks the rule as it stands instead."""
    from hub.outbox.routes import load_routes

    ownership = load_routes(BUNDLED_MAPPINGS).ownership
    _customers(database_url, "C1")
    with session_scope(database_url) as session:
        _customers_in(session, "erp", "E1", "C1")
    entered = {
        **_order("SO00009", "E1", [("L1", "P1", "1")]),
        "status": "processing",
        "owner": "a.sales",
        "reference": "PO-88",
    }
    with session_scope(database_url) as session:
        DocumentStore(session, ownership).apply("erp", "order", "9", entered)
        hub_id = session.scalar(select(Order.id))
        session.add(Link(entity_type="order", hub_id=hub_id, system=SYSTEM, external_id="O9", content_hash="-"))
    for crm_copy, stage in (
        ({**_order("SO00009", "C1", [("L1", "P1", "1")]), "status": None}, None),  # holds none of them
        (
            {
                **_order("SO00009", "C1", [("L1", "P1", "1")]),
                "status": "draft",
                "owner": "crm-admin",
                "stage": "negotiation",
                "reference": "CRM-SO-9",
            },
            "negotiation",
        ),  # says otherwise; its stage is its own
    ):
        with session_scope(database_url) as session:
            DocumentStore(session, ownership).apply(SYSTEM, "order", "O9", crm_copy)
        with session_scope(database_url) as session:
            order = session.get(Order, hub_id)
            assert (order.owner, order.reference, order.status, order.stage) == (
                "a.sales",
                "PO-88",
                "processing",
                stage,
            )
            touched = session.scalars(
                select(AuditEntry.field).where(
                    AuditEntry.entity_type == "order",
                    AuditEntry.actor == SYSTEM,
                    AuditEntry.field.in_(["owner", "reference", "status"]),
                )
            ).all()
            assert touched == []
    # the origin itself may change them
    with session_scope(database_url) as session:
        DocumentStore(session, ownership).apply("erp", "order", "9", {**entered, "owner": "c.sales"})
    with session_scope(database_url) as session:
        assert session.get(Order, hub_id).owner == "c.sales"


def test_an_orders_total_is_the_erps_with_tax_once_the_erp_has_it(database_url: str) -> None:
    """Issue 12: totals were untaxed in the hub and taxed in Tryton. The origin's total stands
    until the ERP holds the order; then the ERP's total with tax is the order's, its untaxed
    total beside it."""
    from hub.outbox.routes import load_routes

    ownership = load_routes(BUNDLED_MAPPINGS).ownership
    _customers(database_url, "C1")
    with session_scope(database_url) as session:
        _customers_in(session, "erp", "E1", "C1")
        golden = session.scalar(
            select(Link.hub_id).where(Link.system == SYSTEM, Link.external_id == "C1", Link.entity_type == "customer")
        )
    entered = {**_order("W1", str(golden), [("L1", "P1", "10")], total="100"), "untaxed_total": Decimal("100")}
    with session_scope(database_url) as session:
        DocumentStore(session, ownership).apply("hub", "order", "W1", entered)
        hub_id = session.scalar(select(Order.id))
    with session_scope(database_url) as session:  # the ERP does not have it yet: the hub's edit holds
        DocumentStore(session, ownership).apply(
            "hub", "order", "W1", {**entered, "total": Decimal("120"), "untaxed_total": Decimal("120")}
        )
        assert session.get(Order, hub_id).total == Decimal("120")
    with session_scope(database_url) as session:
        session.add(Link(entity_type="order", hub_id=hub_id, system="erp", external_id="7", content_hash="-"))
    erp_copy = {**_order("SO1", "E1", [("L1", "P1", "10")], total="142.80"), "untaxed_total": Decimal("120")}
    with session_scope(database_url) as session:
        DocumentStore(session, ownership).apply("erp", "order", "7", erp_copy)
    with session_scope(database_url) as session:
        order = session.get(Order, hub_id)
        assert (order.total, order.untaxed_total, order.number) == (Decimal("142.80"), Decimal("120"), "W1")
