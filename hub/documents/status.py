"""One order's status as every system knows it, for sales: one answer to "where is my order?".

Found by any system's number or by customer (hub.documents.search).
Shows the stage, the ERP's state, shipped against ordered per line, each delivery, invoices,
what is paid, the next instalment due and whether one is overdue, and a timeline of what each
system changed and when. The API, ``hub orders status`` and the sales page share this shape.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, func, select, text, union_all
from sqlalchemy.orm import Session

from hub.audit.models import AuditEntry
from hub.canonical import GOODS_LEFT
from hub.documents.models import Invoice, Order, OrderLine, Payment, Shipment, ShipmentLine
from hub.master.models import GoldenCustomer
from hub.outbox.models import OutboxDelivery, OutboxEvent
from hub.receivables.models import Instalment, OrderStage
from hub.sync.links import Binder

#: Shipment statuses that mean the goods left (hub.canonical: the code list is the one definition).
SHIPPED = GOODS_LEFT


def _by_order(*columns: Any, where: Any, order_by: tuple[Any, ...] = ()) -> Select[Any]:
    return select(*columns).where(where == bindparam("order_id")).order_by(*order_by)


# Built once: a status request is a handful of indexed reads, and building and caching the
# statements again on every request cost more than the database spends answering them.
_ORDER = (
    select(
        Order.id,
        Order.number,
        Order.stage,
        Order.status,
        Order.owner,
        Order.ordered_on,
        Order.currency,
        Order.total,
        GoldenCustomer.id.label("customer_id"),
        GoldenCustomer.name.label("customer_name"),
    )
    .outerjoin(GoldenCustomer, GoldenCustomer.id == Order.customer_id)
    .where(Order.id == bindparam("order_id"))
)
_LINES = _by_order(
    OrderLine.id,
    OrderLine.product,
    OrderLine.description,
    OrderLine.quantity,
    OrderLine.unit_price,
    OrderLine.shippable,
    where=OrderLine.order_id,
    order_by=(OrderLine.id,),
)
_DELIVERIES = _by_order(
    Shipment.id,
    Shipment.number,
    Shipment.status,
    Shipment.planned_on,
    Shipment.shipped_on,
    ShipmentLine.order_line_id,
    ShipmentLine.product,
    ShipmentLine.quantity,
    where=Shipment.order_id,
    order_by=(Shipment.planned_on, Shipment.id, ShipmentLine.id),
).outerjoin(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
_PAID = (
    select(func.coalesce(func.sum(Payment.amount), 0))
    .where(Payment.invoice_id == Invoice.id)
    .correlate(Invoice)
    .scalar_subquery()
)
_INVOICES = _by_order(
    Invoice.id,
    Invoice.number,
    Invoice.status,
    Invoice.issued_on,
    Invoice.total,
    Invoice.amount_due,
    Invoice.due_dates,
    _PAID.label("paid"),
    where=Invoice.order_id,
    order_by=(Invoice.issued_on, Invoice.id),
)
# Where the hub sent the order (hub.outbox): the last delivery per target says whether it
# reached that system; through the order's events, whose index leads to their deliveries.
_SENT = (
    select(OutboxDelivery.target, OutboxDelivery.status, OutboxDelivery.attempts, OutboxDelivery.last_error)
    .join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
    .where(OutboxEvent.entity_type == "order", OutboxEvent.hub_id == bindparam("order_id"))
    .order_by(OutboxDelivery.id)
)


def _audit_of(entity: str, document: Any = None) -> Select[*tuple[Any, ...]]:
    """Audit entries of the order (no ``document``), or of its shipments or invoices."""
    columns = (
        AuditEntry.changed_at,
        AuditEntry.id,
        AuditEntry.actor,
        AuditEntry.entity_type,
        AuditEntry.field,
        AuditEntry.before,
        AuditEntry.after,
    )
    if document is None:
        return select(*columns).where(AuditEntry.entity_type == entity, AuditEntry.hub_id == bindparam("order_id"))
    return (
        select(*columns)
        .join(document, document.id == AuditEntry.hub_id)
        .where(AuditEntry.entity_type == entity, document.order_id == bindparam("order_id"))
    )


# One index range per part: an OR of the three would scan every shipment's entries.
_TIMELINE = (
    union_all(_audit_of("order"), _audit_of("shipment", Shipment), _audit_of("invoice", Invoice))
    .order_by(text("changed_at DESC, id DESC"))
    .limit(200)
)
_INSTALMENTS = _by_order(
    Instalment.stage,
    Instalment.amount,
    Instalment.due_date,
    Instalment.outstanding,
    Instalment.status,
    where=Instalment.order_id,
    order_by=(Instalment.seq,),
)
#: The stages receivables has seen the order reach (an ERP shipment, a CRM stage, a recorded
#: acceptance): the order's stage when the CRM names none.
_STAGES = _by_order(
    OrderStage.stage, OrderStage.reached_on, where=OrderStage.order_id, order_by=(OrderStage.reached_on, OrderStage.id)
)


def order_status(session: Session, order_id: int, today: date | None = None) -> dict[str, Any] | None:
    key = {"order_id": order_id}
    db = session.connection()  # Core rows: the ORM's per-statement work is most of a request's cost
    order = db.execute(_ORDER, key).first()
    if order is None:
        return None
    lines = db.execute(_LINES, key).all()
    shipped: dict[int, Decimal] = defaultdict(Decimal)
    batches: dict[int, dict[str, Any]] = {}
    for row in db.execute(_DELIVERIES, key):
        batch = batches.setdefault(
            row.id,
            {
                "id": row.id,
                "number": row.number,
                "status": row.status,
                "planned_on": _iso(row.planned_on),
                "shipped_on": _iso(row.shipped_on),
                "lines": [],
            },
        )
        if row.quantity is None:  # a shipment without lines
            continue
        batch["lines"].append({"product": row.product, "quantity": _qty(row.quantity)})
        if row.status in SHIPPED and row.order_line_id:
            shipped[row.order_line_id] += row.quantity
    invoices = db.execute(_INVOICES, key).all()
    return {
        "id": order.id,
        "number": order.number,
        "numbers": Binder(session).external_refs("order", [order_id]).get(order_id, {}),
        "customer": {"id": order.customer_id, "name": order.customer_name} if order.customer_id else None,
        **_stage(db, order_id, order.stage),
        "status": order.status,
        "owner": order.owner,
        "ordered_on": _iso(order.ordered_on),
        "currency": order.currency,
        "total": _money(order.total),
        "lines": [
            {
                "product": line.product,
                "description": line.description,
                "ordered": _qty(line.quantity),
                "shipped": _qty(shipped.get(line.id, Decimal(0))),
                "unit_price": _money(line.unit_price),
            }
            for line in lines
        ],
        "fully_shipped": _fully_shipped(lines, shipped),
        "deliveries": list(batches.values()),
        "invoices": [
            {
                "id": i.id,
                "number": i.number,
                "status": i.status,
                "issued_on": _iso(i.issued_on),
                "total": _money(i.total),
                "amount_due": _money(i.amount_due),
                "due_dates": i.due_dates,
            }
            for i in invoices
        ],
        "paid": _money(sum((Decimal(i.paid or 0) for i in invoices), Decimal(0))),
        **_instalments(db, order_id, invoices, today or date.today()),
        "sent_to": _sent_to(db, order_id),
        "timeline": _timeline(db, order_id),
    }


def _sent_to(db: Connection, order_id: int) -> list[dict[str, Any]]:
    """Each target's last delivery of the order: ``sent``, ``pending`` (with the error of the
    last try, if any) or ``dead`` — an order that never reached the ERP must not look normal."""
    last: dict[str, Row[*tuple[Any, ...]]] = {}
    for row in db.execute(_SENT, {"order_id": order_id}):
        last[row.target] = row
    return [
        {"target": r.target, "status": r.status, "attempts": r.attempts, "error": r.last_error} for r in last.values()
    ]


def _fully_shipped(lines: Sequence[Row[Any]], shipped: dict[int, Decimal]) -> bool:
    """Every line that ships has shipped in full. A service line (installation, freight)
    never has a stock move, so it is not waited for; an order of services only has nothing
    to ship and is not called "fully shipped"."""
    goods = [line for line in lines if line.shippable]
    return bool(goods) and all(shipped.get(line.id, Decimal(0)) >= line.quantity for line in goods)


def _instalments(db: Connection, order_id: int, invoices: Sequence[Row[Any]], today: date) -> dict[str, Any]:
    """The next instalment due and the overdue flag, from receivables when the order has a plan,
    else from its invoices' due dates."""
    rows = db.execute(_INSTALMENTS, {"order_id": order_id}).all()
    if rows:
        open_rows = [r for r in rows if r.status != "paid"]
        dated = [r for r in open_rows if r.due_date is not None]
        # the one due first (an invoice's maturity may come before a later stage's plan date)
        upcoming = min(dated, key=lambda r: r.due_date) if dated else (open_rows[0] if open_rows else None)
        return {
            "next_instalment": None if upcoming is None else _instalment(upcoming),
            "instalments": [_instalment(r) for r in rows],  # the whole schedule (30/60/10 …)
            "overdue": any(r.status == "overdue" for r in rows),
        }
    pending = sorted(
        (d["date"], d.get("amount"))
        for i in invoices
        if i.amount_due is not None and i.amount_due > 0
        for d in (i.due_dates or [])
        if d.get("date")
    )
    upcoming_due = pending[0] if pending else None
    return {
        "next_instalment": None if upcoming_due is None else {"due_date": upcoming_due[0], "amount": upcoming_due[1]},
        "instalments": [],
        "overdue": bool(upcoming_due and date.fromisoformat(upcoming_due[0][:10]) < today),
    }


def _instalment(row: Row[Any]) -> dict[str, Any]:
    return {
        "stage": row.stage,
        "amount": _money(row.amount),
        "due_date": _iso(row.due_date),
        "outstanding": _money(row.outstanding),
        "status": row.status,
    }


def _stage(db: Connection, order_id: int, crm_stage: str | None) -> dict[str, Any]:
    """The order's stage: the CRM's when it names one, else the last stage receivables saw
    reached; with every stage reached and when."""
    reached = [
        {"stage": r.stage, "reached_on": _iso(r.reached_on)} for r in db.execute(_STAGES, {"order_id": order_id})
    ]
    stage = crm_stage or (reached[-1]["stage"] if reached else None)
    return {"stage": stage, "stages_reached": reached}


def _timeline(db: Connection, order_id: int) -> list[dict[str, Any]]:
    """What each system changed, newest first: the order's audit trail and its documents'."""
    return [
        {
            "at": _iso(r.changed_at),
            "source": r.actor,
            "entity": r.entity_type,
            "what": "created" if r.field == "*" else r.field,
            "before": r.before,
            "after": r.after,
        }
        for r in db.execute(_TIMELINE, {"order_id": order_id})
    ]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def _qty(value: Decimal | None) -> str:
    return format(Decimal(value or 0).normalize(), "f")
