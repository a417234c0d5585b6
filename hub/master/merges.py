"""Merging and unmerging golden customers: the master's history.

A merge moves every source record of one golden record to another and is kept as an event
with what moved, who did it and why; an unmerge puts those records back exactly where they
were, and the cross-references (links) follow. Stewards merge by decision; the engine merges
when one incoming record links strongly to two golden records (it bridges them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.master.models import ENTITY, CustomerSource, GoldenCustomer, MergeEvent, ReviewPair
from hub.sync.links import Binder

if TYPE_CHECKING:
    from hub.master.ingest import CustomerMaster


class StewardError(ValueError):
    """A merge or review request that cannot be carried out; the message says why."""


def merge(
    master: CustomerMaster, survivor_id: int, absorbed_id: int, actor: str, reason: str | None = None
) -> MergeEvent:
    if survivor_id == absorbed_id:
        raise StewardError("cannot merge a golden customer into itself")
    survivor = master.session.get(GoldenCustomer, survivor_id)
    absorbed = master.session.get(GoldenCustomer, absorbed_id)
    for gid, golden in ((survivor_id, survivor), (absorbed_id, absorbed)):
        if golden is None:
            raise StewardError(f"golden customer {gid} does not exist")
        if golden.status != "active":
            raise StewardError(f"golden customer {gid} is {golden.status} into {golden.merged_into_id}")
    moved = list(master.session.scalars(select(CustomerSource.id).where(CustomerSource.golden_id == absorbed_id)))
    _move(master.session, moved, survivor_id)
    assert absorbed is not None
    absorbed.status = "merged"
    absorbed.merged_into_id = survivor_id
    event = MergeEvent(
        kind="merge",
        survivor_id=survivor_id,
        absorbed_id=absorbed_id,
        moved_source_ids=moved,
        actor=actor,
        reason=reason,
    )
    master.session.add(event)
    master.refresh_golden(survivor_id, actor=actor)
    _settle_reviews(master.session, survivor_id, actor)
    master.session.flush()
    return event


def unmerge(master: CustomerMaster, merge_event_id: int, actor: str, reason: str | None = None) -> MergeEvent:
    merge = master.session.get(MergeEvent, merge_event_id)
    if merge is None or merge.kind != "merge":
        raise StewardError(f"merge event {merge_event_id} does not exist")
    if merge.undone_by_id is not None:
        raise StewardError(f"merge event {merge_event_id} was already undone")
    absorbed = master.session.get(GoldenCustomer, merge.absorbed_id)
    assert absorbed is not None
    # Only the records still in the survivor go back; any merged on top since then stays.
    back = list(
        master.session.scalars(
            select(CustomerSource.id).where(
                CustomerSource.id.in_(merge.moved_source_ids),
                CustomerSource.golden_id == merge.survivor_id,
            )
        )
    )
    _move(master.session, back, absorbed.id)
    absorbed.status = "active"
    absorbed.merged_into_id = None
    event = MergeEvent(
        kind="unmerge",
        survivor_id=merge.survivor_id,
        absorbed_id=merge.absorbed_id,
        moved_source_ids=back,
        actor=actor,
        reason=reason,
    )
    master.session.add(event)
    master.session.flush()
    merge.undone_by_id = event.id
    master.refresh_golden(merge.survivor_id, actor=actor)
    master.refresh_golden(absorbed.id, actor=actor)
    return event


def _settle_reviews(session: Session, golden_id: int, actor: str) -> None:
    """Pending pairs whose two sides are now one golden record need no steward any more."""
    inside = select(CustomerSource.id).where(CustomerSource.golden_id == golden_id)
    session.execute(
        update(ReviewPair)
        .where(
            ReviewPair.status == "pending",
            ReviewPair.candidate_golden_id.in_(
                select(GoldenCustomer.id).where(
                    (GoldenCustomer.id == golden_id) | (GoldenCustomer.merged_into_id == golden_id)
                )
            ),
            ReviewPair.source_id.in_(inside),
        )
        .values(status="same", decided_by=actor, decided_at=utcnow())
    )


def _move(session: Session, source_ids: list[int], golden_id: int) -> None:
    if not source_ids:
        return
    session.execute(update(CustomerSource).where(CustomerSource.id.in_(source_ids)).values(golden_id=golden_id))
    link_ids = select(CustomerSource.link_id).where(CustomerSource.id.in_(source_ids))
    Binder(session).rebind(ENTITY, link_ids, golden_id)
    session.expire_all()
