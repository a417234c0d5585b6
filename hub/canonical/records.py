"""The canonical records: what a customer, an order, a shipment … is in the hub, field by field.

Every system's record is mapped onto one of these (``mappings/connectors/<name>.yaml``: left of
each line is a field named here), the document store keeps them, the outbox sends them, and
``hub mappings check`` refuses a field map that names a field these models do not have. A
mapped record travels as a plain ``dict`` (a sync moves thousands a second; validating each
against a model would cost more than the rest of ingest); these models are the one place its
field names, types and code lists are written down, and ``validate`` checks one when needed.

Where a model and the database could disagree, the database wins and the model follows it:
lengths and money bounds are the columns' (``hub.bounds`` checks them against the tables),
``Payment.amount`` defaults to 0 because its column is NOT NULL, ``Invoice.due_dates`` to
``[]`` because its JSON column is. A field marked :class:`Ref` names another record of the
same system by that system's id and is stored as a hub id in ``column``; a field that is no
column of the record's table (``hub_ref``, an invoice's ``reference``, ``credit_note``) is
kept in the row's ``data`` with the rest of the record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import NoneType, UnionType
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict

from hub.canonical.codes import (
    CasePriority,
    CaseStatus,
    InvoiceStatus,
    LossReason,
    OrderStatus,
    SalesStage,
    ShipmentStatus,
)


@dataclass(frozen=True)
class Ref:
    """Marks a field that names another record (``entity``) by the sending system's id; the
    hub stores the record's hub id in ``column``."""

    entity: str
    column: str


class Record(BaseModel):
    """A canonical record; ``entity`` is its name in ``links`` and the outbox."""

    model_config = ConfigDict(extra="forbid")

    entity: ClassVar[str]


class Item(BaseModel):
    """A child row of a record (an order line, a maturity date)."""

    model_config = ConfigDict(extra="forbid")


# --- customers ------------------------------------------------------------------------------


class Customer(Record):
    """A customer as systems send it; the master matches it to its golden record."""

    entity: ClassVar[str] = "customer"

    name: str | None = None
    tax_id: str | None = None
    email: str | None = None
    phone: str | None = None
    street: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str | None = None


# --- orders ---------------------------------------------------------------------------------


class OrderLine(Item):
    #: The sending system's id of the line (links it to the order's line in the hub).
    id: str | int | None = None
    product: str | None = None
    description: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    #: False for a line that never ships (a service: no stock move).
    shippable: bool = True


class Order(Record):
    entity: ClassVar[str] = "order"

    number: str | None = None
    #: The customer's purchase order number (or the opportunity it belongs to).
    reference: str | None = None
    customer: Annotated[str | int | None, Ref("customer", "customer_id")] = None
    status: OrderStatus | None = None
    #: The sales stage: the CRM's, or a pipeline's stage code (``mappings/pipelines``).
    stage: str | None = None
    #: Who sells it (alerts go to them).
    owner: str | None = None
    ordered_on: dt.date | None = None
    currency: str | None = None
    #: With tax, as the ERP shows it; ``untaxed_total`` without.
    total: Decimal | None = None
    untaxed_total: Decimal | None = None
    #: The hub's own key on an order it wrote to the system (``concord:order:42``).
    hub_ref: str | None = None
    lines: list[OrderLine] = []


# --- shipments ------------------------------------------------------------------------------


class ShipmentLine(Item):
    #: The sending system's id of the order line shipped.
    order_line: str | int | None = None
    product: str | None = None
    quantity: Decimal | None = None


class Shipment(Record):
    entity: ClassVar[str] = "shipment"

    number: str | None = None
    order: Annotated[str | int | None, Ref("order", "order_id")] = None
    status: ShipmentStatus | None = None
    planned_on: dt.date | None = None
    shipped_on: dt.date | None = None
    lines: list[ShipmentLine] = []


# --- invoices and payments ------------------------------------------------------------------


class DueDate(Item):
    """One maturity of an invoice: what is due when."""

    date: dt.date | None = None
    amount: Decimal | None = None


class Invoice(Record):
    entity: ClassVar[str] = "invoice"

    number: str | None = None
    #: Names the order or its instalment (``SO0042/delivery``): receivables allocate by it.
    reference: str | None = None
    customer: Annotated[str | int | None, Ref("customer", "customer_id")] = None
    order: Annotated[str | int | None, Ref("order", "order_id")] = None
    status: InvoiceStatus | None = None
    issued_on: dt.date | None = None
    currency: str | None = None
    total: Decimal | None = None
    untaxed_total: Decimal | None = None
    amount_due: Decimal | None = None
    due_dates: list[DueDate] = []
    #: A credit note (negative total), and an invoice a credit note cancelled.
    credit_note: bool | None = None
    credited: bool | None = None


class Payment(Record):
    entity: ClassVar[str] = "payment"

    reference: str | None = None
    invoice: Annotated[str | int | None, Ref("invoice", "invoice_id")] = None
    customer: Annotated[str | int | None, Ref("customer", "customer_id")] = None
    amount: Decimal = Decimal(0)
    currency: str | None = None
    paid_on: dt.date | None = None


# --- the CRM's ------------------------------------------------------------------------------


class Opportunity(Record):
    entity: ClassVar[str] = "opportunity"

    number: str | None = None
    name: str | None = None
    customer: Annotated[str | int | None, Ref("customer", "customer_id")] = None
    stage: SalesStage | None = None
    amount: Decimal | None = None
    currency: str | None = None
    expected_close: dt.date | None = None
    owner: str | None = None
    loss_reason: LossReason | None = None


class ServiceCase(Record):
    entity: ClassVar[str] = "case"

    number: str | None = None
    customer: Annotated[str | int | None, Ref("customer", "customer_id")] = None
    subject: str | None = None
    status: CaseStatus | None = None
    priority: CasePriority | None = None
    opened_on: dt.date | None = None
    closed_on: dt.date | None = None


#: Every canonical entity by its name in ``links``, the outbox and ``mappings/routes.yaml``.
RECORDS: dict[str, type[Record]] = {
    model.entity: model for model in (Customer, Order, Shipment, Invoice, Payment, Opportunity, ServiceCase)
}
#: The usual stream name of each entity: a field map's stream of that name feeds it.
STREAMS: dict[str, str] = {
    "customers": "customer",
    "orders": "order",
    "shipments": "shipment",
    "invoices": "invoice",
    "payments": "payment",
    "opportunities": "opportunity",
    "cases": "case",
}
#: The customer's fields, in display order (golden records, imports, survivorship).
CUSTOMER_FIELDS: tuple[str, ...] = tuple(Customer.model_fields)


# --- reading the models ---------------------------------------------------------------------


def _plain(annotation: Any) -> list[Any]:
    """The types of an annotation without ``None`` (``X | None`` → [X])."""
    if get_origin(annotation) in (Union, UnionType):
        return [arg for arg in get_args(annotation) if arg is not NoneType]
    return [annotation]


def code_list(model: type[BaseModel], name: str) -> type[StrEnum] | None:
    """The code list a field takes its values from, or None for a free field."""
    for kind in _plain(model.model_fields[name].annotation):
        if isinstance(kind, type) and issubclass(kind, StrEnum):
            return kind
    return None


def item_model(model: type[BaseModel], name: str) -> type[Item] | None:
    """The model of each item of a list field (an order's lines), or None."""
    for kind in _plain(model.model_fields[name].annotation):
        if get_origin(kind) is list:
            (item,) = get_args(kind)
            if isinstance(item, type) and issubclass(item, Item):
                return item
    return None


def refs(model: type[BaseModel]) -> dict[str, Ref]:
    """Field → :class:`Ref` for the fields that name another record."""
    return {
        name: marker for name, info in model.model_fields.items() for marker in info.metadata if isinstance(marker, Ref)
    }


def defaults(model: type[BaseModel]) -> dict[str, Any]:
    """Field → the value it takes when a system sends none, where that is not None."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        value = info.get_default(call_default_factory=True)
        if value is not None:
            out[name] = value
    return out


def validate(entity: str, fields: dict[str, Any]) -> Record:
    """A mapped record as its canonical model; a pydantic ValidationError names each field
    that does not fit (unknown, wrong type, a code outside its list)."""
    return RECORDS[entity].model_validate(fields)
