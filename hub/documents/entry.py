"""Entering an order in the hub itself (``POST /api/v1/orders``): once, for every system.

The order goes in as a record of the system ``hub``, through the same document store as a
sync — same links, audit trail and outbox event — so the routes in ``mappings/routes.yaml``
carry it to the ERP like an order entered in the CRM. Posting the same number again updates
that order: a client that retries after a lost answer makes no second order.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.bounds import Id, Input, money, number_problem, text
from hub.canonical import ENTERABLE_ORDER_STATUSES, OrderStatus
from hub.documents.ingest import HUB, DocumentStore
from hub.documents.models import Order
from hub.documents.ownership import Principal, check_may_update
from hub.outbox.routes import Routes
from hub.sync.links import Binder, Change
from hub.sync.mapping import MappingError


class OrderLineIn(Input):
    product: text(120, min_length=1)  # type: ignore[valid-type]
    description: text(500) | None = None  # type: ignore[valid-type]
    quantity: money("positive")  # type: ignore[valid-type]
    unit_price: money("nonnegative")  # type: ignore[valid-type]


class OrderIn(Input):
    """Every field fits its column (hub.bounds), so what the API takes in the database holds:
    on SQLite, which checks no sizes, one 1e30 price would otherwise break every later read."""

    number: text(80, min_length=1) | None = Field(None, description="Your order number; generated when absent.")  # type: ignore[valid-type]
    reference: text(120) | None = Field(None, description="The customer's purchase order number.")  # type: ignore[valid-type]
    customer_id: Id = Field(description="The golden customer's id (GET /api/v1/customers).")
    ordered_on: date | None = None
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    status: str = Field(OrderStatus.confirmed.value, pattern=f"^({'|'.join(ENTERABLE_ORDER_STATUSES)})$")
    stage: text(30) | None = None  # type: ignore[valid-type]
    owner: text(120) | None = None  # type: ignore[valid-type]
    lines: list[OrderLineIn] = Field(min_length=1, description="At most HUB_MAX_ORDER_LINES (default 1000).")


def order_total(order: OrderIn) -> Decimal:
    """Quantity × unit price, summed; a MappingError (422 with this sentence) when the total does
    not fit ``Numeric(18, 4)`` although each line does — a rule across fields no schema states."""
    total = sum((line.quantity * line.unit_price for line in order.lines), Decimal(0))
    problem = number_problem(total)
    if problem:
        raise MappingError(f"the order's total (quantity × unit price, summed): {problem}")
    return total


def enter_order(
    session: Session, order: OrderIn, actor: str, routes: Routes, principal: Principal | None = None
) -> tuple[int, Change]:
    """The order's hub id, and whether it was created or updated (or already as sent).

    ``principal`` is the caller (``None``: the operator, trusted). A sales caller may update
    only its own order and never give it to someone else (``NotYourOrder``, raised before
    anything is written or queued to the outbox); see ``hub.documents.ownership``."""
    number = order.number or f"H-{uuid4().hex[:10].upper()}"
    owner = order.owner
    if principal is not None:
        linked = Binder(session).to_hub(HUB, "order", [number])
        existing = session.execute(select(Order.owner).where(Order.id == linked[number])).first() if linked else None
        owner = check_may_update(
            principal, existing.owner if existing else None, exists=existing is not None, new_owner=order.owner
        )
    fields = {
        "number": number,
        "reference": order.reference,
        "customer": str(order.customer_id),
        "status": order.status,
        "stage": order.stage,
        "owner": owner,
        "ordered_on": order.ordered_on or date.today(),
        "currency": order.currency,
        # before tax: the ERP's read-back brings the total with tax (routes.yaml: total: erp)
        "total": (untaxed := order_total(order)),
        "untaxed_total": untaxed,
        "lines": [{"id": f"{number}/{n}", **line.model_dump()} for n, line in enumerate(order.lines, 1)],
    }
    change = DocumentStore(session, routes.ownership, actor=actor).apply(HUB, "order", number, fields)
    return Binder(session).to_hub(HUB, "order", [number])[number], change
