"""The data steward's tools: review pending pairs, merge and unmerge golden records.

Merges and unmerges are events with what moved, who did it and why, so an unmerge can put
every source record back exactly where it was — and the cross-references (links) follow.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.master.ingest import ENTITY, CustomerMaster
from hub.master.models import CustomerSource, GoldenCustomer, MatchDecision, MergeEvent, ReviewPair
from hub.sync.models import Link


class StewardError(ValueError):
    """A steward's request that cannot be carried out; the message says why."""


class Steward:
    def __init__(self, session: Session, mappings_dir: Path):
        self.session = session
        self.master = CustomerMaster(session, mappings_dir)

    def pending(self, limit: int = 50, offset: int = 0) -> list[ReviewPair]:
        return list(
            self.session.scalars(
                select(ReviewPair)
                .where(ReviewPair.status == "pending")
                .order_by(ReviewPair.score.desc(), ReviewPair.id)
                .limit(limit)
                .offset(offset)
            )
        )

    def decide(self, pair_id: int, same: bool, actor: str, note: str | None = None) -> ReviewPair:
        pair = self.session.get(ReviewPair, pair_id)
        if pair is None:
            raise StewardError(f"review pair {pair_id} does not exist")
        if pair.status != "pending":
            raise StewardError(f"review pair {pair_id} was already decided: {pair.status}")
        source = self.session.get(CustomerSource, pair.source_id)
        assert source is not None
        pair.status = "same" if same else "different"
        pair.decided_by = actor
        pair.decided_at = utcnow()
        survivor = self._active(pair.candidate_golden_id)
        if same and survivor.id != source.golden_id:
            self.merge(survivor.id, source.golden_id, actor, note or f"review pair {pair_id}: same")
        self.session.add(
            MatchDecision(
                source_id=source.id,
                outcome=pair.status,
                golden_id=source.golden_id,
                score=pair.score,
                evidence=pair.evidence,
                decided_by=actor,
            )
        )
        return pair

    def _active(self, golden_id: int) -> GoldenCustomer:
        """Follow merges to the golden record that is alive now."""
        golden = self.session.get(GoldenCustomer, golden_id)
        while golden is not None and golden.status == "merged" and golden.merged_into_id:
            golden = self.session.get(GoldenCustomer, golden.merged_into_id)
        if golden is None:
            raise StewardError(f"golden customer {golden_id} does not exist")
        return golden

    def merge(self, survivor_id: int, absorbed_id: int, actor: str, reason: str | None = None) -> MergeEvent:
        if survivor_id == absorbed_id:
            raise StewardError("cannot merge a golden customer into itself")
        survivor = self.session.get(GoldenCustomer, survivor_id)
        absorbed = self.session.get(GoldenCustomer, absorbed_id)
        for gid, golden in ((survivor_id, survivor), (absorbed_id, absorbed)):
            if golden is None:
                raise StewardError(f"golden customer {gid} does not exist")
            if golden.status != "active":
                raise StewardError(
                    f"golden customer {gid} is {golden.status} into {golden.merged_into_id}"
                )
        moved = list(
            self.session.scalars(
                select(CustomerSource.id).where(CustomerSource.golden_id == absorbed_id)
            )
        )
        self._move(moved, survivor_id)
        assert absorbed is not None
        absorbed.status = "merged"
        absorbed.merged_into_id = survivor_id
        event = MergeEvent(
            kind="merge", survivor_id=survivor_id, absorbed_id=absorbed_id,
            moved_source_ids=moved, actor=actor, reason=reason,
        )
        self.session.add(event)
        self.master.refresh_golden(survivor_id)
        self.session.flush()
        return event

    def unmerge(self, merge_event_id: int, actor: str, reason: str | None = None) -> MergeEvent:
        merge = self.session.get(MergeEvent, merge_event_id)
        if merge is None or merge.kind != "merge":
            raise StewardError(f"merge event {merge_event_id} does not exist")
        if merge.undone_by_id is not None:
            raise StewardError(f"merge event {merge_event_id} was already undone")
        absorbed = self.session.get(GoldenCustomer, merge.absorbed_id)
        assert absorbed is not None
        # Only the records still in the survivor go back; any merged on top since then stays.
        back = list(
            self.session.scalars(
                select(CustomerSource.id).where(
                    CustomerSource.id.in_(merge.moved_source_ids),
                    CustomerSource.golden_id == merge.survivor_id,
                )
            )
        )
        self._move(back, absorbed.id)
        absorbed.status = "active"
        absorbed.merged_into_id = None
        event = MergeEvent(
            kind="unmerge", survivor_id=merge.survivor_id, absorbed_id=merge.absorbed_id,
            moved_source_ids=back, actor=actor, reason=reason,
        )
        self.session.add(event)
        self.session.flush()
        merge.undone_by_id = event.id
        self.master.refresh_golden(merge.survivor_id)
        self.master.refresh_golden(absorbed.id)
        return event

    def _move(self, source_ids: list[int], golden_id: int) -> None:
        if not source_ids:
            return
        self.session.execute(
            update(CustomerSource)
            .where(CustomerSource.id.in_(source_ids))
            .values(golden_id=golden_id)
        )
        link_ids = select(CustomerSource.link_id).where(CustomerSource.id.in_(source_ids))
        self.session.execute(
            update(Link)
            .where(Link.id.in_(link_ids), Link.entity_type == ENTITY)
            .values(hub_id=golden_id, updated_at=utcnow())
        )
        self.session.expire_all()

    def history(self, golden_id: int) -> list[MergeEvent]:
        return list(
            self.session.scalars(
                select(MergeEvent)
                .where((MergeEvent.survivor_id == golden_id) | (MergeEvent.absorbed_id == golden_id))
                .order_by(MergeEvent.id)
            )
        )
