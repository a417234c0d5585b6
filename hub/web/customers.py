"""The customer page: the call-centre view the articles describe. One box for whatever the
caller gives (phone, name, tax id, any system's number), then the customer as the hub knows
them: the golden record with its sources, open orders with where they are, what is due and
overdue, invoices, open service cases and deals. Made for a phone too.

Payment figures of an order follow the same rule as the order page (hub.documents.ownership):
a salesperson sees them for their own orders only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.api.deps import SessionDep
from hub.auth.models import Role
from hub.documents.models import Order
from hub.documents.ownership import for_viewer
from hub.documents.status import order_status
from hub.master.lookup import lookup
from hub.master.models import GoldenCustomer
from hub.master.views import customer_detail
from hub.web.app import render
from hub.web.auth import PageNotFound, PageUser, page_user

router = APIRouter(include_in_schema=False)
Viewer = Annotated[PageUser, Depends(page_user(Role.sales, Role.it, Role.finance))]

#: Order states after which an order is no longer "open" for the caller.
CLOSED = ("done", "cancelled")
#: At most this many open orders are shown with their full status.
OPEN_ORDERS_SHOWN = 20


@router.get("/customers", response_class=HTMLResponse)
def customers_page(request: Request, session: SessionDep, user: Viewer, q: str = "") -> HTMLResponse:
    query = q.strip()[:200]
    found = lookup(session, query) if query else []
    if len(found) == 1:  # the caller is known: straight to them
        return customer_view(request, found[0].golden.id, session, user)
    return render(request, "customers.html", user, q=query, found=found)


@router.get("/customers/{golden_id}", response_class=HTMLResponse)
def customer_view(request: Request, golden_id: int, session: SessionDep, user: Viewer) -> HTMLResponse:
    golden = session.get(GoldenCustomer, golden_id)
    if golden is None:
        raise PageNotFound(f"no customer {golden_id}", user)
    if golden.merged_into_id:
        golden = session.get(GoldenCustomer, golden.merged_into_id) or golden
    detail = customer_detail(session, golden)
    orders = [for_viewer(user, s) for s in _open_orders(session, golden.id)]
    return render(
        request, "customer.html", user, c=detail, orders=orders, overdue=[o for o in orders if o.get("overdue")]
    )


def _open_orders(session: Session, golden_id: int) -> list[dict[str, Any]]:
    ids = [golden_id, *session.scalars(select(GoldenCustomer.id).where(GoldenCustomer.merged_into_id == golden_id))]
    order_ids = session.scalars(
        select(Order.id)
        .where(Order.customer_id.in_(ids), (Order.status.is_(None)) | (Order.status.not_in(CLOSED)))
        .order_by(Order.ordered_on.desc(), Order.id.desc())
        .limit(OPEN_ORDERS_SHOWN)
    ).all()
    return [s for s in (order_status(session, i) for i in order_ids) if s is not None]
