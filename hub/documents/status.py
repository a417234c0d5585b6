"""One order's status as every system knows it, for sales: one answer to "where is my order?".

Found by any system's number (the CRM's, the ERP's sale number, the hub's), or by customer.
Shows the stage, the ERP's state, shipped against ordered per line, each delivery, invoices,
what is paid, the next instalment due and whether one is overdue, and a timeline of what each
system changed and when. The API, ``hub orders status`` and the sales page share this shape.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hub.audit.models import AuditEntry
from hub.documents.models import Invoice, Order, OrderLine, Payment, Shipment, ShipmentLine
from hub.master.models import GoldenCustomer
from hub.receivables.models import Instalment
from hub.sync.models import Link

#: Shipment codes (hub code lists) that mean the goods left.
SHIPPED = ("shipped", "done", "delivered")


def find_orders(session: Session, ref: str | None = None, customer: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Orders whose number in any system is ``ref``, or whose customer's name contains ``customer``."""
    query = select(Order, GoldenCustomer.name).outerjoin(GoldenCustomer, GoldenCustomer.id == Order.customer_id)
    if ref:
        linked = select(Link.hub_id).where(
            Link.entity_type == "order", or_(Link.external_ref == ref, Link.external_id == ref)
        )
        query = query.where(or_(Order.number == ref, Order.reference == ref, Order.id.in_(linked)))
    if customer:
        query = query.where(GoldenCustomer.name.ilike(f"%{customer}%"))
    rows = session.execute(query.order_by(Order.ordered_on.desc(), Order.id.desc()).limit(limit)).all()
    numbers = _numbers(session, [order.id for order, _name in rows])
    return [
        {"id": order.id, "number": order.number, "customer": name, "stage": order.stage,
         "status": order.status, "ordered_on": _iso(order.ordered_on), "total": _money(order.total),
         "currency": order.currency, "numbers": numbers.get(order.id, {})}
        for order, name in rows
    ]


def order_status(session: Session, order_id: int, today: date | None = None) -> dict[str, Any] | None:
    order = session.get(Order, order_id)
    if order is None:
        return None
    today = today or date.today()
    customer = session.get(GoldenCustomer, order.customer_id) if order.customer_id else None
    lines = list(session.scalars(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id)))
    shipments = list(session.scalars(
        select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.planned_on, Shipment.id)
    ))
    shipped: dict[int, Decimal] = defaultdict(Decimal)
    batches = []
    items_of: dict[int, list[ShipmentLine]] = defaultdict(list)
    if shipments:
        for item in session.scalars(select(ShipmentLine).where(ShipmentLine.shipment_id.in_([s.id for s in shipments]))):
            items_of[item.shipment_id].append(item)
    for shipment in shipments:
        items = items_of[shipment.id]
        if shipment.status in SHIPPED:
            for item in items:
                if item.order_line_id:
                    shipped[item.order_line_id] += item.quantity
        batches.append({
            "id": shipment.id, "number": shipment.number, "status": shipment.status,
            "planned_on": _iso(shipment.planned_on), "shipped_on": _iso(shipment.shipped_on),
            "lines": [{"product": i.product, "quantity": _qty(i.quantity)} for i in items],
        })
    invoices = list(session.scalars(select(Invoice).where(Invoice.order_id == order_id).order_by(Invoice.issued_on, Invoice.id)))
    paid = session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.invoice_id.in_([i.id for i in invoices]))
    ) if invoices else Decimal(0)
    instalments = _instalments(session, order_id, today)
    return {
        "id": order.id,
        "number": order.number,
        "numbers": _numbers(session, [order.id]).get(order.id, {}),
        "customer": {"id": customer.id, "name": customer.name} if customer else None,
        "stage": order.stage,
        "status": order.status,
        "owner": order.owner,
        "ordered_on": _iso(order.ordered_on),
        "currency": order.currency,
        "total": _money(order.total),
        "lines": [
            {"product": line.product, "description": line.description, "ordered": _qty(line.quantity),
             "shipped": _qty(shipped.get(line.id, Decimal(0))), "unit_price": _money(line.unit_price)}
            for line in lines
        ],
        "fully_shipped": bool(lines) and all(shipped.get(line.id, Decimal(0)) >= line.quantity for line in lines),
        "deliveries": batches,
        "invoices": [
            {"id": i.id, "number": i.number, "status": i.status, "issued_on": _iso(i.issued_on),
             "total": _money(i.total), "amount_due": _money(i.amount_due), "due_dates": i.due_dates}
            for i in invoices
        ],
        "paid": _money(Decimal(paid or 0)),
        **instalments,
        "timeline": _timeline(session, order_id, [s.id for s in shipments], [i.id for i in invoices]),
    }


def _instalments(session: Session, order_id: int, today: date) -> dict[str, Any]:
    """The next instalment due and the overdue flag, from receivables when the order has a plan,
    else from its invoices' due dates."""
    rows = list(session.scalars(select(Instalment).where(Instalment.order_id == order_id).order_by(Instalment.seq)))
    if rows:
        open_rows = [r for r in rows if r.status != "paid"]
        upcoming = next((r for r in open_rows if r.due_date is not None), open_rows[0] if open_rows else None)
        return {
            "next_instalment": None if upcoming is None else {
                "stage": upcoming.stage, "amount": _money(upcoming.amount), "due_date": _iso(upcoming.due_date),
                "outstanding": _money(upcoming.outstanding), "status": upcoming.status,
            },
            "overdue": any(r.status == "overdue" for r in rows),
        }
    dues = session.execute(
        select(Invoice.due_dates, Invoice.amount_due).where(Invoice.order_id == order_id, Invoice.amount_due > 0)
    ).all()
    pending = sorted(
        (d["date"], d.get("amount")) for due_dates, _due in dues for d in (due_dates or []) if d.get("date")
    )
    upcoming_due = pending[0] if pending else None
    return {
        "next_instalment": None if upcoming_due is None else {"due_date": upcoming_due[0], "amount": upcoming_due[1]},
        "overdue": bool(upcoming_due and date.fromisoformat(upcoming_due[0][:10]) < today),
    }


def _timeline(session: Session, order_id: int, shipment_ids: list[int], invoice_ids: list[int]) -> list[dict[str, Any]]:
    """What each system changed, newest first: the order's audit trail and its documents'."""
    wanted = [("order", [order_id]), ("shipment", shipment_ids), ("invoice", invoice_ids)]
    clauses = [(AuditEntry.entity_type == entity) & AuditEntry.hub_id.in_(ids) for entity, ids in wanted if ids]
    rows = session.scalars(
        select(AuditEntry).where(or_(*clauses)).order_by(AuditEntry.changed_at.desc(), AuditEntry.id.desc()).limit(200)
    )
    return [
        {"at": _iso(r.changed_at), "source": r.actor, "entity": r.entity_type,
         "what": "created" if r.field == "*" else r.field, "before": r.before, "after": r.after}
        for r in rows
    ]


def _numbers(session: Session, order_ids: list[int]) -> dict[int, dict[str, str]]:
    """order id → system → that system's number for it."""
    out: dict[int, dict[str, str]] = defaultdict(dict)
    if order_ids:
        for hub_id, system, ext, ref in session.execute(
            select(Link.hub_id, Link.system, Link.external_id, Link.external_ref)
            .where(Link.entity_type == "order", Link.hub_id.in_(order_ids))
        ):
            out[hub_id][system] = ref or ext
    return out


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def _qty(value: Decimal | None) -> str:
    return format(Decimal(value or 0).normalize(), "f")
