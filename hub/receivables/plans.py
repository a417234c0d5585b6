"""Enrolling orders in a pipeline and laying out their instalments.

An order is enrolled once, with the newest version of the first pipeline (by name) whose
``applies_to`` admits its status; the plan comes from the assignment rules unless someone
pinned one for that order. Moving orders to another version is always an explicit act.
An order whose plan cannot be laid out (a total beyond what the hub stores, corrupt data) is
set aside with its reason (``isolation.py``) and the others are enrolled.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.orm import Session

from hub.bulk import insert_rows
from hub.db import utcnow
from hub.documents.models import Order
from hub.receivables.isolation import MONEY_LIMIT, MONEY_TEXT, SetAsideLog, isolated, order_label
from hub.receivables.models import Instalment, PipelineVersion, ReceivableOrder
from hub.receivables.pipeline import Pipeline, load_version

CENT = Decimal("0.01")


def order_facts(order: Order) -> dict[str, str | None]:
    """What assignment rules can test. Order type and customer segment are not canonical
    fields yet: they are read from the order's mapped record (``type``, ``customer_segment``)."""
    data = order.data or {}
    return {
        "order_type": data.get("type") or data.get("order_type"),
        "customer_segment": data.get("customer_segment"),
        "currency": order.currency,
    }


def layout(order: Order, pipeline: Pipeline, plan_key: str, version_id: int) -> list[dict[str, Any]]:
    """The instalment rows of ``order`` under ``plan_key``: percent and fixed amounts first,
    the remainder takes what is left so the parts always add up to the order total."""
    plan = pipeline.plans[plan_key]
    total = Decimal(order.total or 0)
    if not total.is_finite() or abs(total) >= MONEY_LIMIT:
        raise ValueError(f"order total {total:.4g} is beyond the largest amount the hub keeps ({MONEY_TEXT})")
    amounts: list[Decimal] = []
    for template in plan.instalments:
        if template.percent is not None:
            amounts.append((total * template.percent / 100).quantize(CENT, ROUND_HALF_UP))
        elif template.fixed is not None:
            amounts.append(template.fixed)
        else:
            amounts.append(Decimal(0))
    for i, template in enumerate(plan.instalments):
        if template.remainder:
            amounts[i] = max(total - sum(amounts), Decimal(0))
    stages = [t.stage for t in plan.instalments]
    rows = []
    for seq, (template, amount) in enumerate(zip(plan.instalments, amounts, strict=True), start=1):
        suffix = f"-{seq}" if stages.count(template.stage) > 1 else ""
        rows.append(
            {
                "order_id": order.id,
                "pipeline_version_id": version_id,
                "seq": seq,
                "stage": template.stage,
                "reference": f"{order.number or order.id}/{template.stage}{suffix}",
                "amount": amount,
                "currency": order.currency,
                "due_days": template.due.days,
                "due_end_of_month": template.due.end_of_month,
                "grace_days": template.grace_days,
                "tolerance": template.tolerance,
                "invoiced": Decimal(0),
                "paid": Decimal(0),
                "credited": Decimal(0),
                "outstanding": amount,
                "status": "pending",
                "alert_level": 0,
                "alerted_level": 0,
                "blocked": False,
                "dirty": True,
                "updated_at": utcnow(),
            }
        )
    return rows


def enrol_new_orders(
    session: Session, versions: list[PipelineVersion], batch: int = 5000, log: SetAsideLog | None = None
) -> list[int]:
    """Enrol every order not enrolled yet that a pipeline admits; returns their ids. Orders
    that cannot be enrolled are set aside in ``log`` (and left out of the next batches)."""
    pipelines = [(v, load_version(session, v.id)) for v in versions]
    if not pipelines:
        return []
    log = log if log is not None else SetAsideLog()
    admitted = or_(*[p.applies_to.condition() for _v, p in pipelines])
    enrolled: list[int] = []
    while True:
        ids = list(
            session.scalars(  # ids only: reading them cannot fail on a bad row
                select(Order.id)
                .where(admitted, ~exists().where(ReceivableOrder.order_id == Order.id), log.not_set_aside(Order.id))
                .order_by(Order.id)
                .limit(batch)
            )
        )
        if not ids:
            return enrolled
        for done in isolated(
            session,
            log,
            "enrol",
            ids,
            lambda part: _enrol(session, pipelines, part),
            chunk=batch,
            label=order_label(session),
        ):
            enrolled += done


def _enrol(session: Session, pipelines: list[tuple[PipelineVersion, Pipeline]], ids: list[int]) -> list[int]:
    """Enrol these orders (one chunk, all or none)."""
    heads: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for order in session.scalars(select(Order).where(Order.id.in_(ids)).order_by(Order.id)):
        version, pipeline = next((v, p) for v, p in pipelines if p.applies_to.admits(order.status, order.reference))
        plan = pipeline.pick_plan(order_facts(order))
        heads.append(
            {
                "order_id": order.id,
                "pipeline_version_id": version.id,
                "plan": plan,
                "credit_hold": False,
                "plan_pinned": False,
                "stages_complete": False,
                "enrolled_at": utcnow(),
            }
        )
        lines += layout(order, pipeline, plan, version.id)
    insert_rows(session, ReceivableOrder, heads)
    insert_rows(session, Instalment, lines)
    session.flush()
    return [h["order_id"] for h in heads]


def relayout(session: Session, order_ids: Iterable[int], version: PipelineVersion, plan: str | None = None) -> int:
    """Move orders to ``version`` (and ``plan``, pinning it): instalments are laid out again,
    matched by reference so alerts and allocations of an unchanged instalment survive; trigger
    and due dates are cleared for stage detection to set them again from the stages reached."""
    pipeline = load_version(session, version.id)
    if plan is not None and plan not in pipeline.plans:
        raise ValueError(
            f"plan {plan!r} is not in pipeline {version.pipeline} v{version.version} "
            f"(plans: {', '.join(pipeline.plans)})"
        )
    moved = 0
    for order_id in order_ids:
        head = session.get(ReceivableOrder, order_id)
        order = session.get(Order, order_id)
        if head is None or order is None:
            raise LookupError(f"order {order_id} is not enrolled in a pipeline")
        if plan is not None:
            head.plan, head.plan_pinned = plan, True
        elif not head.plan_pinned or head.plan not in pipeline.plans:
            head.plan = pipeline.pick_plan(order_facts(order))
        head.pipeline_version_id, head.stages_complete = version.id, False  # its stages may differ
        existing = {i.reference: i for i in session.scalars(select(Instalment).where(Instalment.order_id == order_id))}
        keep = set()
        for row in layout(order, pipeline, head.plan, version.id):
            current = existing.get(row["reference"])
            row.update(trigger_date=None, due_date=None, overdue_from=None)
            if current is None:
                session.add(Instalment(**row))
                continue
            keep.add(current.id)
            for key in (
                "pipeline_version_id",
                "seq",
                "amount",
                "currency",
                "due_days",
                "due_end_of_month",
                "grace_days",
                "tolerance",
                "trigger_date",
                "due_date",
                "overdue_from",
                "dirty",
                "updated_at",
            ):
                setattr(current, key, row[key])
        gone = [i.id for i in existing.values() if i.id not in keep]
        if gone:
            session.execute(delete(Instalment).where(Instalment.id.in_(gone)))
        moved += 1
    session.flush()
    return moved


def open_orders_of(session: Session, pipeline_name: str) -> list[int]:
    """Orders on an older version of the pipeline that still have money to come."""
    return list(
        session.scalars(
            select(ReceivableOrder.order_id)
            .join(PipelineVersion)
            .where(
                PipelineVersion.pipeline == pipeline_name,
                exists().where(Instalment.order_id == ReceivableOrder.order_id, Instalment.status != "paid"),
            )
            .order_by(ReceivableOrder.order_id)
        )
    )
