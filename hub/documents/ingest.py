"""Taking documents from a system into the hub: orders, shipments, invoices, payments.

Same rules as the customer master: through the link first (unchanged content: no-op), then
create or update in place. References to other documents and to customers are external ids
of the same system, resolved through links; one that is not linked yet is an error, so the
record becomes a dead letter and goes in on replay once its customer or order has synced.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.jsonable import jsonable
from hub.documents.models import Invoice, Order, OrderLine, Payment, Shipment, ShipmentLine
from hub.sync.links import Change, classify, content_hash, get_link, record_link
from hub.sync.mapping import MappingError

ENTITIES = ("order", "shipment", "invoice", "payment")


class DocumentStore:
    def __init__(self, session: Session):
        self.session = session

    def _resolve(self, system: str, entity: str, external_id: Any, field: str) -> int | None:
        if external_id in (None, ""):
            return None
        link = get_link(self.session, system, entity, str(external_id))
        if link is None:
            raise MappingError(f"{field}: {entity} {external_id!r} of {system} is not in the hub yet")
        return link.hub_id

    def apply(self, system: str, entity: str, external_id: str, fields: Mapping[str, Any]) -> Change:
        if entity not in ENTITIES:
            raise MappingError(f"unknown document entity {entity!r}")
        data = jsonable(dict(fields))
        digest = content_hash(data)
        link = get_link(self.session, system, entity, external_id)
        change = classify(link, digest)
        if change is Change.unchanged:
            return change
        with self.session.no_autoflush:  # a half-filled row must not be flushed by a lookup
            row = getattr(self, f"_{entity}")(system, link.hub_id if link else None, fields)
            row.data = data
            row.updated_at = utcnow()
        self.session.flush()
        record_link(
            self.session, link, entity_type=entity, hub_id=row.id, system=system,
            external_id=external_id, digest=digest,
        )
        return change

    def _load(self, model: type, hub_id: int | None) -> Any:
        row = self.session.get(model, hub_id) if hub_id else None
        if row is None:
            row = model()
            self.session.add(row)
        return row

    def _order(self, system: str, hub_id: int | None, f: Mapping[str, Any]) -> Order:
        order = self._load(Order, hub_id)
        order.number = f.get("number")
        order.reference = f.get("reference")
        order.customer_id = self._resolve(system, "customer", f.get("customer"), "customer")
        order.status = f.get("status")
        order.ordered_on = f.get("ordered_on")
        order.currency = f.get("currency")
        order.total = f.get("total")
        self.session.flush()
        kept: list[int] = []
        for line in f.get("lines") or []:
            line_ext = str(line.get("id"))
            link = get_link(self.session, system, "order_line", line_ext)
            row = self._load(OrderLine, link.hub_id if link else None)
            row.order_id = order.id
            row.product = line.get("product")
            row.description = line.get("description")
            row.quantity = line.get("quantity") or Decimal(0)
            row.unit_price = line.get("unit_price")
            self.session.flush()
            record_link(
                self.session, link, entity_type="order_line", hub_id=row.id, system=system,
                external_id=line_ext, digest=content_hash(jsonable(line)),
            )
            kept.append(row.id)
        self.session.execute(
            delete(OrderLine).where(OrderLine.order_id == order.id, OrderLine.id.not_in(kept))
        )
        return order

    def _shipment(self, system: str, hub_id: int | None, f: Mapping[str, Any]) -> Shipment:
        shipment = self._load(Shipment, hub_id)
        shipment.number = f.get("number")
        shipment.status = f.get("status")
        shipment.planned_on = f.get("planned_on")
        shipment.shipped_on = f.get("shipped_on")
        self.session.flush()
        self.session.execute(delete(ShipmentLine).where(ShipmentLine.shipment_id == shipment.id))
        order_id = self._resolve(system, "order", f.get("order"), "order")
        for line in f.get("lines") or []:
            order_line = self._resolve(system, "order_line", line.get("order_line"), "order_line")
            if order_line and order_id is None:
                order_id = self.session.scalar(
                    select(OrderLine.order_id).where(OrderLine.id == order_line)
                )
            self.session.add(
                ShipmentLine(
                    shipment_id=shipment.id, order_line_id=order_line,
                    product=line.get("product"), quantity=line.get("quantity") or Decimal(0),
                )
            )
        shipment.order_id = order_id
        return shipment

    def _invoice(self, system: str, hub_id: int | None, f: Mapping[str, Any]) -> Invoice:
        invoice = self._load(Invoice, hub_id)
        invoice.number = f.get("number")
        invoice.customer_id = self._resolve(system, "customer", f.get("customer"), "customer")
        invoice.order_id = self._resolve(system, "order", f.get("order"), "order")
        invoice.status = f.get("status")
        invoice.issued_on = f.get("issued_on")
        invoice.currency = f.get("currency")
        invoice.total = f.get("total")
        invoice.amount_due = f.get("amount_due")
        invoice.due_dates = jsonable(f.get("due_dates") or [])
        return invoice

    def _payment(self, system: str, hub_id: int | None, f: Mapping[str, Any]) -> Payment:
        payment = self._load(Payment, hub_id)
        payment.reference = f.get("reference")
        payment.invoice_id = self._resolve(system, "invoice", f.get("invoice"), "invoice")
        payment.customer_id = self._resolve(system, "customer", f.get("customer"), "customer")
        payment.amount = f.get("amount") or Decimal(0)
        payment.currency = f.get("currency")
        payment.paid_on = f.get("paid_on")
        return payment
