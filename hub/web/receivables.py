"""The finance page: overdue stage payments, worst first, and an ageing chart by stage, with the
orders the receivables jobs set aside (not in the figures until corrected).
Read through the same report functions as the API; the chart is server-drawn SVG (no script)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hub.api.deps import SessionDep
from hub.auth.models import Role
from hub.receivables.reports import ageing, overdue
from hub.receivables.service import set_aside
from hub.web.app import render
from hub.web.auth import PageUser, page_user

router = APIRouter(include_in_schema=False)
Finance = Annotated[PageUser, Depends(page_user(Role.finance))]


def chart(report: dict[str, Any], width: int = 320, bar: int = 22) -> dict[str, Any]:
    """Bars per bucket (summed over stages), scaled to the widest."""
    totals = [(label, sum(r[label] for r in report["rows"])) for label in report["buckets"]]
    top = max((v for _l, v in totals), default=0) or 1
    return {
        "height": len(totals) * (bar + 8),
        "bar": bar,
        "bars": [
            {"label": label, "value": value, "y": i * (bar + 8), "w": round(value / top * (width - 150))}
            for i, (label, value) in enumerate(totals)
        ],
    }


@router.get("/finance/receivables", response_class=HTMLResponse)
def receivables_page(request: Request, session: SessionDep, user: Finance, as_of: date | None = None) -> HTMLResponse:
    day = as_of or date.today()
    report = ageing(session, day, "stage")
    rows = overdue(session, day, limit=200)  # may set aside an order it cannot read: listed below
    return render(
        request,
        "receivables.html",
        user,
        as_of=day,
        rows=rows,
        ageing=report,
        chart=chart(report),
        set_aside=set_aside(session, 50),
    )
