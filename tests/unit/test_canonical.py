"""The canonical records and code lists are the one definition: the document store, the
customer master, the API's order input, pipelines and the status page take theirs from them,
and what a bundled field map produces is a valid canonical record."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from hub import canonical
from hub.canonical import GOODS_LEFT, RECORDS, OrderStatus, SalesStage, ShipmentStatus
from hub.settings import BUNDLED_MAPPINGS

#: Columns every document table has that are no field of its record.
BOOKKEEPING = {"id", "data", "updated_at"}


def test_the_document_store_keeps_every_column_of_a_canonical_record_and_nothing_else():
    """The model follows the database: each table column (but the bookkeeping) is a field of
    its record, or the hub id a reference field is stored as; no record field is invented
    as a column."""
    from hub.documents.ingest import KINDS

    assert set(KINDS) == set(RECORDS) - {"customer"}
    for entity, kind in KINDS.items():
        record = RECORDS[entity]
        table = kind.model.__table__  # type: ignore[attr-defined]
        marked = canonical.refs(record)
        assert {r.field: r.column for r in kind.refs} == {f: m.column for f, m in marked.items()}
        assert set(table.c.keys()) - BOOKKEEPING == set(kind.columns) | {m.column for m in marked.values()}
        assert set(kind.columns) <= set(record.model_fields)
    assert KINDS["invoice"].defaults == {"due_dates": []} and KINDS["payment"].defaults == {"amount": Decimal(0)}


def test_the_customer_field_list_is_the_canonical_customers():
    from hub.master.batch import INPUT_COLUMNS
    from hub.master.ingest import CUSTOMER_FIELDS
    from hub.master.models import GOLDEN_FIELDS, GoldenCustomer

    fields = tuple(canonical.Customer.model_fields)
    assert GOLDEN_FIELDS == CUSTOMER_FIELDS == INPUT_COLUMNS[2:] == fields
    assert set(fields) <= set(GoldenCustomer.__table__.c.keys())


def test_an_order_enters_the_api_only_with_a_canonical_status_it_may_set():
    from hub.documents.entry import OrderIn

    base = {"customer_id": 1, "lines": [{"product": "P-1", "quantity": "1", "unit_price": "2"}]}
    for status in canonical.ENTERABLE_ORDER_STATUSES:
        assert OrderIn.model_validate({**base, "status": status.value}).status == status
    for status in ("processing", "done", "cancelled", "delivered"):
        with pytest.raises(ValidationError):
            OrderIn.model_validate({**base, "status": status})
    assert set(OrderIn.model_fields) - {"customer_id"} <= set(canonical.Order.model_fields)
    assert set(OrderIn.model_fields["lines"].annotation.__args__[0].model_fields) <= set(  # type: ignore[union-attr]
        canonical.OrderLine.model_fields
    )


def test_pipeline_triggers_take_exactly_the_canonical_codes():
    from hub.receivables.pipeline import Trigger

    for member in ShipmentStatus:
        assert Trigger(shipment_status=[member.value]).shipment_status == [member.value]
    for member in SalesStage:
        assert Trigger(opportunity_stage=[member.value]).opportunity_stage == [member.value]
    with pytest.raises(ValidationError) as caught:
        Trigger(shipment_status=["delivered"])
    assert "'planned', 'picking', 'packed', 'shipped' or 'cancelled'" in str(caught.value)
    assert type(Trigger(order_status=[OrderStatus.done]).order_status[0]) is str  # plain text in SQL


def test_the_status_page_counts_as_shipped_what_the_code_list_says_left():
    from hub.documents import status

    assert status.SHIPPED == GOODS_LEFT == {ShipmentStatus.shipped}
    assert set(status.SHIPPED) <= set(ShipmentStatus)


def test_what_a_bundled_field_map_produces_is_a_canonical_record():
    from hub.sync.mapping import load_connector_map

    tryton = load_connector_map(BUNDLED_MAPPINGS, "tryton")
    order = tryton.apply(
        "orders",
        {
            "number": "SO7",
            "party": 12,
            "state": "processing",
            "sale_date": "2026-11-02",
            "currency": "EUR",
            "total_amount": "119.00",
            "untaxed_amount": "100.00",
            "lines": [
                {
                    "id": 3,
                    "product": "P-100",
                    "quantity": "2",
                    "unit_price": "50",
                    "shippable": True,
                }
            ],
        },
    )
    record = canonical.validate("order", order)
    assert isinstance(record, canonical.Order) and record.status is OrderStatus.processing
    assert record.lines[0].quantity == Decimal(2)
    shipment = canonical.validate(
        "shipment",
        tryton.apply(
            "shipments",
            {
                "number": "OUT1",
                "state": "done",
                "effective_date": "2026-11-05",
                "moves": [{"sale_line": 3, "product": "P-100", "quantity": "2"}],
            },
        ),
    )
    assert shipment.status in GOODS_LEFT


def test_a_record_outside_its_model_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as caught:
        canonical.validate("shipment", {"number": "OUT1", "status": "delivered", "totl": 1})
    text = str(caught.value)
    assert "status" in text and "totl" in text


def test_every_code_list_is_described_with_its_codes():
    assert canonical.describe(ShipmentStatus) == "shipment status (planned, picking, packed, shipped, cancelled)"
    for codes in canonical.CODE_LISTS.values():
        assert all(member.value == member.name for member in codes)  # the stored text is the name
