"""Finance views: ageing, funnel, counts per code value, the overdue list, and exports.

Each view is one grouped query (the database does the summing over a million instalments);
Python only pivots the handful of groups it returns. Ageing buckets are days past the due date,
with the edges from the pipeline (``ageing_buckets``) or the caller.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from hub.documents.models import Opportunity, Order, ServiceCase
from hub.master.models import GoldenCustomer
from hub.receivables.models import Alert, Instalment, OrderStage, ReceivableOrder
from hub.receivables.pipeline import current_versions, load_version

AgeingBy = Literal["stage", "customer", "owner"]
COUNTABLE = {
    "loss_reason": Opportunity.loss_reason,
    "opportunity_stage": Opportunity.stage,
    "order_status": Order.status,
    "instalment_status": Instalment.status,
    "alert_level": Instalment.alert_level,
    "case_status": ServiceCase.status,
}


def bucket_labels(edges: list[int]) -> list[str]:
    labels, low = ["current"], 1
    for edge in edges:
        labels.append(f"{low}-{edge}")
        low = edge + 1
    return labels + [f"{edges[-1]}+"]


def default_buckets(session: Session) -> list[int]:
    versions = current_versions(session)
    return load_version(session, versions[0].id).ageing_buckets if versions else [30, 60, 90]


def ageing(session: Session, as_of: date, by: AgeingBy = "stage", buckets: list[int] | None = None) -> dict[str, Any]:
    """Outstanding money of instalments past their trigger, by days past due."""
    edges = buckets or default_buckets(session)
    labels = bucket_labels(edges)
    bucket = case(
        (Instalment.due_date >= as_of, labels[0]),
        *[(Instalment.due_date >= as_of - timedelta(days=edge), labels[i + 1]) for i, edge in enumerate(edges)],
        else_=labels[-1],
    )
    # group by a narrow key (an id), and name the few groups afterwards, not the million rows
    key = {"stage": Instalment.stage, "customer": Order.customer_id, "owner": ReceivableOrder.owner}[by]
    query = select(key.label("key"), Instalment.currency, bucket.label("bucket"), func.sum(Instalment.outstanding),
                   func.count()).where(
        Instalment.due_date.is_not(None), Instalment.status != "paid", Instalment.outstanding > 0)
    if by == "customer":
        query = query.join(Order, Order.id == Instalment.order_id)
    elif by == "owner":
        query = query.join(ReceivableOrder, ReceivableOrder.order_id == Instalment.order_id)
    query = query.group_by(key, Instalment.currency, bucket)
    if by == "customer":
        groups = query.subquery()
        query = select(func.coalesce(GoldenCustomer.name, "(unknown)"), *list(groups.c)[1:]).outerjoin_from(
            groups, GoldenCustomer, GoldenCustomer.id == groups.c.key)
    elif by == "owner":
        groups = query.subquery()
        query = select(func.coalesce(groups.c.key, "(none)"), *list(groups.c)[1:])
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for name, currency, label, amount, count in session.execute(query):
        row = rows.setdefault((name, currency or ""), {by: name, "currency": currency, **{lb: 0.0 for lb in labels},
                                                       "total": 0.0, "instalments": 0})
        row[label] += float(amount or 0)
        row["total"] += float(amount or 0)
        row["instalments"] += count
    return {"as_of": as_of.isoformat(), "by": by, "buckets": labels,
            "rows": sorted(rows.values(), key=lambda r: (-r["total"], str(r[by])))}


def funnel(session: Session, pipeline: str | None = None) -> dict[str, Any]:
    """Orders and order value per stage reached, and the share that went on to the next."""
    versions = [v for v in current_versions(session) if pipeline in (None, v.pipeline)]
    if not versions:
        return {"pipeline": pipeline, "stages": []}
    spec = load_version(session, versions[0].id)
    from hub.receivables.models import PipelineVersion

    counts = {code: (n, value) for code, n, value in session.execute(
        select(OrderStage.stage, func.count(), func.coalesce(func.sum(Order.total), 0))
        .join(Order, Order.id == OrderStage.order_id)
        .join(ReceivableOrder, ReceivableOrder.order_id == Order.id)
        .join(PipelineVersion, PipelineVersion.id == ReceivableOrder.pipeline_version_id)
        .where(PipelineVersion.pipeline == spec.name).group_by(OrderStage.stage))}
    enrolled = session.scalar(select(func.count()).select_from(ReceivableOrder).join(PipelineVersion)
                              .where(PipelineVersion.pipeline == spec.name)) or 0
    out, previous = [], enrolled
    for stage in spec.ordered_stages():
        n, value = counts.get(stage.code, (0, 0))
        out.append({"stage": stage.code, "name": stage.name, "orders": n, "value": float(value),
                    "conversion": round(n / previous, 4) if previous else None})
        previous = n
    return {"pipeline": spec.name, "enrolled": enrolled, "stages": out}


def code_counts(session: Session, field: str) -> list[dict[str, Any]]:
    column = COUNTABLE.get(field)
    if column is None:
        raise ValueError(f"cannot count {field!r}; countable: {', '.join(COUNTABLE)}")
    rows = session.execute(select(column, func.count()).group_by(column).order_by(func.count().desc(), column))
    return [{"value": value, "count": n} for value, n in rows]


def overdue(session: Session, as_of: date, owner: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Overdue instalments, worst first, with their open alert."""
    open_alert = (select(func.max(Alert.id)).where(Alert.instalment_id == Instalment.id,
                                                   Alert.status != "resolved").scalar_subquery())
    query = (select(Instalment, Order.number, GoldenCustomer.name, ReceivableOrder.owner, ReceivableOrder.credit_hold,
                    open_alert)
             .join(Order, Order.id == Instalment.order_id)
             .join(ReceivableOrder, ReceivableOrder.order_id == Order.id)
             .outerjoin(GoldenCustomer, GoldenCustomer.id == Order.customer_id)
             .where(Instalment.status == "overdue")
             .order_by(Instalment.alert_level.desc(), Instalment.overdue_from, Instalment.id).limit(limit))
    if owner is not None:
        query = query.where(ReceivableOrder.owner == owner)
    alerts = {}
    rows = session.execute(query).all()
    ids = [r[5] for r in rows if r[5]]
    if ids:
        alerts = {a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_(ids)))}
    out = []
    for inst, number, customer, sales_owner, hold, alert_id in rows:
        alert = alerts.get(alert_id)
        out.append({
            "instalment_id": inst.id, "order_id": inst.order_id, "order": number, "customer": customer,
            "sales_owner": sales_owner, "stage": inst.stage, "reference": inst.reference,
            "due_date": inst.due_date.isoformat() if inst.due_date else None,
            "days_overdue": (as_of - inst.overdue_from).days if inst.overdue_from else None,
            "amount": float(inst.amount), "invoiced": float(inst.invoiced), "paid": float(inst.paid),
            "outstanding": float(inst.outstanding), "currency": inst.currency, "level": inst.alert_level,
            "blocked": inst.blocked, "credit_hold": hold,
            "alert": None if alert is None else {"id": alert.id, "level": alert.level, "status": alert.status,
                                                  "snoozed_until": alert.snoozed_until.isoformat() if alert.snoozed_until else None},
        })
    return out


def export(rows: list[dict[str, Any]], fmt: Literal["csv", "xlsx"], sheet: str = "report") -> bytes:
    """A report as CSV (UTF-8 with BOM, which Excel opens correctly) or XLSX."""
    import pandas as pd

    frame = pd.json_normalize(rows) if rows else pd.DataFrame()
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8-sig")
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=sheet[:31])
    return buffer.getvalue()


def report_rows(session: Session, name: str, as_of: date, by: AgeingBy = "stage") -> list[dict[str, Any]]:
    """The rows of a named report, for exports."""
    if name == "ageing":
        return ageing(session, as_of, by)["rows"]
    if name == "funnel":
        return funnel(session)["stages"]
    if name == "overdue":
        return overdue(session, as_of, limit=1_000_000)
    if name.startswith("counts:"):
        return code_counts(session, name.split(":", 1)[1])
    raise ValueError(f"unknown report {name!r}; reports: ageing, funnel, overdue, counts:<field>")
