"""The sales page: find an order by any system's number or the customer, see where it is.
Made for a phone first — sales asks in the car park, not at a desk."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hub.api.deps import SessionDep
from hub.auth.models import Role
from hub.documents.ownership import for_viewer
from hub.documents.search import find_orders
from hub.documents.status import order_status
from hub.web.app import render
from hub.web.auth import PageNotFound, PageUser, page_user

router = APIRouter(include_in_schema=False)
Viewer = Annotated[PageUser, Depends(page_user(Role.sales, Role.it, Role.finance))]


@router.get("/orders", response_class=HTMLResponse)
def orders_page(request: Request, session: SessionDep, user: Viewer, q: str = "") -> HTMLResponse:
    query = q.strip()
    found = []
    if query:
        found = find_orders(session, ref=query) or find_orders(session, customer=query)
    return render(request, "orders.html", user, q=query, orders=found)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(request: Request, order_id: int, session: SessionDep, user: Viewer) -> HTMLResponse:
    status = order_status(session, order_id)
    if status is None:
        raise PageNotFound(f"no order {order_id}", user)
    return render(request, "order.html", user, o=for_viewer(user, status))
