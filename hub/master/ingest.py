"""Taking a customer record from a system into the master: the one path every source uses.

File imports, connectors and the API all call :meth:`CustomerMaster.ingest`. It goes through the
link (cross-reference) first, so re-reading an unchanged record is a no-op and a changed one
updates its source record in place; only a record the hub has never seen is matched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from hub import canonical
from hub.audit.models import AuditEntry
from hub.bounds import row_problems
from hub.db import utcnow
from hub.master import merges, pages
from hub.master.keys import blocking_keys
from hub.master.matching import Decision, Matcher
from hub.master.models import (
    ENTITY,
    CustomerFinding,
    CustomerSource,
    GoldenCustomer,
    MatchDecision,
    ReviewPair,
)
from hub.master.normalise import NormalisedCustomer, identifies_something, normalise_customer
from hub.master.pages import PageItem, audit_row
from hub.master.rules import match_rules, survivorship_rules
from hub.master.store import SqlIndex, replace_keys, sources_of
from hub.master.survivorship import survive
from hub.sync.links import Change, classify, content_hash, get_link, record_link

#: Canonical customer fields a mapping can fill (hub.canonical.Customer).
CUSTOMER_FIELDS = canonical.CUSTOMER_FIELDS


class RejectedRecord(ValueError):
    """The record cannot enter the master; ``reason`` says which field and why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    change: Change
    golden_id: int
    source_id: int
    #: For a record seen for the first time: linked, review, new, or attached (by the hub).
    decision: str | None = None


def check_usable(norm: NormalisedCustomer) -> None:
    """Raise only when the record identifies nothing (no usable name and no identifier).

    Accept and flag: a malformed value (a phone that is no phone, a tax id whose check digit
    fails, an unknown country) is a finding kept with the record (:class:`CustomerFinding`),
    left out of matching and survivorship; the record itself goes in. Refusing it would cost
    the customer its golden record and, with it, every order and invoice that refers to it.
    """
    if not identifies_something(norm):
        reasons = "; ".join(f"{p.field} {p.value!r}: {p.reason}" for p in norm.problems)
        raise RejectedRecord("no usable name and no tax id, e-mail or phone" + (f" ({reasons})" if reasons else ""))


def check_storable(norm: NormalisedCustomer, data: Mapping[str, Any], external_id: str) -> None:
    """Raise when the record's values do not fit the master's columns (hub.bounds): a name
    beyond its ``String(300)``, a NUL or a lone surrogate anywhere. SQLite would store them
    unchecked and PostgreSQL refuse them mid-page; here both refuse this one record."""
    if _fits(norm, data, external_id):
        return
    stored = {column: getattr(norm, column) for column in STORED_FIELDS}
    problems = row_problems(CustomerSource.__table__, {**stored, "external_id": external_id}, check_text=False)
    problems += row_problems(CustomerSource.__table__, {"data": data})
    if problems:
        raise RejectedRecord("does not fit the hub: " + "; ".join(problems))


#: The match-form columns of a source record (what the normaliser makes of its data).
STORED_FIELDS = (
    "name",
    "name_key",
    "legal_form",
    "tax_id",
    "email",
    "email_domain",
    "phone",
    "street",
    "city",
    "postcode",
    "country",
)


def _lengths() -> dict[str, int]:
    """``CustomerSource``'s bounded text columns among those a record fills, with their bound."""
    columns = CustomerSource.__table__.columns
    out = {}
    for name in (*STORED_FIELDS, "external_id"):
        length = getattr(columns[name].type, "length", None)
        if length:
            out[name] = length
    return out


_LENGTHS = _lengths()


def _fits(norm: NormalisedCustomer, data: Mapping[str, Any], external_id: str) -> bool:
    """True when the record plainly fits (the common case, checked in a few comparisons);
    False sends it to the full check of :func:`check_storable`, which names the problem.
    Never True for a record the full check would refuse: the same bounds, and text that is
    ASCII without NUL or encodes as UTF-8 holds no NUL and no lone surrogate."""
    for name, length in _LENGTHS.items():
        value = external_id if name == "external_id" else getattr(norm, name)
        if value is not None and (not isinstance(value, str) or len(value) > length):
            return False
    for key, value in data.items():
        if not isinstance(key, str) or not _plain_text(key):
            return False
        if value is not None and (not isinstance(value, str) or not _plain_text(value)):
            return False
    return True


def _plain_text(value: str) -> bool:
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class CustomerMaster:
    """The customer master's services within one unit of work (a session)."""

    def __init__(self, session: Session, mappings_dir: Path):
        self.session = session
        self.rules = match_rules(mappings_dir)
        self.survivorship = survivorship_rules(mappings_dir)
        self.matcher = Matcher(self.rules)
        self.index = SqlIndex(session, self.rules.blocking.max_block_size, self.rules.blocking.max_candidates)

    def ingest(
        self,
        system: str,
        external_id: str,
        fields: Mapping[str, Any],
        *,
        source_updated_at: datetime | None = None,
        default_country: str | None = None,
        golden_id: int | None = None,
    ) -> IngestOutcome:
        """Take one system's record in (the API, replays): a page of one, so a single record
        and a page take the same decisions. ``golden_id`` attaches a new record to that golden
        record without matching: a copy the hub itself created in a system (enter once)."""
        if golden_id is not None:
            return self.ingest_one(
                system,
                external_id,
                fields,
                source_updated_at=source_updated_at,
                default_country=default_country,
                golden_id=golden_id,
            )
        [result] = self.ingest_many(system, [PageItem(external_id, fields, source_updated_at, default_country)])
        if isinstance(result, RejectedRecord):
            raise result
        return result

    def ingest_many(self, system: str, items: Sequence[PageItem]) -> list[IngestOutcome | RejectedRecord]:
        """Take a page of one system's records in, set-wise (:mod:`hub.master.pages`): one
        result per item, in order, an outcome or the reason it is refused (to quarantine)."""
        return pages.ingest_many(self, system, items)

    def ingest_one(
        self,
        system: str,
        external_id: str,
        fields: Mapping[str, Any],
        *,
        source_updated_at: datetime | None = None,
        default_country: str | None = None,
        golden_id: int | None = None,
    ) -> IngestOutcome:
        """One record by itself, about eleven statements: what a page falls back to for a
        changed record, a merge, or a record the database refused within its page."""
        data = cleaned(fields)
        digest = content_hash(data)
        link = get_link(self.session, system, ENTITY, external_id)
        change = classify(link, digest)
        if change is Change.unchanged:
            assert link is not None
            source = self.session.query(CustomerSource).filter_by(link_id=link.id).one()
            return IngestOutcome(change, link.hub_id, source.id)

        norm = normalise_customer(data, default_country=default_country)
        check_usable(norm)
        check_storable(norm, data, external_id)
        keys = blocking_keys(norm)
        when = source_updated_at or utcnow()

        if link is not None:
            source = self.session.query(CustomerSource).filter_by(link_id=link.id).one()
            audit_changes(self.session, SOURCE_ENTITY, source.id, source.data or {}, data, system)
            _fill(source, data, norm, when)
            record_link(
                self.session,
                link,
                entity_type=ENTITY,
                hub_id=source.golden_id,
                system=system,
                external_id=external_id,
                digest=digest,
            )
            replace_keys(self.session, source.id, keys)
            replace_findings(self.session, source, norm)
            self.refresh_golden(source.golden_id, actor=system)
            return IngestOutcome(change, source.golden_id, source.id)

        decision = None if golden_id else self.matcher.decide(norm, self.index.candidates(keys))
        golden_id = golden_id or (decision.golden_id if decision else None)
        fresh = golden_id is None
        if golden_id is None:
            golden = GoldenCustomer()
            self.session.add(golden)
            self.session.flush()
            golden_id = golden.id
        link = record_link(
            self.session,
            None,
            entity_type=ENTITY,
            hub_id=golden_id,
            system=system,
            external_id=external_id,
            digest=digest,
        )
        source = CustomerSource(link_id=link.id, golden_id=golden_id, system=system, external_id=external_id)
        _fill(source, data, norm, when)
        self.session.add(source)
        self.session.flush()
        replace_keys(self.session, source.id, keys)
        replace_findings(self.session, source, norm, new=True)
        # one entry says "created" (field "*"); a new golden record's values need no more
        created = f"{system} {external_id}"
        self.session.add(
            AuditEntry(entity_type=SOURCE_ENTITY, hub_id=source.id, field="*", after=created, actor=system)
        )
        if fresh:
            self.session.add(AuditEntry(entity_type=ENTITY, hub_id=golden_id, field="*", after=created, actor=system))
        self.refresh_golden(golden_id, actor=system, audit=not fresh)
        if decision is None:
            return IngestOutcome(change, golden_id, source.id, "attached")
        self._record_decision(source, golden_id, decision)
        for other in decision.bridged:
            merges.merge(
                self,
                golden_id,
                other,
                actor="engine",
                reason=f"{system} {external_id} links to both (score {decision.score:.1f})",
            )
        return IngestOutcome(change, golden_id, source.id, decision.outcome)

    def _record_decision(self, source: CustomerSource, golden_id: int, decision: Decision) -> None:
        self.session.add(
            MatchDecision(
                source_id=source.id,
                outcome=decision.outcome,
                golden_id=golden_id,
                score=decision.score,
                evidence=[g.as_dict() for g in decision.best],
            )
        )
        review = self.rules.thresholds.review
        for candidate in decision.best:
            if candidate.golden_id in decision.bridged:
                continue
            if candidate.golden_id != golden_id and candidate.score >= review:
                self.session.add(
                    ReviewPair(
                        source_id=source.id,
                        candidate_golden_id=candidate.golden_id,
                        candidate_source_id=candidate.source_id,
                        score=candidate.score,
                        evidence=[e.as_dict() for e in candidate.evidence],
                    )
                )

    def refresh_golden(self, golden_id: int, actor: str = "engine", audit: bool = True) -> GoldenCustomer:
        """Recompute the golden values and their provenance from its source records; each
        golden value that changes is an audit entry naming ``actor`` (the system whose record
        caused it, or who merged)."""
        golden = self.session.get(GoldenCustomer, golden_id)
        assert golden is not None, f"golden customer {golden_id} vanished"
        values, provenance = survive(sources_of(self.session, golden_id), self.survivorship)
        if audit:
            before = {field: getattr(golden, field) for field in values}
            audit_changes(self.session, ENTITY, golden_id, before, values, actor)
        for field, value in values.items():
            setattr(golden, field, value)
        golden.provenance = provenance
        golden.updated_at = utcnow()
        return golden


#: The entity type of a system's copy of a customer in ``audit_entries`` (``customer`` is
#: the golden record, as in ``links``).
SOURCE_ENTITY = "customer_source"


def audit_changes(
    session: Session,
    entity: str,
    hub_id: int,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    actor: str,
) -> None:
    """One audit entry per field whose value changed (as in the document trail: text as shown)."""
    session.add_all(AuditEntry(**row) for row in audit_rows(entity, hub_id, before, after, actor, utcnow()))


def audit_rows(
    entity: str,
    hub_id: int,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    actor: str,
    when: datetime,
) -> list[dict[str, Any]]:
    """The audit rows of :func:`audit_changes`, for a page to write set-wise."""
    return [
        audit_row(
            entity,
            hub_id,
            field,
            None if before.get(field) is None else str(before.get(field)),
            None if new is None else str(new),
            actor,
            when,
        )
        for field, new in after.items()
        if before.get(field) != new
    ]


def replace_findings(session: Session, source: CustomerSource, norm: NormalisedCustomer, new: bool = False) -> None:
    """The source's findings become those of this version of the record: a corrected field
    clears its finding, a new problem adds one."""
    if not new:
        session.execute(delete(CustomerFinding).where(CustomerFinding.source_id == source.id))
    if norm.problems:
        session.add_all(
            CustomerFinding(
                source_id=source.id,
                system=source.system,
                external_id=source.external_id,
                field=p.field,
                value=p.value[:300],
                reason=p.reason[:200],
            )
            for p in norm.problems
        )


def cleaned(fields: Mapping[str, Any]) -> dict[str, str | None]:
    """The record as mapped: every canonical customer field, trimmed text or None (what
    :func:`_clean` makes of each value, inlined: an unchanged re-load spends a tenth of its
    time here)."""
    out: dict[str, str | None] = {}
    get = fields.get
    for key in CUSTOMER_FIELDS:
        value = get(key)
        if value is not None:
            value = (value if type(value) is str else str(value)).strip() or None
        out[key] = value
    return out


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    return text


def _fill(source: CustomerSource, data: dict[str, Any], norm: NormalisedCustomer, when: datetime) -> None:
    for column, value in source_row(data, norm, when, utcnow()).items():
        setattr(source, column, value)


def source_row(data: dict[str, Any], norm: NormalisedCustomer, when: datetime, received: datetime) -> dict[str, Any]:
    """A source record's content columns: the record as mapped and its match form."""
    return {
        "data": data,
        **{column: getattr(norm, column) for column in STORED_FIELDS},
        "source_updated_at": when,
        "received_at": received,
    }
