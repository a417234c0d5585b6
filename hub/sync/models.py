"""Tables shared by everything that talks to an external system.

``links`` is the cross-reference between a hub record and its copy in each system. It makes
writes idempotent, recognises the hub's own writes when they are read back, and lets an unmerge
send records back where they came from. ``quarantine`` keeps every record that could not be
taken in, with where it came from and why, so nothing is dropped silently. ``sync_runs`` counts
what each import or sync did.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, utcnow


class Link(Base):
    __tablename__ = "links"
    __table_args__ = (
        UniqueConstraint("system", "entity_type", "external_id"),
        Index("ix_links_entity_hub", "entity_type", "hub_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    hub_id: Mapped[int]
    system: Mapped[str] = mapped_column(String(80))
    external_id: Mapped[str] = mapped_column(String(200))
    external_version: Mapped[str | None] = mapped_column(String(80))
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when a full export no longer contains the record; cleared when it comes back.
    missing_since: Mapped[datetime | None]


class QuarantinedRecord(Base):
    __tablename__ = "quarantine"
    __table_args__ = (Index("ix_quarantine_open", "entity_type", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    system: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(500))
    row_number: Mapped[int | None]
    external_id: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict]
    reason: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class SyncRun(Base):
    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    read: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    missing: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
