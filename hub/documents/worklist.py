"""The orders a page lists beside its search: the overdue flag of a list of orders, and a
salesperson's recent and overdue orders (the landing page).

"Overdue" is the order page's rule (``hub.documents.status``), so a list never flags an order
its page calls on time, or the other way round: an order with a payment plan is overdue when
receivables marked one of its instalments overdue (the scan, ``hub.receivables.scan``); an
order without a plan when an invoice with money still open has a due date before today.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hub.documents.models import Invoice, Order
from hub.documents.status import _iso, _money
from hub.master.models import GoldenCustomer
from hub.receivables.models import Instalment, OrderStage

S = TypeVar("S", bound=Select[*tuple[Any, ...]])

#: How many of a salesperson's latest orders the landing page lists.
RECENT = 10
#: At most this many overdue orders on the landing page (the finance page has them all).
OVERDUE_SHOWN = 50


def _scoped(query: S, column: Any, order_ids: Collection[int] | None, owner: str | None) -> S:
    if order_ids is not None:
        query = query.where(column.in_(list(order_ids) or [-1]))
    if owner is not None:
        query = query.join(Order, Order.id == column).where(Order.owner == owner)
    return query


def overdue_since(
    session: Session, order_ids: Collection[int] | None = None, owner: str | None = None, today: date | None = None
) -> dict[int, str | None]:
    """Order id → the earliest overdue due date (ISO), for the orders among ``order_ids``
    and/or owned by ``owner`` that are overdue; the others are absent."""
    today = today or date.today()
    found: dict[int, str | None] = {
        order_id: _iso(first)
        for order_id, first in session.execute(
            _scoped(
                select(Instalment.order_id, func.min(Instalment.due_date))
                .where(Instalment.status == "overdue")
                .group_by(Instalment.order_id),
                Instalment.order_id,
                order_ids,
                owner,
            )
        )
    }
    planned = _scoped(select(Instalment.order_id).distinct(), Instalment.order_id, order_ids, owner)
    unplanned = _scoped(
        select(Invoice.order_id, Invoice.due_dates).where(
            Invoice.amount_due > 0, Invoice.order_id.is_not(None), Invoice.order_id.not_in(planned.scalar_subquery())
        ),
        Invoice.order_id,
        order_ids,
        owner,
    )
    for order_id, due_dates in session.execute(unplanned):
        late = sorted(str(d["date"])[:10] for d in due_dates or [] if d.get("date"))
        if late and date.fromisoformat(late[0]) < today:
            earlier = found.get(order_id)
            found[order_id] = min(late[0], earlier) if earlier else late[0]
    return found


def stages_reached(session: Session, order_ids: Collection[int]) -> dict[int, str]:
    """Order id → the last stage receivables saw it reach: a list's stage where the CRM names
    none (the order page's rule, ``hub.documents.status._stage``)."""
    query = (
        select(OrderStage.order_id, OrderStage.stage)
        .where(OrderStage.order_id.in_(list(order_ids) or [-1]))
        .order_by(OrderStage.reached_on, OrderStage.id)
    )
    return {order_id: stage for order_id, stage in session.execute(query)}  # the last one wins


def order_rows(session: Session, order_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """Order id → what a list shows of it: number, customer (with id, for its page), owner,
    stage, state, total."""
    query = (
        select(Order, GoldenCustomer.id, GoldenCustomer.name)
        .outerjoin(GoldenCustomer, GoldenCustomer.id == Order.customer_id)
        .where(Order.id.in_(list(order_ids) or [-1]))
    )
    rows = session.execute(query).all()
    reached = stages_reached(session, [order.id for order, _id, _name in rows])
    return {
        order.id: {
            "id": order.id,
            "number": order.number,
            "customer_id": customer_id,
            "customer": name,
            "owner": order.owner,
            "stage": order.stage or reached.get(order.id),
            "status": order.status,
            "ordered_on": _iso(order.ordered_on),
            "total": _money(order.total),
            "currency": order.currency,
        }
        for order, customer_id, name in rows
    }


def my_orders(session: Session, owner: str, today: date | None = None) -> dict[str, list[dict[str, Any]]]:
    """``owner``'s latest orders (``recent``) and their overdue ones (``overdue``, longest
    overdue first), each row with ``overdue_since`` where it is overdue."""
    recent_ids = list(
        session.scalars(
            select(Order.id)
            .where(Order.owner == owner)
            .order_by(Order.ordered_on.desc().nulls_last(), Order.id.desc())
            .limit(RECENT)
        )
    )
    late = overdue_since(session, owner=owner, today=today)
    late_ids = sorted(late, key=lambda i: (late[i] or "9999", i))[:OVERDUE_SHOWN]
    rows = order_rows(session, {*recent_ids, *late_ids})
    for order_id, row in rows.items():
        row["overdue_since"] = late.get(order_id)
        row["overdue"] = order_id in late
    return {"recent": [rows[i] for i in recent_ids], "overdue": [rows[i] for i in late_ids if i in rows]}
