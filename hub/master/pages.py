"""Set-wise live matching: a page of one system's customers in a fixed number of statements.

:meth:`CustomerMaster.ingest_many` comes here. One-by-one ingest spends about eleven statements
and a savepoint on each new record (link lookup, candidates, golden, link, source, keys,
decision, survivorship…); a first load of 200,000 customers took an hour. A page instead:

1. reads the links (and source ids) of all its records in one query: unchanged records are done;
2. changed records (few, in steady state) go through the one-by-one path, first;
3. new records are normalised and blocked, and ONE query reads the store's blocks of all their
   keys (each at most ``max_block_size + 1`` entries, as :class:`~hub.master.store.SqlIndex`
   reads them) with the candidates' match fields;
4. records are decided in page order against those blocks plus the page's own earlier records
   (:class:`PageIndex`), so a record still joins one that came before it in the same page and
   every decision is the one the one-by-one path would make;
5. golden records, links, sources, keys, findings, decisions, review pairs and audit entries are
   written set-wise (``hub.bulk.insert_rows``: COPY on PostgreSQL), and survivorship runs once
   per touched golden record, its sources read in one query.

A record that bridges two golden records links to the best; the others merge into it. The
page's index takes the merge at once, so later records are decided after it as one by one; the
merges run once the page is written, set-wise and in page order (``merges.merge_many``: the
outcome of one ``merge`` per step, in a fixed number of statements). Should the database refuse the
page, it is retried record by record in savepoints so only the culprit is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DataError, IntegrityError

from hub.audit.models import AuditEntry
from hub.bulk import insert_rows, reserve_ids
from hub.db import utcnow
from hub.master import merges
from hub.master.golden_values import SurvivorSource, survive_touched
from hub.master.keys import blocking_keys, prepare
from hub.master.matching import Decision
from hub.master.models import (
    ENTITY,
    GOLDEN_FIELDS,
    CustomerFinding,
    CustomerSource,
    GoldenCustomer,
    MatchDecision,
    MatchKey,
    ReviewPair,
)
from hub.master.normalise import NormalisedCustomer, normalise_customer
from hub.master.page_index import MATCH_NAMES, PageIndex, store_blocks
from hub.master.store import stored
from hub.sync.links import Binder, Change, NewLink, content_hash

if TYPE_CHECKING:
    from hub.master.ingest import CustomerMaster, IngestOutcome


@dataclass(frozen=True, slots=True)
class PageItem:
    """One record of a page, as :meth:`CustomerMaster.ingest` takes it."""

    external_id: str
    fields: Mapping[str, Any]
    source_updated_at: datetime | None = None
    default_country: str | None = None


@dataclass(slots=True)
class _New:
    """A new record of the page on its way in; ids are virtual (negative) until written."""

    position: int
    item: PageItem
    data: dict[str, Any]
    digest: str
    norm: NormalisedCustomer
    keys: list[str]
    source_vid: int = 0
    golden_vid: int = 0
    fresh: bool = False
    decision: Decision | None = None


# ------------------------------------------------------------------------------------------
# The page
# ------------------------------------------------------------------------------------------


def ingest_many(master: CustomerMaster, system: str, items: Sequence[PageItem]) -> list[Any]:
    """One result per item, in order: an ``IngestOutcome`` or the ``RejectedRecord`` to
    quarantine. A record repeated within the page splits it, so its later version applies
    after the earlier one, as one by one."""
    results: list[Any] = [None] * len(items)
    for chunk in _without_repeats(items):
        _page_or_one_by_one(master, system, items, chunk, results)
    return results


def _page_or_one_by_one(
    master: CustomerMaster, system: str, items: Sequence[PageItem], chunk: list[int], results: list[Any]
) -> None:
    from hub.master.ingest import RejectedRecord

    session = master.session
    session.flush()
    try:
        with session.begin_nested():
            _page(master, system, items, chunk, results)
        return
    except (DataError, IntegrityError):
        pass
    # the database refused something of the page: record by record, so only the culprit fails
    for position in chunk:
        item = items[position]
        try:
            with session.begin_nested():
                results[position] = _one(master, system, item)
        except RejectedRecord as exc:
            results[position] = exc
        except (DataError, IntegrityError) as exc:
            results[position] = RejectedRecord(f"the hub's database refused it: {str(exc.orig).splitlines()[0]}")


def _one(master: CustomerMaster, system: str, item: PageItem) -> IngestOutcome:
    """One record by the one-by-one path, flushed: the page's set-wise writes that follow
    bypass the ORM and must find its changes in the database."""
    outcome = master.ingest_one(
        system,
        item.external_id,
        item.fields,
        source_updated_at=item.source_updated_at,
        default_country=item.default_country,
    )
    master.session.flush()
    return outcome


def _page(master: CustomerMaster, system: str, items: Sequence[PageItem], chunk: list[int], results: list[Any]) -> None:
    from hub.master.ingest import IngestOutcome, RejectedRecord, check_storable, check_usable, cleaned

    session = master.session
    data = {p: cleaned(items[p].fields) for p in chunk}
    digests = {p: content_hash(data[p]) for p in chunk}
    # one query for the page's links, each with its source record
    links = Binder(session).states(system, ENTITY, [items[p].external_id for p in chunk], joined=CustomerSource)
    new: list[_New] = []
    for position in chunk:
        link = links.get(items[position].external_id)
        if link is None:
            item = items[position]
            norm = normalise_customer(data[position], default_country=item.default_country)
            try:
                check_usable(norm)
                check_storable(norm, data[position], item.external_id)
            except RejectedRecord as exc:
                results[position] = exc
                continue
            keys = list(dict.fromkeys(blocking_keys(norm)))
            new.append(_New(position, item, data[position], digests[position], norm, keys))
        elif link.content_hash == digests[position] and not link.missing and link.joined_id is not None:
            results[position] = IngestOutcome(Change.unchanged, link.hub_id, link.joined_id)
        else:
            try:  # a changed record: few in steady state, the one-by-one path
                results[position] = _one(master, system, items[position])
            except RejectedRecord as exc:
                results[position] = exc
    if new:
        _new_records(master, system, new, results)


def _new_records(master: CustomerMaster, system: str, new: list[_New], results: list[Any]) -> None:
    """Decide the new records in page order, write them, then carry out the merges of those
    that bridged golden records.

    A bridging record links to the best golden record; the others it bridges merge into that
    one. The page's index takes the merge at once (its records of the absorbed golden records
    now name the survivor), so the records after it are decided as they would be one by one,
    after the merge; the merges themselves run once the page is written, in page order, which
    is the order one by one would run them in (:func:`~hub.master.merges.merge_many`)."""
    index = PageIndex(master.rules.blocking.max_block_size, master.rules.blocking.max_candidates)
    index.load(
        store_blocks(master.session, sorted({k for rec in new for k in rec.keys}), master.rules.blocking.max_block_size)
    )
    bridges: list[_New] = []
    for number, rec in enumerate(new, start=1):
        decision = rec.decision = master.matcher.decide(rec.norm, index.candidates(rec.keys))
        rec.source_vid = -number
        if decision.golden_id is None:
            rec.golden_vid, rec.fresh = -number, True
        else:
            rec.golden_vid = decision.golden_id
        if decision.bridged:
            index.regolden({other: rec.golden_vid for other in decision.bridged})
            bridges.append(rec)
        index.add(
            rec.source_vid, rec.golden_vid, prepare(stored([getattr(rec.norm, n) for n in MATCH_NAMES])), rec.keys
        )
    golden_ids: dict[int, int] = {}  # virtual → real
    _write(master, system, new, results, golden_ids)
    steps = []
    for rec in bridges:
        assert rec.decision is not None
        reason = f"{system} {rec.item.external_id} links to both (score {rec.decision.score:.1f})"
        survivor = golden_ids.get(rec.golden_vid, rec.golden_vid)
        steps += [merges.MergeStep(survivor, golden_ids.get(other, other), reason) for other in rec.decision.bridged]
    merges.merge_many(master, steps, actor="engine")


# ------------------------------------------------------------------------------------------
# Writing the decided records
# ------------------------------------------------------------------------------------------


def _write(
    master: CustomerMaster,
    system: str,
    recs: list[_New],
    results: list[Any],
    golden_ids: dict[int, int],
) -> None:
    """Write the decided records set-wise; fills ``golden_ids`` (the page's virtual golden
    ids → real ones)."""
    from hub.master.ingest import SOURCE_ENTITY, IngestOutcome, source_row

    if not recs:
        return
    session = master.session
    now = utcnow()
    fresh = [rec for rec in recs if rec.fresh]
    new_golden = reserve_ids(session, GoldenCustomer, len(fresh))
    golden_ids.update(zip((rec.golden_vid for rec in fresh), new_golden, strict=True))
    source_ids = reserve_ids(session, CustomerSource, len(recs))

    def golden(vid: int) -> int:
        return golden_ids[vid] if vid < 0 else vid

    # survivorship first, so each new golden record is written once, with its values
    page = {
        sid: (
            golden(rec.golden_vid),
            SurvivorSource(
                sid,
                system,
                rec.item.external_id,
                rec.data,
                rec.item.source_updated_at or now,
                *(getattr(rec.norm, f) for f in GOLDEN_FIELDS),
            ),
        )
        for rec, sid in zip(recs, source_ids, strict=True)
    }
    survived, created = survive_touched(master, system, page, set(new_golden), now)
    insert_rows(
        session,
        GoldenCustomer,
        [{"id": gid, **created[gid], "status": "active", "created_at": now, "updated_at": now} for gid in new_golden],
    )

    link_ids = Binder(session).bind_many(
        system,
        ENTITY,
        [NewLink(rec.item.external_id, golden(rec.golden_vid), rec.digest) for rec in recs],
        ids=True,
        now=now,
    )
    insert_rows(
        session,
        CustomerSource,
        [
            {
                "id": sid,
                **source_row(rec.data, rec.norm, rec.item.source_updated_at or now, now),
                "link_id": link_id,
                "golden_id": golden(rec.golden_vid),
                "system": system,
                "external_id": rec.item.external_id,
            }
            for rec, sid, link_id in zip(recs, source_ids, link_ids, strict=True)
        ],
    )
    sources = {rec.source_vid: sid for rec, sid in zip(recs, source_ids, strict=True)}

    def source(vid: int) -> int:
        return sources[vid] if vid < 0 else vid

    insert_rows(
        session, MatchKey, [{"key": key, "source_id": sid} for rec, sid in zip(recs, source_ids) for key in rec.keys]
    )
    insert_rows(
        session,
        CustomerFinding,
        [
            {
                "source_id": sid,
                "system": system,
                "external_id": rec.item.external_id,
                "field": p.field,
                "value": p.value[:300],
                "reason": p.reason[:200],
                "created_at": now,
            }
            for rec, sid in zip(recs, source_ids)
            for p in rec.norm.problems
        ],
    )
    decisions, reviews = [], []
    review = master.rules.thresholds.review
    for rec, sid in zip(recs, source_ids):
        assert rec.decision is not None
        best = [replace(g, golden_id=golden(g.golden_id), source_id=source(g.source_id)) for g in rec.decision.best]
        gid = golden(rec.golden_vid)
        decisions.append(
            {
                "source_id": sid,
                "outcome": rec.decision.outcome,
                "golden_id": gid,
                "score": rec.decision.score,
                "evidence": [g.as_dict() for g in best],
                "decided_by": "engine",
                "created_at": now,
            }
        )
        reviews += [
            {
                "source_id": sid,
                "candidate_golden_id": g.golden_id,
                "candidate_source_id": g.source_id,
                "score": g.score,
                "evidence": [e.as_dict() for e in g.evidence],
                "status": "pending",
                "created_at": now,
            }
            for g, was in zip(best, rec.decision.best)
            if g.golden_id != gid and g.score >= review and was.golden_id not in rec.decision.bridged
        ]
    insert_rows(session, MatchDecision, decisions, analyze=False)  # nothing looks them up while a sync runs
    insert_rows(session, ReviewPair, reviews)
    audit = []  # "created" first, then the golden values the page changed
    for rec, sid in zip(recs, source_ids):
        created_by = f"{system} {rec.item.external_id}"
        audit.append(audit_row(SOURCE_ENTITY, sid, "*", None, created_by, system, now))
        if rec.fresh:
            audit.append(audit_row(ENTITY, golden(rec.golden_vid), "*", None, created_by, system, now))
    insert_rows(session, AuditEntry, audit + survived, analyze=False)
    for rec, sid in zip(recs, source_ids):
        assert rec.decision is not None
        results[rec.position] = IngestOutcome(Change.created, golden(rec.golden_vid), sid, rec.decision.outcome)


def audit_row(
    entity: str, hub_id: int, field: str, before: str | None, after: str | None, actor: str, when: datetime
) -> dict[str, Any]:
    return {
        "entity_type": entity,
        "hub_id": hub_id,
        "field": field,
        "before": before,
        "after": after,
        "actor": actor[:120],
        "changed_at": when,
    }


def _without_repeats(items: Sequence[PageItem]) -> list[list[int]]:
    """Split a page where an external id comes again, so its later version applies after."""
    chunks: list[list[int]] = [[]]
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.external_id in seen:
            chunks.append([])
            seen = set()
        seen.add(item.external_id)
        chunks[-1].append(i)
    return [chunk for chunk in chunks if chunk]
