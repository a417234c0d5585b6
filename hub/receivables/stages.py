"""Which stage each order has reached, from events the hub already sees — set-based.

``detect`` runs a handful of ``INSERT … SELECT`` / ``UPDATE`` statements per pipeline version
and trigger, whatever the number of orders, over the orders that have a stage still to reach
(``stages_complete``, a partial index): call it after a sync page or let the scan call it.
A stage is reached once; its date is the event's date (the won deal's close date, the order
date, the shipment's effective date), or the scan's date when the event carries none. A statement failing on one order's rows (a
date out of range, say) is retried on halves of its orders until that order is set aside
(``isolation.py``); the others reach their stages.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, case, exists, false, func, insert, literal, select, true, update
from sqlalchemy.orm import Session

from hub.db import rowcount, utcnow
from hub.documents.models import Opportunity, Order, Shipment
from hub.receivables.isolation import SetAsideLog, guarded, order_label
from hub.receivables.models import Instalment, OrderStage, ReceivableOrder
from hub.receivables.pipeline import Pipeline
from hub.receivables.sqldates import add_days, month_end


def link_opportunities(session: Session, versions: dict[int, Pipeline]) -> None:
    """Orders without an opportunity take the one the pipeline's link rule names; owners come
    from the opportunity."""
    for version_id, pipeline in versions.items():
        field = getattr(Order, pipeline.opportunity_link.order_field)
        match = (
            select(func.min(Opportunity.id))
            .join(Order, Opportunity.number == field)
            .where(Order.id == ReceivableOrder.order_id)
            .scalar_subquery()
        )
        found = (
            select(Opportunity.id)
            .join(Order, Opportunity.number == field)
            .where(Order.id == ReceivableOrder.order_id)
            .exists()
        )
        session.execute(
            update(ReceivableOrder)
            .where(ReceivableOrder.pipeline_version_id == version_id, ReceivableOrder.opportunity_id.is_(None), found)
            .values(opportunity_id=match)
            .execution_options(synchronize_session=False)
        )
    owner = select(Opportunity.owner).where(Opportunity.id == ReceivableOrder.opportunity_id).scalar_subquery()
    session.execute(
        update(ReceivableOrder)
        .where(ReceivableOrder.owner.is_(None), ReceivableOrder.opportunity_id.is_not(None))
        .values(owner=owner)
        .execution_options(synchronize_session=False)
    )


def _only(column: Any, ids: list[int] | None) -> Any:
    """The fast path's rows (``ids`` None: all), or just these, when looking for a culprit."""
    return true() if ids is None else column.in_(ids)


def detect(session: Session, versions: dict[int, Pipeline], as_of: date, log: SetAsideLog | None = None) -> int:
    """Record newly reached stages and date the instalments they trigger; returns how many
    stages were reached."""
    log = log if log is not None else SetAsideLog()
    link_opportunities(session, versions)
    reached = 0
    today = literal(as_of)
    for version_id, pipeline in versions.items():
        for stage in pipeline.stages:
            for trigger in stage.reached_by:
                not_yet = ~exists().where(
                    OrderStage.order_id == ReceivableOrder.order_id, OrderStage.stage == stage.code
                )
                base = and_(
                    ReceivableOrder.pipeline_version_id == version_id,
                    ReceivableOrder.stages_complete == false(),
                    not_yet,
                    log.not_set_aside(ReceivableOrder.order_id),
                )
                if trigger.opportunity_stage:
                    query = (
                        select(
                            ReceivableOrder.order_id,
                            func.coalesce(Opportunity.expected_close, today),
                            literal("opportunity"),
                        )
                        .join(Opportunity, Opportunity.id == ReceivableOrder.opportunity_id)
                        .where(base, Opportunity.stage.in_(trigger.opportunity_stage))
                    )
                elif trigger.order_status:
                    query = (
                        select(ReceivableOrder.order_id, func.coalesce(Order.ordered_on, today), literal("order"))
                        .join(Order, Order.id == ReceivableOrder.order_id)
                        .where(base, Order.status.in_(trigger.order_status))
                    )
                elif trigger.shipment_status:
                    query = (
                        select(
                            ReceivableOrder.order_id,
                            func.min(func.coalesce(Shipment.shipped_on, Shipment.planned_on, today)),
                            literal("shipment"),
                        )
                        .join(Shipment, Shipment.order_id == ReceivableOrder.order_id)
                        .where(base, Shipment.status.in_(trigger.shipment_status))
                        .group_by(ReceivableOrder.order_id)
                    )
                else:
                    continue  # recorded by hand: record_stage
                query = query.add_columns(literal(stage.code), literal(utcnow()))

                def run(ids: list[int] | None, query: Any = query) -> int:
                    result = session.execute(
                        insert(OrderStage)
                        .from_select(
                            ["order_id", "reached_on", "source", "stage", "created_at"],
                            query.where(_only(ReceivableOrder.order_id, ids)),
                        )
                        .execution_options(preserve_rowcount=True)
                    )
                    return rowcount(result)

                def touched(base: Any = base) -> list[int]:
                    return list(session.scalars(select(ReceivableOrder.order_id).where(base)))

                reached += sum(guarded(session, log, "stages", run, touched, label=order_label(session)))
        _mark_complete(session, version_id, pipeline)
    date_instalments(session, log)
    return reached


def _mark_complete(session: Session, version_id: int, pipeline: Pipeline) -> None:
    """Orders that reached every stage of their version are left out of detection from now on
    (a stage once reached stays; moving to another version clears the mark)."""
    codes = [s.code for s in pipeline.stages]
    have = (
        select(func.count())
        .where(OrderStage.order_id == ReceivableOrder.order_id, OrderStage.stage.in_(codes))
        .scalar_subquery()
    )
    session.execute(
        update(ReceivableOrder)
        .where(
            ReceivableOrder.pipeline_version_id == version_id,
            ReceivableOrder.stages_complete == false(),
            have == len(codes),
        )
        .values(stages_complete=True)
        .execution_options(synchronize_session=False)
    )


def date_instalments(session: Session, log: SetAsideLog | None = None) -> None:
    """Instalments whose stage is reached get trigger, due and overdue-from dates (and are
    ``dirty`` for the scan); partial indexes keep both statements to the undated rows. An
    order whose dates cannot be computed (out of the calendar's range) is set aside."""
    log = log if log is not None else SetAsideLog()
    reached_on = (
        select(OrderStage.reached_on)
        .where(OrderStage.order_id == Instalment.order_id, OrderStage.stage == Instalment.stage)
        .scalar_subquery()
    )
    due = case(
        (Instalment.due_end_of_month, add_days(month_end(Instalment.trigger_date), Instalment.due_days)),
        else_=add_days(Instalment.trigger_date, Instalment.due_days),
    )
    skip = log.not_set_aside(Instalment.order_id)

    def run(ids: list[int] | None) -> None:
        only = _only(Instalment.order_id, ids)
        session.execute(
            update(Instalment)
            .where(
                Instalment.trigger_date.is_(None),
                only,
                skip,
                exists().where(OrderStage.order_id == Instalment.order_id, OrderStage.stage == Instalment.stage),
            )
            .values(trigger_date=reached_on, dirty=True)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Instalment)
            .where(Instalment.trigger_date.is_not(None), Instalment.due_date.is_(None), only, skip)
            .values(due_date=due, overdue_from=add_days(due, Instalment.grace_days), dirty=True, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )

    guarded(
        session,
        log,
        "stages",
        run,
        lambda: list(
            session.scalars(
                select(Instalment.order_id)
                .distinct()
                .where(
                    Instalment.due_date.is_(None),
                    Instalment.trigger_date.is_not(None)
                    | exists().where(OrderStage.order_id == Instalment.order_id, OrderStage.stage == Instalment.stage),
                )
            )
        ),
        label=order_label(session),
    )


def record_stage(session: Session, order_id: int, stage: str, on: date, by: str, pipeline: Pipeline) -> OrderStage:
    """An acceptance (or any stage) recorded by a person; a stage already reached keeps its
    first date (and the call says so by returning that row)."""
    if pipeline.stage(stage) is None:
        raise ValueError(
            f"stage {stage!r} is not in pipeline {pipeline.name!r} "
            f"(stages: {', '.join(s.code for s in pipeline.stages)})"
        )
    existing = session.scalar(select(OrderStage).where(OrderStage.order_id == order_id, OrderStage.stage == stage))
    if existing is not None:
        return existing
    row = OrderStage(order_id=order_id, stage=stage, reached_on=on, source="recorded", recorded_by=by)
    session.add(row)
    session.flush()
    date_instalments(session)
    return row
