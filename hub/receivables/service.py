"""What the API, the CLI and the pages call: one function per thing a person does."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import as_utc
from hub.documents.models import Opportunity, Order
from hub.receivables.allocation import allocate
from hub.receivables.models import (
    Alert,
    Instalment,
    InstalmentDue,
    OrderStage,
    PipelineVersion,
    ReceivableOrder,
    SetAside,
)
from hub.receivables.pipeline import latest, load_version, save_version
from hub.receivables.plans import open_orders_of, relayout
from hub.receivables.stages import record_stage


class NotFound(LookupError):
    pass


def _head(session: Session, order_id: int) -> ReceivableOrder:
    head = session.get(ReceivableOrder, order_id)
    if head is None:
        raise NotFound(f"order {order_id} is not enrolled in a pipeline (is it confirmed and synced?)")
    return head


def order_detail(session: Session, order_id: int) -> dict[str, Any]:
    head = _head(session, order_id)
    order = session.get(Order, order_id)
    version = session.get(PipelineVersion, head.pipeline_version_id)
    assert order is not None and version is not None
    stages = session.scalars(select(OrderStage).where(OrderStage.order_id == order_id)).all()
    instalments = session.scalars(select(Instalment).where(Instalment.order_id == order_id).order_by(Instalment.seq))
    dues: dict[int, list[dict[str, Any]]] = defaultdict(list)  # when each part is due: the ERP's maturities
    for due in session.scalars(
        select(InstalmentDue)
        .join(Instalment)
        .where(Instalment.order_id == order_id)
        .order_by(InstalmentDue.due_date, InstalmentDue.id)
    ):
        dues[due.instalment_id].append(
            {"invoice_id": due.invoice_id, "due_date": due.due_date, "amount": due.amount, "paid": due.paid}
        )
    return {
        "order_id": order_id,
        "number": order.number,
        "reference": order.reference,
        "total": order.total,
        "currency": order.currency,
        "pipeline": version.pipeline,
        "version": version.version,
        "plan": head.plan,
        "plan_pinned": head.plan_pinned,
        "opportunity_id": head.opportunity_id,
        "owner": head.owner,
        "credit_hold": head.credit_hold,
        "stages": [
            {"stage": s.stage, "reached_on": s.reached_on.isoformat(), "source": s.source, "recorded_by": s.recorded_by}
            for s in stages
        ],
        "instalments": [
            {
                "id": i.id,
                "seq": i.seq,
                "stage": i.stage,
                "reference": i.reference,
                "amount": i.amount,
                "currency": i.currency,
                "trigger_date": i.trigger_date,
                "due_date": i.due_date,
                "invoiced": i.invoiced,
                "paid": i.paid,
                "credited": i.credited,
                "outstanding": i.outstanding,
                "status": i.status,
                "alert_level": i.alert_level,
                "blocked": i.blocked,
                "dues": dues.get(i.id, []),
            }
            for i in instalments
        ],
    }


def owner_of(session: Session, order_id: int) -> str | None:
    return _head(session, order_id).owner


def record(session: Session, order_id: int, stage: str, on: date, by: str) -> dict[str, Any]:
    head = _head(session, order_id)
    row = record_stage(session, order_id, stage, on, by, load_version(session, head.pipeline_version_id))
    return {
        "order_id": order_id,
        "stage": row.stage,
        "reached_on": row.reached_on.isoformat(),
        "source": row.source,
        "recorded_by": row.recorded_by,
    }


def set_opportunity(session: Session, order_id: int, opportunity_id: int) -> None:
    head = _head(session, order_id)
    opportunity = session.get(Opportunity, opportunity_id)
    if opportunity is None:
        raise NotFound(f"opportunity {opportunity_id} does not exist")
    head.opportunity_id, head.owner = opportunity_id, opportunity.owner or head.owner


def set_plan(session: Session, order_id: int, plan: str) -> dict[str, Any]:
    head = _head(session, order_id)
    version = session.get(PipelineVersion, head.pipeline_version_id)
    assert version is not None
    relayout(session, [order_id], version, plan)
    return _after_relayout(session, [order_id])[0]


def move_to_latest(session: Session, pipeline: str, order_ids: list[int] | None) -> dict[str, Any]:
    """Move open orders (all, or the listed ones) to the pipeline's newest version."""
    version = latest(session, pipeline)
    if version is None:
        raise NotFound(f"pipeline {pipeline!r} has no version")
    ids = order_ids if order_ids is not None else open_orders_of(session, pipeline)
    relayout(session, ids, version)
    _after_relayout(session, ids)
    return {"pipeline": pipeline, "version": version.version, "moved": len(ids)}


def _after_relayout(session: Session, order_ids: list[int]) -> list[dict[str, Any]]:
    from hub.receivables.stages import date_instalments

    date_instalments(session)
    allocate(session, order_ids)
    return [order_detail(session, o) for o in order_ids]


def save_pipeline(session: Session, text: str, by: str) -> dict[str, Any]:
    row = save_version(session, text, f"api:{by}")
    return version_info(row)


def version_info(row: PipelineVersion) -> dict[str, Any]:
    return {
        "pipeline": row.pipeline,
        "version": row.version,
        "origin": row.origin,
        "digest": row.digest,
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }


def set_blocked(session: Session, instalment_id: int, blocked: bool) -> None:
    instalment = session.get(Instalment, instalment_id)
    if instalment is None:
        raise NotFound(f"instalment {instalment_id} does not exist")
    instalment.blocked = blocked
    instalment.dirty = True  # the next scan sets its level (0 while blocked)


def alerts(session: Session, status: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    query = select(Alert, Instalment.reference).join(Instalment).order_by(Alert.id.desc()).limit(limit)
    if status:
        query = query.where(Alert.status == status)
    return [
        {
            "id": a.id,
            "instalment_id": a.instalment_id,
            "reference": ref,
            "level": a.level,
            "raised_on": a.raised_on.isoformat(),
            "status": a.status,
            "credit_hold": a.credit_hold,
            "snoozed_until": a.snoozed_until.isoformat() if a.snoozed_until else None,
            "acknowledged_by": a.acknowledged_by,
            "resolved_on": a.resolved_on.isoformat() if a.resolved_on else None,
        }
        for a, ref in session.execute(query)
    ]


def acknowledge(session: Session, alert_id: int, by: str) -> Alert:
    """Finance has seen the alert; a higher level still raises its own. A resolved alert (paid)
    is refused rather than silently left as it is."""
    alert = _open_alert(session, alert_id)
    alert.status, alert.acknowledged_by = "acknowledged", by
    return alert


def snooze(session: Session, alert_id: int, until: date, by: str) -> Alert:
    """No further alert for the instalment until ``until`` (the scan holds its next level back)."""
    alert = _open_alert(session, alert_id)
    alert.status, alert.snoozed_until, alert.acknowledged_by = "snoozed", until, by
    return alert


def _open_alert(session: Session, alert_id: int) -> Alert:
    alert = _alert(session, alert_id)
    if alert.status == "resolved":
        raise ValueError(f"alert {alert_id} was resolved on {alert.resolved_on} (paid): nothing to acknowledge")
    return alert


def _alert(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} does not exist")
    return alert


def set_aside(session: Session, limit: int = 1000) -> list[dict[str, Any]]:
    """Records receivables jobs set aside, newest first: what, where, why, since when, how
    often tried. The next scan retries each; correcting the data clears it."""
    rows = session.scalars(select(SetAside).order_by(SetAside.set_aside_at.desc(), SetAside.id.desc()).limit(limit))
    return [
        {
            "record": r.record,
            "id": r.record_id,
            "label": r.label,
            "step": r.step,
            "reason": r.reason,
            "attempts": r.attempts,
            "scan_id": r.scan_id,
            "first_set_aside_at": as_utc(r.first_set_aside_at).isoformat(),
            "set_aside_at": as_utc(r.set_aside_at).isoformat(),
        }
        for r in rows
    ]
