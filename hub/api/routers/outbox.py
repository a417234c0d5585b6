"""The outbox for IT: what waits to go where, what failed and why, and replaying it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field
from sqlalchemy import select

from hub.api.deps import DispatcherDep, ItRole, SessionDep
from hub.bounds import Id, Input, text
from hub.outbox.models import OutboxDelivery

router = APIRouter(prefix="/api/v1/outbox", tags=["outbox"])


@router.get("")
def outbox_counts(dispatcher: DispatcherDep, _token: ItRole) -> dict[str, dict[str, int]]:
    """Deliveries per target and status, and events not routed yet."""
    return dispatcher.counts()


@router.get("/deliveries")
def list_deliveries(
    session: SessionDep,
    _token: ItRole,
    status: Annotated[str, Query(pattern="^(pending|sent|dead)$")] = "dead",
    target: Annotated[text(80) | None, Query()] = None,  # type: ignore[valid-type]
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    query = select(OutboxDelivery).where(OutboxDelivery.status == status)
    if target:
        query = query.where(OutboxDelivery.target == target)
    return [
        {
            "id": d.id,
            "target": d.target,
            "stream": d.stream,
            "entity": d.entity_type,
            "hub_id": d.hub_id,
            "status": d.status,
            "attempts": d.attempts,
            "error": d.last_error,
            "next_attempt_at": d.next_attempt_at.isoformat(),
            "external_id": d.external_id,
        }
        for d in session.scalars(query.order_by(OutboxDelivery.id.desc()).limit(limit))
    ]


class ReplayIn(Input):
    ids: list[Id] | None = Field(None, max_length=10_000)
    target: text(80) | None = None  # type: ignore[valid-type]


@router.post("/deliveries/replay")
def replay_deliveries(body: ReplayIn, dispatcher: DispatcherDep, _token: ItRole) -> dict[str, int]:
    """Dead deliveries (all, some, or one target's) become due again."""
    return {"due_again": dispatcher.replay(body.ids, body.target)}
