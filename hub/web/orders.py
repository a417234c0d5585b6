"""The sales page: find an order by any system's number or the customer, see where it is.
Made for a phone first — sales asks in the car park, not at a desk.

A delivery to a system that did not take the order (``sent_to`` of ``hub.documents.status``)
is shown with who can act on it (``who_fixes``), read from the error as the outbox stored it:
a refusal by the target names the record's data (sales corrects the order); a failure to reach
or use the system names its connection (IT)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hub.api.deps import SessionDep
from hub.auth.models import Role
from hub.documents.ownership import can_see_payments, for_viewer
from hub.documents.search import find_orders
from hub.documents.status import order_status
from hub.documents.worklist import order_rows, overdue_since
from hub.web.app import render
from hub.web.auth import PageNotFound, PageUser, page_user

router = APIRouter(include_in_schema=False)
Viewer = Annotated[PageUser, Depends(page_user(Role.sales, Role.it, Role.finance))]

#: What the outbox puts before the error it stores (``hub.outbox.dispatch``, ``.outcome``).
_PREFIXES = re.compile(r"^(?:gave up after \d+ attempts: |not attempted: |batch not settled: )+")
#: "ClassName: message" — an exception the connector raised, stored with its class: the
#: system was not reached or failed, whatever the order says.
_RAISED = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout|Refused|Failure)): ")
#: ``hub.outbox.dispatch``'s NotYet: a record the order refers to is not in the target.
_NOT_YET = re.compile(r" is not in \S+ yet$")
#: The target's answer is linked to another hub record (``hub.outbox.dispatch``), or reading
#: the write back showed it did not take effect (``hub.outbox.verify``): the order is not at fault.
_LINKED_ELSEWHERE = "which the hub links to"
_NOT_TAKEN = "did not take effect"


def who_fixes(target: str, status: str, error: str | None) -> str:
    """Who can make ``target`` take the order, from its last delivery's stored error.

    Only what the text shows is claimed: an exception class (the connector's TransientError,
    AuthError, an OS error) means the system or its connection failed — IT; a referred record
    missing from the target, an answer linked to another hub record, a write that read back
    different are the hub's or the connection's matter — IT; a plain message on a dead delivery is the
    target refusing this record (``RecordError``: its data) — sales corrects the order, and it
    is sent again on the next change."""
    text = _PREFIXES.sub("", error or "")
    raised = _RAISED.match(text)
    if raised:
        name = raised.group(1).rsplit(".", 1)[-1]
        if name == "AuthError":
            return f"IT (credentials of connection {target})"
        return f"IT (connection {target})"
    if _LINKED_ELSEWHERE in text:
        return f"IT (links: compare both records in {target}, then replay)"
    if _NOT_TAKEN in text:
        return f"IT (connection {target}: the write did not take effect)"
    if _NOT_YET.search(text):
        return f"IT (sync with {target}: a record the order refers to is not there yet)"
    if status == "dead" and text:
        return f"sales: correct the order ({target} refused it)"
    return f"no one yet: the hub is still sending it to {target}"


def _with_fixers(status: dict[str, Any]) -> dict[str, Any]:
    sent = [{**d, "fixer": who_fixes(d["target"], d["status"], d.get("error"))} for d in status.get("sent_to", [])]
    return {**status, "sent_to": sent}


@router.get("/orders", response_class=HTMLResponse)
def orders_page(request: Request, session: SessionDep, user: Viewer, q: str = "") -> HTMLResponse:
    """Search results, each flagged when overdue — for a salesperson only on their own orders,
    the payment rule of the order page (``hub.documents.ownership``)."""
    query = q.strip()
    found: list[dict[str, Any]] = []
    if query:
        found = find_orders(session, ref=query) or find_orders(session, customer=query)
    ids = [o["id"] for o in found]
    rows = order_rows(session, ids)
    late = overdue_since(session, ids)
    listed = []
    for o in found:
        row = rows.get(o["id"], {})
        shown = can_see_payments(user, {"owner": row.get("owner")})
        listed.append(
            {
                **o,
                "stage": row.get("stage", o["stage"]),  # the CRM's, else the last reached
                "customer_id": row.get("customer_id"),
                "overdue": shown and o["id"] in late,
                "overdue_since": late.get(o["id"]) if shown else None,
            }
        )
    return render(request, "orders.html", user, q=query, orders=listed)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(request: Request, order_id: int, session: SessionDep, user: Viewer) -> HTMLResponse:
    status = order_status(session, order_id)
    if status is None:
        raise PageNotFound(f"no order {order_id}", user)
    return render(request, "order.html", user, o=_with_fixers(for_viewer(user, status)))
