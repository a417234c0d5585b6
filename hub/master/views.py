"""The customer as IT, sales and finance see it: golden values with provenance and every
system's copy. One shape for the API and the CLI (``hub customers show --json``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hub.canonical import CLOSED_STAGES, CaseStatus
from hub.documents.models import Opportunity, ServiceCase
from hub.master.models import ENTITY, GOLDEN_FIELDS, CustomerSource, GoldenCustomer, ReviewPair
from hub.sync.links import Binder


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def customer_summary(golden: GoldenCustomer) -> dict[str, Any]:
    out: dict[str, Any] = {"id": golden.id}
    out.update({f: getattr(golden, f) for f in GOLDEN_FIELDS})
    return out


def customer_detail(session: Session, golden: GoldenCustomer) -> dict[str, Any]:
    sources = list(
        session.scalars(
            select(CustomerSource)
            .where(CustomerSource.golden_id == golden.id)
            .order_by(CustomerSource.system, CustomerSource.external_id)
        )
    )
    links = Binder(session).by_ids([source.link_id for source in sources])
    rows = [(source, links[source.link_id]) for source in sources]
    pending = session.scalar(
        select(func.count())
        .select_from(ReviewPair)
        .join(CustomerSource, CustomerSource.id == ReviewPair.source_id)
        .where(
            ReviewPair.status == "pending",
            or_(CustomerSource.golden_id == golden.id, ReviewPair.candidate_golden_id == golden.id),
        )
    )
    return {
        "id": golden.id,
        "status": golden.status,
        "merged_into_id": golden.merged_into_id,
        "fields": {f: {"value": getattr(golden, f), **golden.provenance.get(f, {})} for f in GOLDEN_FIELDS},
        "sources": [
            {
                "source_id": source.id,
                "system": source.system,
                "external_id": source.external_id,
                "data": source.data,
                "normalised": {
                    "name_key": source.name_key,
                    "legal_form": source.legal_form,
                    "tax_id": source.tax_id,
                    "email": source.email,
                    "phone": source.phone,
                    "postcode": source.postcode,
                    "country": source.country,
                },
                "source_updated_at": _iso(source.source_updated_at),
                "received_at": _iso(source.received_at),
                "missing_since": _iso(link.missing_since),
                "content_hash": link.content_hash,
            }
            for source, link in rows
        ],
        "pending_reviews": pending or 0,
        "changes": customer_changes(session, golden.id, [source.id for source, _ in rows]),
        **open_business(session, golden.id),
        "created_at": _iso(golden.created_at),
        "updated_at": _iso(golden.updated_at),
    }


def customer_changes(session: Session, golden_id: int, source_ids: list[int], limit: int = 50) -> list[dict[str, Any]]:
    """The customer's timeline, newest first: golden values that changed and what each
    system's copy changed (before/after, who, when), like a document's audit trail."""
    from hub.audit.models import AuditEntry
    from hub.master.ingest import SOURCE_ENTITY

    golden = (AuditEntry.entity_type == ENTITY) & (AuditEntry.hub_id == golden_id)
    copies = (AuditEntry.entity_type == SOURCE_ENTITY) & AuditEntry.hub_id.in_(source_ids or [-1])
    entries = session.scalars(
        select(AuditEntry)
        .where(or_(golden, copies))
        .order_by(AuditEntry.changed_at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return [
        {
            "record": "golden" if e.entity_type == ENTITY else f"source {e.hub_id}",
            "field": e.field,
            "before": e.before,
            "after": e.after,
            "actor": e.actor,
            "at": _iso(e.changed_at),
        }
        for e in entries
    ]


def open_business(session: Session, golden_id: int) -> dict[str, list[dict[str, Any]]]:
    """Open service cases and open deals: sales sees a pending complaint before calling.
    Records taken in before a merge still point at the merged-away golden id, so those count."""
    ids = [golden_id, *session.scalars(select(GoldenCustomer.id).where(GoldenCustomer.merged_into_id == golden_id))]
    cases = session.scalars(
        select(ServiceCase)
        .where(
            ServiceCase.customer_id.in_(ids),
            or_(ServiceCase.status.is_(None), ServiceCase.status != CaseStatus.closed.value),
        )
        .order_by(ServiceCase.opened_on.desc(), ServiceCase.id)
    )
    deals = session.scalars(
        select(Opportunity)
        .where(Opportunity.customer_id.in_(ids), Opportunity.stage.not_in([stage.value for stage in CLOSED_STAGES]))
        .order_by(Opportunity.expected_close, Opportunity.id)
    )
    return {
        "open_cases": [
            {
                "id": c.id,
                "number": c.number,
                "subject": c.subject,
                "status": c.status,
                "priority": c.priority,
                "opened_on": _iso(c.opened_on),
            }
            for c in cases
        ],
        "open_opportunities": [
            {
                "id": o.id,
                "number": o.number,
                "name": o.name,
                "stage": o.stage,
                "amount": None if o.amount is None else f"{o.amount:.2f}",
                "currency": o.currency,
                "expected_close": _iso(o.expected_close),
                "owner": o.owner,
            }
            for o in deals
        ],
    }


def review_pair(session: Session, pair: ReviewPair) -> dict[str, Any]:
    """A pair the matcher was unsure about, as the steward judges it: the incoming record (its
    system, id and data) beside the golden record it may be. One shape for the API's steward
    routes and the IT page."""
    source = session.get(CustomerSource, pair.source_id)
    candidate = session.get(GoldenCustomer, pair.candidate_golden_id)
    if source is None or candidate is None:  # both are kept for ever; say which is gone
        raise LookupError(
            f"review pair {pair.id}: its source {pair.source_id} or candidate "
            f"{pair.candidate_golden_id} no longer exists"
        )
    return {
        "id": pair.id,
        "status": pair.status,
        "score": pair.score,
        "evidence": pair.evidence,
        "source": {
            "source_id": source.id,
            "system": source.system,
            "external_id": source.external_id,
            "golden_id": source.golden_id,
            "data": source.data,
        },
        "candidate": customer_summary(candidate),
        "decided_by": pair.decided_by,
        "decided_at": pair.decided_at,
    }
