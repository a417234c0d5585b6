"""Re-normalising the master: stored match forms brought up to the normaliser as it is now.

Each source record keeps what its system said (``CustomerSource.data``) beside the match form
the normaliser made of it when it arrived: the match columns, the blocking keys
(``match_keys``) and the findings. A release that reads a value better (a scheme word, a
country spelling, a name's annotation) changes the form of records arriving from then on,
but the stored ones keep the old form until their system sends them again, so two copies of
one company written by the old and the new code compare as strangers. :func:`renormalise`
reads every source record again, page by page in id order, and rewrites what changed: the
columns, the keys, the findings (a finding the new code no longer makes is cleared) and the
golden values built from them, each change of a golden value an audit entry.

Then the records whose form changed are matched again, because a new form may now find the
golden record of another system's copy. The engine never undoes a steward: a pair a steward
has already seen, or two golden records a steward has unmerged, are left as they are. By
default a record that now reaches another golden record is queued for a steward
(``rematch="review"``); ``"merge"`` merges above the link threshold as live ingest would
merge a bridging record, and queues the review band; ``"none"`` only rewrites the forms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from hub.bulk import insert_rows
from hub.db import session_scope, utcnow
from hub.heap import settled_heap
from hub.master import merges
from hub.master.golden_values import refresh_goldens
from hub.master.ingest import STORED_FIELDS, CustomerMaster, RejectedRecord, check_storable
from hub.master.keys import Prepared, blocking_keys, prepare
from hub.master.matching import vetoes
from hub.master.models import CustomerFinding, CustomerSource, MatchKey, MergeEvent, ReviewPair
from hub.master.normalise import identifies_something, normalise_customer
from hub.master.page_index import PageIndex, store_blocks
from hub.master.store import stored_of

Rematch = Literal["review", "merge", "none"]
#: who the audit entries, merges and review pairs of a re-normalisation name
ACTOR = "renormalise"


@dataclass
class RenormaliseSummary:
    """What a re-normalisation read and changed; ``refused`` and ``identifies_nothing`` name
    records (system, external id, why) that a user has to look at."""

    read: int = 0
    changed: int = 0
    keys_changed: int = 0
    findings_added: int = 0
    findings_cleared: int = 0
    golden_refreshed: int = 0
    merged: int = 0
    queued: int = 0
    #: records the new form does not fit (left as they were, with the reason)
    refused: list[tuple[str, str, str]] = field(default_factory=list)
    #: records whose new form identifies nothing; kept in the master, as a user must decide
    identifies_nothing: list[tuple[str, str]] = field(default_factory=list)
    #: (system, external id, golden id): records whose new tax id names another legal entity
    #: than a record of their own golden record; a steward decides whether to unmerge
    split: list[tuple[str, str, int]] = field(default_factory=list)


@settled_heap()
def renormalise(
    database_url: str,
    mappings_dir: Path,
    default_country: Callable[[str], str | None],
    *,
    system: str | None = None,
    rematch: Rematch = "review",
    page_size: int = 500,
) -> RenormaliseSummary:
    """Re-normalise every source record (or one system's), then match the changed ones again.

    ``default_country(system)`` is the country a system's records are read in when they name
    none (its import mapping's ``default_country``, as a replay uses). Each page is its own
    transaction, so a run over millions of records holds no more than a page in memory and a
    run stopped half-way leaves every page it finished done; running it again reads the rest
    as unchanged.
    """
    summary = RenormaliseSummary()
    moved: list[int] = []  # source ids whose blocking keys changed: matched again below
    after = 0
    while True:
        with session_scope(database_url) as session:
            master = CustomerMaster(session, mappings_dir)
            sources = _page(session, after, page_size, system)
            if not sources:
                break
            after = sources[-1].id
            moved += _rewrite(master, sources, default_country, summary)
    if rematch != "none":
        for start in range(0, len(moved), page_size):
            with session_scope(database_url) as session:
                _rematch_page(CustomerMaster(session, mappings_dir), moved[start : start + page_size], rematch, summary)
    return summary


def _page(session: Session, after: int, size: int, system: str | None) -> list[CustomerSource]:
    """The next page in id order: keyset paging never reads a record twice or skips one,
    whatever the rewrite of the page before did to the table."""
    query = select(CustomerSource).where(CustomerSource.id > after)
    if system is not None:
        query = query.where(CustomerSource.system == system)
    return list(session.scalars(query.order_by(CustomerSource.id).limit(size)))


def _rewrite(
    master: CustomerMaster,
    sources: list[CustomerSource],
    default_country: Callable[[str], str | None],
    summary: RenormaliseSummary,
) -> list[int]:
    """Rewrite the page's changed records; the ids of those whose keys changed."""
    session = master.session
    now = utcnow()
    ids = [s.id for s in sources]
    keys_of = _grouped(session.execute(select(MatchKey.source_id, MatchKey.key).where(MatchKey.source_id.in_(ids))))
    findings_of = _grouped(
        session.execute(
            select(
                CustomerFinding.source_id, CustomerFinding.field, CustomerFinding.value, CustomerFinding.reason
            ).where(CustomerFinding.source_id.in_(ids))
        )
    )
    moved: list[int] = []  # keys changed
    rewritten: list[CustomerSource] = []
    new_keys: list[dict[str, Any]] = []
    new_findings: list[dict[str, Any]] = []
    refound: list[int] = []  # findings changed
    for source in sources:
        summary.read += 1
        data = source.data or {}
        norm = normalise_customer(data, default_country=default_country(source.system))
        keys = sorted(set(blocking_keys(norm)))
        found = sorted((p.field, p.value[:300], p.reason[:200]) for p in norm.problems)
        stale_keys = keys != sorted(keys_of.get(source.id, ()))
        had = sorted(findings_of.get(source.id, ()))
        columns = {c: getattr(norm, c) for c in STORED_FIELDS}
        stale_columns = any(getattr(source, c) != v for c, v in columns.items())
        if not (stale_columns or stale_keys or found != had):
            continue
        try:
            check_storable(norm, data, source.external_id)
        except RejectedRecord as exc:
            summary.refused.append((source.system, source.external_id, exc.reason))
            continue
        if not identifies_something(norm):
            summary.identifies_nothing.append((source.system, source.external_id))
        summary.changed += 1
        rewritten.append(source)
        for column, value in columns.items():
            setattr(source, column, value)
        if stale_keys:
            moved.append(source.id)
            new_keys += ({"key": key, "source_id": source.id} for key in keys)
        if found != had:
            refound.append(source.id)
            new_findings += (
                {
                    "source_id": source.id,
                    "system": source.system,
                    "external_id": source.external_id,
                    "field": f,
                    "value": v,
                    "reason": r,
                    "created_at": now,
                }
                for f, v, r in found
            )
            summary.findings_added += len(set(found) - set(had))
            summary.findings_cleared += len(set(had) - set(found))
    summary.keys_changed += len(moved)
    if moved:
        session.execute(delete(MatchKey).where(MatchKey.source_id.in_(moved)))
        insert_rows(session, MatchKey, new_keys)
    if refound:
        session.execute(delete(CustomerFinding).where(CustomerFinding.source_id.in_(refound)))
        insert_rows(session, CustomerFinding, new_findings)
    session.flush()
    summary.golden_refreshed += refresh_goldens(master, ACTOR, rewritten)
    return moved


def _grouped(rows: Iterable[Sequence[Any]]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for source_id, *rest in rows:
        out.setdefault(source_id, []).append(rest[0] if len(rest) == 1 else tuple(rest))
    return out


def _rematch_page(master: CustomerMaster, source_ids: list[int], rematch: Rematch, summary: RenormaliseSummary) -> None:
    """Match a page of re-normalised records against the other golden records, in id order,
    as live ingest would match each arriving now; never against its own golden record, whose
    records it is only checked against: a new tax id form may now name another legal entity
    than one of them (``summary.split``).

    Set-wise, as a page of new customers (:mod:`hub.master.pages`): the records, their keys,
    their golden records' other records and the store's blocks of all their keys are read in
    one statement each, and every record is decided against that one index (it gives
    :class:`~hub.master.store.SqlIndex`'s candidates in its order). A merge (``"merge"``)
    re-points the index at once, so the records after it are decided as after the merge."""
    session = master.session
    sources = {s.id: s for s in session.scalars(select(CustomerSource).where(CustomerSource.id.in_(source_ids)))}
    missing = sorted(set(source_ids) - set(sources))
    assert not missing, f"source records {missing} vanished"
    keys_of = _grouped(
        session.execute(
            select(MatchKey.source_id, MatchKey.key)
            .where(MatchKey.source_id.in_(source_ids))
            .order_by(MatchKey.source_id, MatchKey.key)
        )
    )
    siblings = _records_of(session, {s.golden_id for s in sources.values()})
    blocking = master.rules.blocking
    index = PageIndex(blocking.max_block_size, blocking.max_candidates)
    index.load(store_blocks(session, sorted({k for keys in keys_of.values() for k in keys}), blocking.max_block_size))
    merged_into: dict[int, int] = {}  # golden records merged in this page -> their survivor

    def alive(golden_id: int) -> int:
        while golden_id in merged_into:
            golden_id = merged_into[golden_id]
        return golden_id

    thresholds = master.rules.thresholds
    for source_id in source_ids:
        source = sources[source_id]
        own = alive(source.golden_id)
        record = prepare(stored_of(source))
        if any(sid != source_id and vetoes(record, other) for sid, other in siblings.get(own, ())):
            summary.split.append((source.system, source.external_id, own))
        candidates = [c for c in index.candidates(keys_of.get(source_id, [])) if c.golden_id != own]
        if not candidates:
            continue
        decision = master.matcher.decide(record, candidates)
        for rank, best in enumerate(decision.best):
            if best.score < thresholds.review or _seen_by_steward(session, own, best.golden_id):
                continue
            if rematch == "merge" and rank == 0 and decision.outcome == "linked":
                survivor, absorbed = sorted((own, best.golden_id))
                merges.merge(
                    master,
                    survivor,
                    absorbed,
                    actor=ACTOR,
                    reason=f"{source.system} {source.external_id} re-normalised links to both (score {best.score:.1f})",
                )
                summary.merged += 1
                merged_into[absorbed] = survivor
                index.regolden({absorbed: survivor})
                siblings.update(_records_of(session, {survivor}))
                own = survivor
                continue
            session.add(
                ReviewPair(
                    source_id=source_id,
                    candidate_golden_id=best.golden_id,
                    candidate_source_id=best.source_id,
                    score=best.score,
                    evidence=[e.as_dict() for e in best.evidence],
                )
            )
            summary.queued += 1


def _records_of(session: Session, golden_ids: set[int]) -> dict[int, list[tuple[int, Prepared]]]:
    """Each golden record's source records (id, match form), in one statement."""
    out: dict[int, list[tuple[int, Prepared]]] = {gid: [] for gid in golden_ids}
    for source in session.scalars(
        select(CustomerSource).where(CustomerSource.golden_id.in_(sorted(golden_ids))).order_by(CustomerSource.id)
    ):
        out[source.golden_id].append((source.id, prepare(stored_of(source))))
    return out


def _seen_by_steward(session: Session, own: int, other: int) -> bool:
    """A pair between the two golden records already queued or decided, either way round (the
    record that arrived later asked about the earlier one's golden record), or the two pulled
    apart by an unmerge."""
    mine = select(CustomerSource.id).where(CustomerSource.golden_id == own)
    theirs = select(CustomerSource.id).where(CustomerSource.golden_id == other)
    pair = session.scalar(
        select(ReviewPair.id)
        .where(
            or_(
                ReviewPair.source_id.in_(mine) & (ReviewPair.candidate_golden_id == other),
                ReviewPair.source_id.in_(theirs) & (ReviewPair.candidate_golden_id == own),
            )
        )
        .limit(1)
    )
    if pair is not None:
        return True
    apart = session.scalar(
        select(MergeEvent.id)
        .where(
            MergeEvent.kind == "unmerge",
            or_(
                (MergeEvent.survivor_id == own) & (MergeEvent.absorbed_id == other),
                (MergeEvent.survivor_id == other) & (MergeEvent.absorbed_id == own),
            ),
        )
        .limit(1)
    )
    return apart is not None
