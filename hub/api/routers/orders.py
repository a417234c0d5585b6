"""Orders: enter one once for every system, find it by any system's number, see its status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from hub.api.deps import AnyRole, SessionDep, SettingsDep, require
from hub.auth.models import ApiToken, Role
from hub.documents.entry import OrderIn, enter_order
from hub.documents.ownership import NotYourOrder, for_viewer
from hub.documents.search import find_orders
from hub.documents.status import order_status
from hub.outbox.routes import load_routes
from hub.sync.links import Change
from hub.sync.mapping import MappingError

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])
SalesRole = Annotated[ApiToken, Depends(require(Role.sales, Role.it))]


@router.post("", status_code=201)
def create_order(
    body: OrderIn, session: SessionDep, settings: SettingsDep, token: SalesRole, response: Response
) -> dict[str, Any]:
    """Enter an order once; the routes send it on (e.g. to the ERP as a sale). Posting the same
    ``number`` again updates it (200), so a retry never makes a second order. At most
    ``HUB_MAX_ORDER_LINES`` lines (422 beyond)."""
    if len(body.lines) > settings.max_order_lines:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            f"an order has at most {settings.max_order_lines} lines (HUB_MAX_ORDER_LINES), this one {len(body.lines)}",
        )
    try:
        order_id, change = enter_order(
            session, body, f"api:{token.name or token.id}", load_routes(settings.mappings_dir), principal=token
        )
    except NotYourOrder as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    except MappingError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from None
    if change is not Change.created:
        response.status_code = status.HTTP_200_OK
    return {"id": order_id, "change": change.value, "status_url": f"/api/v1/orders/{order_id}/status"}


@router.get("")
def search_orders(
    session: SessionDep,
    _token: AnyRole,
    ref: Annotated[str | None, Query(description="An order number in any system.")] = None,
    customer: Annotated[str | None, Query(description="Part of the customer's name.")] = None,
) -> list[dict[str, Any]]:
    if not ref and not customer:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "give ref (an order number) or customer")
    return find_orders(session, ref=ref, customer=customer)


@router.get("/{order_id}/status")
def get_order_status(order_id: int, session: SessionDep, token: AnyRole) -> dict[str, Any]:
    """Where the order is; the payment side only for its owner, finance, IT and admin."""
    found = order_status(session, order_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {order_id}")
    return for_viewer(token, found)
