"""Merging and unmerging golden customers: the master's history.

A merge moves every source record of one golden record to another and is kept as an event
with what moved, who did it and why; an unmerge puts those records back exactly where they
were, and the cross-references (links) follow. Stewards merge by decision; the engine merges
when one incoming record links strongly to two golden records (it bridges them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.audit.models import AuditEntry
from hub.bulk import any_of, insert_rows, update_rows
from hub.db import utcnow
from hub.master.golden_values import SURVIVOR_COLUMNS, SurvivorSource
from hub.master.models import ENTITY, GOLDEN_FIELDS, CustomerSource, GoldenCustomer, MergeEvent, ReviewPair
from hub.master.survivorship import survive
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


@dataclass(frozen=True, slots=True)
class MergeStep:
    """One merge of a page's bridging record: ``absorbed`` into ``survivor``, and why."""

    survivor_id: int
    absorbed_id: int
    reason: str


def merge_many(master: CustomerMaster, steps: Sequence[MergeStep], actor: str) -> None:
    """The merges of a page, in order, with exactly the outcome of :func:`merge` run once per
    step (moves, events, golden values, audit, settled review pairs), in a fixed number of
    statements: ``merge`` spends about a dozen per step, 11 ms each in a first load.

    The involved golden records, their sources and the review pairs those sources wait on
    are read once; the steps run in memory in order (a later step may absorb an earlier
    survivor); the final state is written set-wise."""
    from hub.master.ingest import audit_rows

    if not steps:
        return
    session = master.session
    session.flush()
    now = utcnow()
    involved = sorted({g for step in steps for g in (step.survivor_id, step.absorbed_id)})
    state = {
        row[0]: [row[1], row[2], dict(zip(GOLDEN_FIELDS, row[3:], strict=True))]
        for row in session.execute(
            select(
                GoldenCustomer.id,
                GoldenCustomer.status,
                GoldenCustomer.merged_into_id,
                *(getattr(GoldenCustomer, f) for f in GOLDEN_FIELDS),
            ).where(any_of(session, GoldenCustomer.id, involved))
        )
    }
    members: dict[int, list[Any]] = {gid: [] for gid in involved}  # SurvivorSource, as survive reads them
    link_of: dict[int, int] = {}
    for row in session.execute(
        select(CustomerSource.golden_id, CustomerSource.link_id, *SURVIVOR_COLUMNS)
        .where(any_of(session, CustomerSource.golden_id, involved))
        .order_by(CustomerSource.id)
    ):
        members[row[0]].append(SurvivorSource(*row[2:]))
        link_of[row[2]] = row[1]
    into = dict(  # golden records merged into an involved one before: a review names them too
        session.execute(
            select(GoldenCustomer.id, GoldenCustomer.merged_into_id).where(
                any_of(session, GoldenCustomer.merged_into_id, involved)
            )
        ).all()
    )
    into.update({gid: s[1] for gid, s in state.items()})
    pending = {
        rid: (source_id, candidate)
        for rid, source_id, candidate in session.execute(
            select(ReviewPair.id, ReviewPair.source_id, ReviewPair.candidate_golden_id).where(
                ReviewPair.status == "pending", any_of(session, ReviewPair.source_id, list(link_of))
            )
        )
    }
    events, audit, settled, golden_of = [], [], [], {}
    values: dict[int, dict[str, Any]] = {}  # survivor → its new columns
    for step in steps:
        survivor, absorbed = step.survivor_id, step.absorbed_id
        if survivor == absorbed:
            raise StewardError("cannot merge a golden customer into itself")
        for gid in (survivor, absorbed):
            if gid not in state:
                raise StewardError(f"golden customer {gid} does not exist")
            if state[gid][0] != "active":
                raise StewardError(f"golden customer {gid} is {state[gid][0]} into {state[gid][1]}")
        moved = members.pop(absorbed)
        members[absorbed] = []
        members[survivor] = sorted(members[survivor] + moved, key=lambda src: src.id)
        golden_of.update({src.id: survivor for src in moved})
        state[absorbed][:2] = ["merged", survivor]
        into[absorbed] = survivor
        events.append(
            {
                "kind": "merge",
                "survivor_id": survivor,
                "absorbed_id": absorbed,
                "moved_source_ids": [src.id for src in moved],
                "actor": actor,
                "reason": step.reason,
                "created_at": now,
            }
        )
        new, provenance = survive(members[survivor], master.survivorship)
        audit += audit_rows(ENTITY, survivor, state[survivor][2], new, actor, now)
        state[survivor][2] = new
        values[survivor] = {**new, "provenance": provenance, "updated_at": now}
        inside = {src.id for src in members[survivor]}
        for rid, (source_id, candidate) in list(pending.items()):
            if source_id in inside and (candidate == survivor or into.get(candidate) == survivor):
                settled.append(rid)
                del pending[rid]
    update_rows(session, CustomerSource, [{"id": sid, "golden_id": gid} for sid, gid in sorted(golden_of.items())])
    Binder(session).rebind_many({link_of[sid]: gid for sid, gid in golden_of.items()}, now)
    update_rows(session, GoldenCustomer, [{"id": gid, **columns} for gid, columns in sorted(values.items())])
    absorbed_rows = [{"id": e["absorbed_id"], "status": "merged", "merged_into_id": e["survivor_id"]} for e in events]
    update_rows(session, GoldenCustomer, absorbed_rows)
    if settled:
        session.execute(
            update(ReviewPair)
            .where(ReviewPair.id.in_(settled))
            .values(status="same", decided_by=actor, decided_at=now)
            .execution_options(synchronize_session=False)
        )
    insert_rows(session, MergeEvent, events, analyze=False)
    insert_rows(session, AuditEntry, audit, analyze=False)
    session.expire_all()  # golden records, sources, links and pairs as now stored
