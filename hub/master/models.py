"""Tables of the customer master.

A ``GoldenCustomer`` is the system of record for one real customer. Each system's copy is a
``CustomerSource`` (its content, normalised for matching) tied to the golden record and to its
``Link``. ``MatchKey`` rows are the blocking index that finds candidates in milliseconds among
millions. Every decision (``MatchDecision``), every pair waiting for a data steward
(``ReviewPair``) and every merge or unmerge (``MergeEvent``) is kept with its evidence.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.canonical import CUSTOMER_FIELDS
from hub.db import Base, utcnow

#: The entity type of customers in ``links``.
ENTITY = "customer"

#: The golden fields, in display order: the canonical customer's (hub.canonical). Survivorship
#: rules and provenance use these names.
GOLDEN_FIELDS = CUSTOMER_FIELDS


class GoldenCustomer(Base):
    __tablename__ = "golden_customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300))
    tax_id: Mapped[str | None] = mapped_column(String(40), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    street: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(120))
    postcode: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    #: field -> {"system", "external_id", "source_id", "at", "rule"}: where each value came from.
    provenance: Mapped[dict] = mapped_column(default=dict)
    #: ``active``, or ``merged`` once absorbed into ``merged_into_id``.
    status: Mapped[str] = mapped_column(String(12), default="active")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("golden_customers.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerSource(Base):
    __tablename__ = "customer_sources"
    __table_args__ = (Index("ix_customer_sources_system_ext", "system", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("links.id"), unique=True)
    golden_id: Mapped[int] = mapped_column(ForeignKey("golden_customers.id"), index=True)
    system: Mapped[str] = mapped_column(String(80))
    external_id: Mapped[str] = mapped_column(String(200))
    #: The record as mapped from the system, before normalisation (what the system said).
    data: Mapped[dict]
    # Normalised match fields (hub.master.normalise), stored so candidates score without
    # re-normalising.
    name: Mapped[str | None] = mapped_column(String(300))
    name_key: Mapped[str | None] = mapped_column(String(300))
    legal_form: Mapped[str | None] = mapped_column(String(20))
    tax_id: Mapped[str | None] = mapped_column(String(40), index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    email_domain: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    street: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(120))
    postcode: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    #: When the source system last changed the record (if it says), else when the hub read it.
    source_updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class MatchKey(Base):
    """Blocking index: records sharing a key are compared, nothing else is."""

    __tablename__ = "match_keys"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("customer_sources.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class MatchDecision(Base):
    __tablename__ = "match_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("customer_sources.id"), index=True)
    #: ``linked`` (auto, above the link threshold), ``review`` (queued), ``new`` (below),
    #: ``same`` / ``different`` (a data steward's decision).
    outcome: Mapped[str] = mapped_column(String(12))
    golden_id: Mapped[int] = mapped_column(ForeignKey("golden_customers.id"))
    score: Mapped[float | None]
    #: The best candidates, each with per-field agreement, level and weight.
    evidence: Mapped[list] = mapped_column(default=list)
    decided_by: Mapped[str] = mapped_column(String(80), default="engine")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewPair(Base):
    """A source record and a golden record that may be the same customer: a steward decides."""

    __tablename__ = "review_pairs"
    __table_args__ = (Index("ix_review_pairs_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("customer_sources.id"), index=True)
    candidate_golden_id: Mapped[int] = mapped_column(ForeignKey("golden_customers.id"))
    candidate_source_id: Mapped[int] = mapped_column(ForeignKey("customer_sources.id"))
    score: Mapped[float]
    evidence: Mapped[list] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MergeEvent(Base):
    """History of the golden records: merges and unmerges, each with what moved."""

    __tablename__ = "merge_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # merge | unmerge
    survivor_id: Mapped[int] = mapped_column(ForeignKey("golden_customers.id"), index=True)
    absorbed_id: Mapped[int] = mapped_column(ForeignKey("golden_customers.id"), index=True)
    #: Source record ids that moved from the absorbed record to the survivor.
    moved_source_ids: Mapped[list] = mapped_column(default=list)
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)
    #: For a merge: the unmerge event that undid it.
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("merge_events.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerFinding(Base):
    """A data-quality finding on one source record: a field the hub could not use.

    The record is in the master all the same (accept and flag); the field is left out of
    matching and survivorship. Findings are replaced each time the record arrives, so a
    corrected record clears them. Counted per system and reason for the source's owners.
    """

    __tablename__ = "customer_findings"
    __table_args__ = (Index("ix_customer_findings_system_reason", "system", "reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("customer_sources.id", ondelete="CASCADE"), index=True)
    system: Mapped[str] = mapped_column(String(80))
    external_id: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(40))
    #: The raw value as the system sent it (cut to 300 characters).
    value: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
