"""The finance page: overdue stage payments, worst first, with what the levels and "days late"
mean (read from the pipelines in use), the total overdue, filters by stage, sales owner and
customer, acknowledge/snooze per alert, and an ageing chart by days past due; plus the orders
the receivables jobs set aside (not in the figures until corrected).

Read through the same report and service functions as the API (``hub.receivables.reports``,
``service.acknowledge``/``snooze``), so the page and ``/api/v1`` cannot disagree. The actions
are POST forms with the session's CSRF token (checked by the ``page_user`` guard) answered by a
redirect back to the filtered list (POST-redirect-GET: a reload never sends them again). The
chart is HTML bars sized in percent, so it fits a phone and the desktop alike (no script)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from hub.api.deps import SessionDep
from hub.auth.models import Role
from hub.receivables import service
from hub.receivables.models import Alert, Instalment
from hub.receivables.pipeline import Pipeline, current_versions, load_version
from hub.receivables.reports import ageing, overdue, overdue_choices, overdue_totals
from hub.receivables.service import set_aside
from hub.web.app import render
from hub.web.auth import PageUser, page_user

router = APIRouter(include_in_schema=False)
Finance = Annotated[PageUser, Depends(page_user(Role.finance))]
PAGE = "/finance/receivables"
#: the list's query parameters an action returns to (anything else in ``back`` is dropped)
KEPT = ("as_of", "stage", "owner", "customer")
SNOOZE_MAX_DAYS = 366
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # within the database's integer


def chart(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Bars per bucket (summed over stages), as a percentage of the widest."""
    totals = [(label, sum(r[label] for r in report["rows"])) for label in report["buckets"]]
    top = max((v for _l, v in totals), default=0) or 1
    return [{"label": label, "value": value, "pct": round(value / top * 100, 1)} for label, value in totals]


def _stage_name(spec: Pipeline, code: str) -> str:
    stage = spec.stage(code)
    return stage.name if stage else code


def rules(session: Session) -> list[dict[str, Any]]:
    """What each pipeline in use says about due dates, grace and alert levels, for the page's
    plain-words explanation (so it never drifts from the YAML the scan applies)."""
    out = []
    for version in current_versions(session):
        spec = load_version(session, version.id)
        out.append(
            {
                "pipeline": spec.name,
                "version": version.version,
                "plans": [
                    {
                        "name": plan.name,
                        "steps": [
                            {
                                "stage": _stage_name(spec, t.stage),
                                "days": t.due.days,
                                "end_of_month": t.due.end_of_month,
                                "grace": t.grace_days,
                            }
                            for t in plan.instalments
                        ],
                    }
                    for plan in spec.plans.values()
                ],
                "levels": [
                    {"level": a.level, "after": a.after_days, "notify": a.notify, "hold": a.credit_hold}
                    for a in spec.alerts
                ],
            }
        )
    return out


def _done(session: Session, alert_id: int | None) -> dict[str, Any] | None:
    """What the last action did, read back from the alert itself (not from the URL's words)."""
    if alert_id is None:
        return None
    alert = session.get(Alert, alert_id)
    if alert is None:
        return None
    instalment = session.get(Instalment, alert.instalment_id)
    return {
        "reference": instalment.reference if instalment else f"instalment {alert.instalment_id}",
        "level": alert.level,
        "status": alert.status,
        "by": alert.acknowledged_by,
        "until": alert.snoozed_until,
    }


@router.get(PAGE, response_class=HTMLResponse)
def receivables_page(
    request: Request,
    session: SessionDep,
    user: Finance,
    as_of: date | None = None,
    stage: Annotated[str | None, Query(max_length=80)] = None,
    owner: Annotated[str | None, Query(max_length=200)] = None,
    customer: Annotated[int | None, Query(ge=1)] = None,
    done: Annotated[int | None, Query(ge=1)] = None,
    error: Annotated[str | None, Query(max_length=300)] = None,
) -> HTMLResponse:
    day = as_of or date.today()
    stage, owner = stage or None, owner or None
    report = ageing(session, day, "stage")
    rows = overdue(
        session, day, owner, 200, stage=stage, customer_id=customer
    )  # may set aside an order it cannot read: listed below
    choices = overdue_choices(session)
    query = {k: v for k, v in (("as_of", as_of), ("stage", stage), ("owner", owner), ("customer", customer)) if v}
    return render(
        request,
        "receivables.html",
        user,
        as_of=day,
        as_of_param=as_of,
        rows=rows,
        totals=overdue_totals(session, owner, stage, customer),
        filters={"stage": stage, "owner": owner, "customer": customer},
        filtered=bool(stage or owner or customer),
        choices=choices,
        customer_name=dict(choices["customers"]).get(customer) if customer else None,
        back=urlencode({k: str(v) for k, v in query.items()}),
        snooze_default=(date.today() + timedelta(days=7)).isoformat(),
        snooze_min=(date.today() + timedelta(days=1)).isoformat(),
        rules=rules(session),
        done=_done(session, done),
        error=error,
        ageing=report,
        chart=chart(report),
        set_aside=set_aside(session, 50),
    )


def _back(back: str, **extra: Any) -> RedirectResponse:
    """Back to the list as it was filtered (only the list's own parameters survive)."""
    kept = [(k, v) for k, v in parse_qsl(back)[:10] if k in KEPT]
    query = urlencode([*kept, *((k, str(v)) for k, v in extra.items())])
    return RedirectResponse(f"{PAGE}?{query}" if query else PAGE, status.HTTP_303_SEE_OTHER)


@router.post(PAGE + "/alerts/{alert_id}/acknowledge")
def acknowledge(
    alert_id: AlertId, session: SessionDep, user: Finance, back: Annotated[str, Form(max_length=600)] = ""
) -> RedirectResponse:
    try:
        service.acknowledge(session, alert_id, user.name)
    except (service.NotFound, ValueError) as exc:
        return _back(back, error=str(exc))
    return _back(back, done=alert_id)


@router.post(PAGE + "/alerts/{alert_id}/snooze")
def snooze(
    alert_id: AlertId,
    session: SessionDep,
    user: Finance,
    until: Annotated[date, Form()],
    back: Annotated[str, Form(max_length=600)] = "",
) -> RedirectResponse:
    today = date.today()
    if not today < until <= today + timedelta(days=SNOOZE_MAX_DAYS):
        return _back(back, error=f"snooze until a day after today and within a year (not {until.isoformat()})")
    try:
        service.snooze(session, alert_id, until, user.name)
    except (service.NotFound, ValueError) as exc:
        return _back(back, error=str(exc))
    return _back(back, done=alert_id)
