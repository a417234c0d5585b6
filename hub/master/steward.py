"""The data steward's tools: review pending pairs, merge and unmerge golden records."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.master import merges
from hub.master.ingest import CustomerMaster
from hub.master.merges import StewardError
from hub.master.models import CustomerSource, GoldenCustomer, MatchDecision, MergeEvent, ReviewPair

__all__ = ["Steward", "StewardError"]


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
        return merges.merge(self.master, survivor_id, absorbed_id, actor, reason)

    def unmerge(self, merge_event_id: int, actor: str, reason: str | None = None) -> MergeEvent:
        return merges.unmerge(self.master, merge_event_id, actor, reason)

    def history(self, golden_id: int) -> list[MergeEvent]:
        return list(
            self.session.scalars(
                select(MergeEvent)
                .where((MergeEvent.survivor_id == golden_id) | (MergeEvent.absorbed_id == golden_id))
                .order_by(MergeEvent.id)
            )
        )
