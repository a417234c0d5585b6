"""Tables of the canonical documents.

Each row is the hub's copy of a document, linked to every system's copy through ``links``
(entity types ``order``, ``order_line``, ``shipment``, ``invoice``, ``payment``). Amounts are
``Numeric``: money is never a float. ``data`` keeps the mapped record as the system sent it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, func, true
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, utcnow

Money = Numeric(18, 4)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(80), index=True)
    reference: Mapped[str | None] = mapped_column(String(120), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("golden_customers.id"), index=True)
    status: Mapped[str | None] = mapped_column(String(30))
    #: The sales stage (a hub code; the CRM owns it), and who sells it (alerts go to them).
    stage: Mapped[str | None] = mapped_column(String(30))
    owner: Mapped[str | None] = mapped_column(String(120), index=True)  # a salesperson's orders
    ordered_on: Mapped[date | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    #: With tax, as the ERP shows it (Tryton's ``total_amount``); ``untaxed_total`` without.
    total: Mapped[Decimal | None] = mapped_column(Money)
    untaxed_total: Mapped[Decimal | None] = mapped_column(Money)
    data: Mapped[dict] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Money)
    unit_price: Mapped[Decimal | None] = mapped_column(Money)
    #: False for a line that never ships (a service: no stock move); "fully shipped" skips it.
    shippable: Mapped[bool] = mapped_column(default=True, server_default=true())


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(80))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[str | None] = mapped_column(String(30))
    planned_on: Mapped[date | None]
    shipped_on: Mapped[date | None]
    data: Mapped[dict] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"), index=True)
    product: Mapped[str | None] = mapped_column(String(120))
    quantity: Mapped[Decimal] = mapped_column(Money)


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(80), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("golden_customers.id"), index=True)
    status: Mapped[str | None] = mapped_column(String(30))
    issued_on: Mapped[date | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    #: With tax, as the ERP shows it; ``untaxed_total`` without.
    total: Mapped[Decimal | None] = mapped_column(Money)
    untaxed_total: Mapped[Decimal | None] = mapped_column(Money)
    amount_due: Mapped[Decimal | None] = mapped_column(Money)
    #: [{"date": "YYYY-MM-DD", "amount": "…"}]: the maturity dates.
    due_dates: Mapped[list] = mapped_column(default=list)
    data: Mapped[dict] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(120))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("golden_customers.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    paid_on: Mapped[date | None]
    data: Mapped[dict] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Opportunity(Base):
    """A deal in a CRM's pipeline; its stage (a hub code) feeds receivables per stage."""

    __tablename__ = "opportunities"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(80), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("golden_customers.id"), index=True)
    stage: Mapped[str | None] = mapped_column(String(30))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    expected_close: Mapped[date | None]
    owner: Mapped[str | None] = mapped_column(String(120))
    loss_reason: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ServiceCase(Base):
    """A customer's complaint or service request; open ones show on the customer's record so
    sales does not pitch to a customer who is waiting for an answer."""

    __tablename__ = "service_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(80), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("golden_customers.id"), index=True)
    subject: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str | None] = mapped_column(String(20))
    priority: Mapped[str | None] = mapped_column(String(20))
    opened_on: Mapped[date | None]
    closed_on: Mapped[date | None]
    data: Mapped[dict] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# Numbers are looked up in any case ("so00007" finds SO00007): hub.documents.search.
Index("ix_orders_number_lower", func.lower(Order.number))
Index("ix_orders_reference_lower", func.lower(Order.reference))
Index("ix_shipments_number_lower", func.lower(Shipment.number))
Index("ix_invoices_number_lower", func.lower(Invoice.number))
