"""Finance views: ageing, funnel, counts per code value, the overdue list, and exports.

Each view is one grouped query (the database does the summing over a million instalments);
Python only pivots the handful of groups it returns. Ageing buckets are days past the due date,
with the edges from the pipeline (``ageing_buckets``) or the caller. Orders set aside (figures
or dates a job could not process) are left out of every view until corrected; the finance
page and ``GET …/set-aside`` list them. The overdue list reads
rows into Python: a row it cannot read (a date or figure written around the hub) sets its
order aside (``isolation.py``, step ``report``) and the list shows the others. Exports go
through ``hub.exports``: no text from the data becomes a spreadsheet formula.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import case, exists, func, select, union_all
from sqlalchemy.orm import Session

from hub.documents.models import Opportunity, Order, ServiceCase
from hub.exports import table_bytes
from hub.master.models import GoldenCustomer
from hub.receivables.isolation import SetAsideLog, guarded, not_set_aside, order_label
from hub.receivables.models import Alert, Instalment, InstalmentDue, OrderStage, ReceivableOrder
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
    """Open money by days past its due date. What is open at each date counts at that date: an
    invoiced instalment's money at its invoice's maturities (``instalment_dues``), the rest of
    it at the plan's date; an instalment no invoice touched, its outstanding at its due date."""
    edges = buckets or default_buckets(session)
    labels = bucket_labels(edges)
    dues = union_all(
        select(
            Instalment.id.label("instalment_id"),
            Instalment.due_date.label("due_date"),
            Instalment.outstanding.label("open"),
        ).where(
            Instalment.due_date.is_not(None),
            Instalment.outstanding > 0,
            ~exists().where(InstalmentDue.instalment_id == Instalment.id),
        ),
        select(InstalmentDue.instalment_id, InstalmentDue.due_date, (InstalmentDue.amount - InstalmentDue.paid)),
    ).subquery("dues")
    bucket = case(
        (dues.c.due_date >= as_of, labels[0]),
        *[(dues.c.due_date >= as_of - timedelta(days=edge), labels[i + 1]) for i, edge in enumerate(edges)],
        else_=labels[-1],
    )
    # group by a narrow key (an id), and name the few groups afterwards, not the million rows
    key = {"stage": Instalment.stage, "customer": Order.customer_id, "owner": ReceivableOrder.owner}[by]
    query = (
        select(
            key.label("key"),
            Instalment.currency,
            bucket.label("bucket"),
            func.sum(dues.c.open),
            func.count(func.distinct(Instalment.id)),
        )
        .select_from(Instalment)
        .join(dues, dues.c.instalment_id == Instalment.id)
        .where(
            dues.c.due_date.is_not(None),
            Instalment.status != "paid",
            dues.c.open > 0,
            not_set_aside(session, Instalment.order_id),
        )
    )
    if by == "customer":
        query = query.join(Order, Order.id == Instalment.order_id)
    elif by == "owner":
        query = query.join(ReceivableOrder, ReceivableOrder.order_id == Instalment.order_id)
    query = query.group_by(key, Instalment.currency, bucket)
    if by == "customer":
        groups = query.subquery()
        query = select(func.coalesce(GoldenCustomer.name, "(unknown)"), *list(groups.c)[1:]).outerjoin_from(
            groups, GoldenCustomer, GoldenCustomer.id == groups.c.key
        )
    elif by == "owner":
        groups = query.subquery()
        query = select(func.coalesce(groups.c.key, "(none)"), *list(groups.c)[1:])
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for name, currency, label, amount, count in session.execute(query):
        row = rows.setdefault(
            (name, currency or ""),
            {by: name, "currency": currency, **{lb: 0.0 for lb in labels}, "total": 0.0, "instalments": 0},
        )
        row[label] += float(amount or 0)
        row["total"] += float(amount or 0)
        row["instalments"] += count
    return {
        "as_of": as_of.isoformat(),
        "by": by,
        "buckets": labels,
        "rows": sorted(rows.values(), key=lambda r: (-r["total"], str(r[by]))),
    }


def funnel(session: Session, pipeline: str | None = None) -> dict[str, Any]:
    """Orders and order value per stage reached, and the share that went on to the next."""
    versions = [v for v in current_versions(session) if pipeline in (None, v.pipeline)]
    if not versions:
        return {"pipeline": pipeline, "stages": []}
    spec = load_version(session, versions[0].id)
    from hub.receivables.models import PipelineVersion

    counts = {
        code: (n, value)
        for code, n, value in session.execute(
            select(OrderStage.stage, func.count(), func.coalesce(func.sum(Order.total), 0))
            .join(Order, Order.id == OrderStage.order_id)
            .join(ReceivableOrder, ReceivableOrder.order_id == Order.id)
            .join(PipelineVersion, PipelineVersion.id == ReceivableOrder.pipeline_version_id)
            .where(PipelineVersion.pipeline == spec.name, not_set_aside(session, Order.id))
            .group_by(OrderStage.stage)
        )
    }
    enrolled = (
        session.scalar(
            select(func.count())
            .select_from(ReceivableOrder)
            .join(PipelineVersion)
            .where(PipelineVersion.pipeline == spec.name)
        )
        or 0
    )
    out, previous = [], enrolled
    for stage in spec.ordered_stages():
        n, value = counts.get(stage.code, (0, 0))
        out.append(
            {
                "stage": stage.code,
                "name": stage.name,
                "orders": n,
                "value": float(value or 0),
                "conversion": round(n / previous, 4) if previous else None,
            }
        )
        previous = n
    return {"pipeline": spec.name, "enrolled": enrolled, "stages": out}


def code_counts(session: Session, field: str) -> list[dict[str, Any]]:
    column = COUNTABLE.get(field)
    if column is None:
        raise ValueError(f"cannot count {field!r}; countable: {', '.join(COUNTABLE)}")
    rows = session.execute(select(column, func.count()).group_by(column).order_by(func.count().desc(), column))
    return [{"value": value, "count": n} for value, n in rows]


def _overdue_where(
    session: Session, owner: str | None = None, stage: str | None = None, customer_id: int | None = None
) -> list[Any]:
    """The overdue rows, narrowed by the finance page's filters (the query joins ReceivableOrder)."""
    where = [Instalment.status == "overdue", not_set_aside(session, Instalment.order_id)]
    if owner is not None:
        where.append(ReceivableOrder.owner == owner)
    if stage is not None:
        where.append(Instalment.stage == stage)
    if customer_id is not None:
        where.append(Instalment.order_id.in_(select(Order.id).where(Order.customer_id == customer_id)))
    return where


def overdue_totals(
    session: Session, owner: str | None = None, stage: str | None = None, customer_id: int | None = None
) -> list[dict[str, Any]]:
    """Outstanding money past due date + grace, per currency, over every overdue row (not a page)."""
    query = (
        select(Instalment.currency, func.sum(Instalment.outstanding), func.count())
        .join(ReceivableOrder, ReceivableOrder.order_id == Instalment.order_id)
        .where(*_overdue_where(session, owner, stage, customer_id))
        .group_by(Instalment.currency)
        .order_by(func.sum(Instalment.outstanding).desc())
    )
    return [{"currency": c, "outstanding": float(t or 0), "instalments": n} for c, t, n in session.execute(query)]


def overdue_choices(session: Session, limit: int = 200) -> dict[str, list[Any]]:
    """What the finance page's filters offer: the stages, sales owners and customers that have
    overdue rows (bounded: the most frequent first)."""
    where = _overdue_where(session)
    base = select(Instalment.id).join(ReceivableOrder, ReceivableOrder.order_id == Instalment.order_id)
    ids = base.where(*where).subquery()
    stages = session.scalars(
        select(Instalment.stage)
        .where(Instalment.id.in_(select(ids.c.id)))
        .group_by(Instalment.stage)
        .order_by(Instalment.stage)
    )
    owners = session.scalars(
        select(ReceivableOrder.owner)
        .join(Instalment, Instalment.order_id == ReceivableOrder.order_id)
        .where(*where, ReceivableOrder.owner.is_not(None))
        .group_by(ReceivableOrder.owner)
        .order_by(ReceivableOrder.owner)
        .limit(limit)
    )
    customers = session.execute(
        select(GoldenCustomer.id, GoldenCustomer.name)
        .join(Order, Order.customer_id == GoldenCustomer.id)
        .join(Instalment, Instalment.order_id == Order.id)
        .join(ReceivableOrder, ReceivableOrder.order_id == Order.id)
        .where(*where)
        .group_by(GoldenCustomer.id, GoldenCustomer.name)
        .order_by(GoldenCustomer.name, GoldenCustomer.id)
        .limit(limit)
    )
    return {"stages": list(stages), "owners": list(owners), "customers": [(i, n) for i, n in customers]}


def overdue(
    session: Session,
    as_of: date,
    owner: str | None = None,
    limit: int = 500,
    log: SetAsideLog | None = None,
    stage: str | None = None,
    customer_id: int | None = None,
) -> list[dict[str, Any]]:
    """Overdue instalments, worst first, with their open alert. Orders whose rows cannot be
    read are set aside (in ``log``, else recorded for the next scan to re-check) and left out."""
    log = log if log is not None else SetAsideLog()
    where = _overdue_where(session, owner, stage, customer_id)
    order_by = (Instalment.alert_level.desc(), Instalment.overdue_from, Instalment.id)

    def candidates() -> list[int]:  # the orders of the list, read as ids only
        ids = session.scalars(
            select(Instalment.order_id)
            .join(ReceivableOrder, ReceivableOrder.order_id == Instalment.order_id)
            .where(*where)
            .order_by(*order_by)
            .limit(limit)
        )
        return list(dict.fromkeys(ids))

    parts = guarded(
        session,
        log,
        "report",
        lambda ids: _overdue_rows(
            session, as_of, [*where, *([] if ids is None else [Instalment.order_id.in_(ids)])], order_by, limit
        ),
        candidates,
        label=order_label(session),
    )
    rows = [row for part in parts for row in part]
    if len(parts) > 1:  # culprits were looked for a chunk of orders at a time: worst first again
        rows.sort(key=lambda r: r["_key"])
    for row in rows:
        del row["_key"]
    return rows[:limit]


def overdue_of(session: Session, order_id: int) -> list[dict[str, Any]]:
    """One order's overdue rows (what the scan reads again for an order a report set aside)."""
    return _overdue_rows(
        session,
        date.today(),
        [Instalment.status == "overdue", Instalment.order_id == order_id],
        (Instalment.id,),
        1_000_000,
    )


def _overdue_rows(
    session: Session, as_of: date, where: list[Any], order_by: tuple[Any, ...], limit: int
) -> list[dict[str, Any]]:
    open_alert = (
        select(func.max(Alert.id))
        .where(Alert.instalment_id == Instalment.id, Alert.status != "resolved")
        .scalar_subquery()
    )
    query = (
        select(
            Instalment,
            Order.number,
            GoldenCustomer.name,
            ReceivableOrder.owner,
            ReceivableOrder.credit_hold,
            open_alert,
        )
        .join(Order, Order.id == Instalment.order_id)
        .join(ReceivableOrder, ReceivableOrder.order_id == Order.id)
        .outerjoin(GoldenCustomer, GoldenCustomer.id == Order.customer_id)
        .where(*where)
        .order_by(*order_by)
        .limit(limit)
    )
    alerts = {}
    rows = session.execute(query).all()
    ids = [r[5] for r in rows if r[5]]
    if ids:
        alerts = {a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_(ids)))}
    out = []
    for position, (inst, number, customer, sales_owner, hold, alert_id) in enumerate(rows):
        alert = alerts.get(alert_id)
        out.append(
            {
                "instalment_id": inst.id,
                "order_id": inst.order_id,
                "order": number,
                "customer": customer,
                "sales_owner": sales_owner,
                "stage": inst.stage,
                "reference": inst.reference,
                "due_date": inst.due_date.isoformat() if inst.due_date else None,
                "days_overdue": (as_of - inst.overdue_from).days if inst.overdue_from else None,  # past grace
                "days_past_due": (as_of - inst.due_date).days if inst.due_date else None,
                "amount": float(inst.amount),
                "invoiced": float(inst.invoiced),
                "paid": float(inst.paid),
                "outstanding": float(inst.outstanding),
                "currency": inst.currency,
                "level": inst.alert_level,
                "blocked": inst.blocked,
                "credit_hold": hold,
                "alert": None
                if alert is None
                else {
                    "id": alert.id,
                    "level": alert.level,
                    "status": alert.status,
                    "snoozed_until": alert.snoozed_until.isoformat() if alert.snoozed_until else None,
                    "acknowledged_by": alert.acknowledged_by,
                },
                "_key": (-inst.alert_level, inst.overdue_from or date.max, inst.id, position),
            }
        )
    return out


def export(rows: list[dict[str, Any]], fmt: Literal["csv", "xlsx"], sheet: str = "report") -> bytes:
    """A report as CSV (UTF-8 with BOM, which Excel opens correctly) or XLSX, formula-safe."""
    return table_bytes(rows, fmt, sheet)


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
