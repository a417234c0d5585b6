"""Receivables per sales stage: pipelines, orders' instalments, stages, alerts, finance views.

Finance and admin may do everything; sales may read the instalments and the overdue list of
the orders they own (the order's sales owner equals the token's name).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Response, status
from pydantic import Field
from sqlalchemy import select

from hub.api.deps import SessionDep, SettingsDep, require
from hub.auth.models import ApiToken, Role
from hub.bounds import Id, Input, text
from hub.config.loader import ConfigError
from hub.documents.ownership import can_see_payments
from hub.receivables import reports, service
from hub.receivables.models import PipelineVersion
from hub.receivables.pipeline import sync_files

router = APIRouter(prefix="/api/v1/receivables", tags=["receivables"])
Finance = Annotated[ApiToken, Depends(require(Role.finance))]
FinanceOrSales = Annotated[ApiToken, Depends(require(Role.finance, Role.sales))]
FinanceOrIt = Annotated[ApiToken, Depends(require(Role.finance, Role.it))]


class StageIn(Input):
    date: date


class PlanIn(Input):
    plan: text(80, min_length=1)  # type: ignore[valid-type]


class OpportunityIn(Input):
    opportunity_id: Id


class MoveIn(Input):
    order_ids: list[Id] | None = Field(None, max_length=10_000)


class SnoozeIn(Input):
    until: date


class BlockIn(Input):
    blocked: bool


class ScanIn(Input):
    as_of: date | None = None


def _call(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except service.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except (ValueError, ConfigError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


@router.get("/pipelines")
def pipelines(session: SessionDep, settings: SettingsDep, _t: Finance) -> list[dict[str, Any]]:
    """Every version of every pipeline (files read now: an edited file shows as a new version)."""
    _call(sync_files, session, settings.mappings_dir)
    rows = session.scalars(select(PipelineVersion).order_by(PipelineVersion.pipeline, PipelineVersion.version))
    return [service.version_info(r) for r in rows]


@router.put("/pipelines/{name}")
def put_pipeline(
    name: str, session: SessionDep, token: Finance, text: Annotated[str, Body(media_type="application/yaml")]
) -> dict[str, Any]:
    """Save a new version from YAML text; errors name the line and field."""
    info = _call(service.save_pipeline, session, text, token.name or f"token {token.id}")
    if info["pipeline"] != name:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"the YAML names pipeline {info['pipeline']!r}, not {name!r}"
        )
    return info


@router.post("/pipelines/{name}/move")
def move(name: str, body: MoveIn, session: SessionDep, _t: Finance) -> dict[str, Any]:
    """Move open orders (or the listed ones) to the pipeline's newest version."""
    return _call(service.move_to_latest, session, name, body.order_ids)


@router.get("/orders/{order_id}")
def order(order_id: int, session: SessionDep, token: FinanceOrSales) -> dict[str, Any]:
    detail = _call(service.order_detail, session, order_id)
    if not can_see_payments(token, detail):  # the one ownership rule (hub.documents.ownership)
        raise HTTPException(status.HTTP_403_FORBIDDEN, "sales may read only the orders they own")
    return detail


@router.post("/orders/{order_id}/stages/{code}")
def record_stage(order_id: int, code: str, body: StageIn, session: SessionDep, token: Finance) -> dict[str, Any]:
    """Record that an order reached a stage (an acceptance, say) on a date."""
    return _call(service.record, session, order_id, code, body.date, token.name)


@router.put("/orders/{order_id}/plan")
def set_plan(order_id: int, body: PlanIn, session: SessionDep, _t: Finance) -> dict[str, Any]:
    return _call(service.set_plan, session, order_id, body.plan)


@router.put("/orders/{order_id}/opportunity", status_code=204)
def set_opportunity(order_id: int, body: OpportunityIn, session: SessionDep, _t: Finance) -> Response:
    _call(service.set_opportunity, session, order_id, body.opportunity_id)
    return Response(status_code=204)


@router.put("/instalments/{instalment_id}/blocked", status_code=204)
def block(instalment_id: int, body: BlockIn, session: SessionDep, _t: Finance) -> Response:
    _call(service.set_blocked, session, instalment_id, body.blocked)
    return Response(status_code=204)


@router.get("/alerts")
def alerts(
    session: SessionDep, _t: Finance, status_: Annotated[str | None, Query(alias="status")] = None
) -> list[dict[str, Any]]:
    return service.alerts(session, status_)


@router.post("/alerts/{alert_id}/acknowledge", status_code=204)
def acknowledge(alert_id: int, session: SessionDep, token: Finance) -> Response:
    _call(service.acknowledge, session, alert_id, token.name)
    return Response(status_code=204)


@router.post("/alerts/{alert_id}/snooze", status_code=204)
def snooze(alert_id: int, body: SnoozeIn, session: SessionDep, token: Finance) -> Response:
    _call(service.snooze, session, alert_id, body.until, token.name)
    return Response(status_code=204)


@router.post("/scan")
def run_scan(body: ScanIn, settings: SettingsDep, _t: Finance) -> dict[str, Any]:
    """Run the overdue scan now (beat runs it hourly); ``as_of`` defaults to today. Records it
    could not process are in ``set_aside`` (with the reason); everything else was done."""
    from hub.receivables.scan import scan

    return _call(scan, settings.database_url, settings.mappings_dir, body.as_of).as_dict()


@router.get("/set-aside")
def set_aside(
    session: SessionDep, _t: FinanceOrIt, limit: Annotated[int, Query(ge=1, le=10000)] = 1000
) -> list[dict[str, Any]]:
    """Orders and invoices a receivables job could not process (an overflowing figure, a date
    out of range, corrupt data), with the reason; the next scan retries them."""
    return service.set_aside(session, limit)


@router.get("/overdue")
def overdue(session: SessionDep, token: FinanceOrSales, as_of: date | None = None) -> list[dict[str, Any]]:
    owner = token.name if token.role == Role.sales else None
    return reports.overdue(session, as_of or date.today(), owner=owner)


@router.get("/ageing")
def ageing(
    session: SessionDep,
    _t: Finance,
    as_of: date | None = None,
    by: Literal["stage", "customer", "owner"] = "stage",
    buckets: Annotated[list[int] | None, Query(description="bucket edges in days, e.g. 30,60,90")] = None,
) -> dict[str, Any]:
    return reports.ageing(session, as_of or date.today(), by, buckets)


@router.get("/funnel")
def funnel(session: SessionDep, _t: Finance, pipeline: str | None = None) -> dict[str, Any]:
    return reports.funnel(session, pipeline)


@router.get("/counts/{field}")
def counts(field: str, session: SessionDep, _t: Finance) -> list[dict[str, Any]]:
    return _call(reports.code_counts, session, field)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/export/{report}.{fmt}",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}, "description": "The report as a file"}},
)
def export(
    report: str,
    fmt: Literal["csv", "xlsx"],
    session: SessionDep,
    _t: Finance,
    as_of: date | None = None,
    by: Literal["stage", "customer", "owner"] = "stage",
) -> Response:
    """``ageing``, ``funnel``, ``overdue`` or ``counts:<field>`` as CSV or XLSX."""
    rows = _call(reports.report_rows, session, report, as_of or date.today(), by)
    media = "text/csv" if fmt == "csv" else XLSX
    filename = f"{report.replace(':', '-')}.{fmt}"
    return Response(
        reports.export(rows, fmt, report.replace(":", "-")),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
