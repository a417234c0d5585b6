"""Tables shared by everything that talks to an external system.

``connections`` are the configured systems, ``sync_cursors`` how far each stream was read and
``dead_letters`` the records a sync could not apply. ``links`` is the cross-reference between a hub record and its copy in each system. It makes
writes idempotent, recognises the hub's own writes when they are read back, and lets an unmerge
send records back where they came from. ``quarantine`` keeps every record that could not be
taken in, with where it came from and why, so nothing is dropped silently. ``sync_runs`` counts
what each import or sync did.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false, func
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, utcnow


class Link(Base):
    __tablename__ = "links"
    __table_args__ = (
        UniqueConstraint("system", "entity_type", "external_id"),
        Index("ix_links_entity_hub", "entity_type", "hub_id"),
        Index("ix_links_entity_ref", "entity_type", "external_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    hub_id: Mapped[int]
    system: Mapped[str] = mapped_column(String(80))
    external_id: Mapped[str] = mapped_column(String(200))
    external_version: Mapped[str | None] = mapped_column(String(80))
    content_hash: Mapped[str] = mapped_column(String(64))
    #: The record's number as people in that system know it (an ERP's sale number), so an
    #: order can be found by any system's number, and the CRM can be told the ERP's.
    external_ref: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when a full export no longer contains the record; cleared when it comes back.
    missing_since: Mapped[datetime | None]


class QuarantinedRecord(Base):
    __tablename__ = "quarantine"
    __table_args__ = (
        Index("ix_quarantine_open", "entity_type", "resolved_at"),
        Index("ix_quarantine_row_key", "entity_type", "system", "row_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    system: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(500))
    row_number: Mapped[int | None]
    external_id: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict]
    reason: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int | None]
    #: Which row this is, across imports (``hub.sync.quarantine.row_key``): a re-import that
    #: finds the row still bad refreshes the open entry instead of adding another.
    row_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The last import that found the row still bad.
    seen_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]


class Connection(Base):
    """A configured system: which connector, its settings, its secrets (encrypted), when to sync."""

    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Also the ``system`` name in links: "erp", "crm-emea", …
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    settings: Mapped[dict] = mapped_column(default=dict)
    secrets_encrypted: Mapped[str | None] = mapped_column(Text)
    #: Seconds between scheduled incremental syncs; None: only on demand.
    interval_seconds: Mapped[int | None]
    enabled: Mapped[bool] = mapped_column(default=True)
    # Circuit breaker: after `failure_threshold` failed runs in a row the connection is left
    # alone until `open_until`, so a dead system is not hammered by every scheduled run.
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    open_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncCursor(Base):
    """How far each stream of a connection has been read; moves only with committed records."""

    __tablename__ = "sync_cursors"
    __table_args__ = (UniqueConstraint("connection_id", "stream"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(80))
    value: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: A lease: the run holding it (and until when) is the only one syncing this stream.
    locked_by: Mapped[str | None] = mapped_column(String(80))
    locked_until: Mapped[datetime | None]


class DeadLetter(Base):
    """A record a sync could not apply, with its payload and error; replayable."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        Index("ix_dead_letters_open", "connection_id", "status"),
        Index("ix_dead_letters_record", "connection_id", "stream", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(80))
    external_id: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict]
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=1)
    #: How many runs found the record bad (one open letter per record: a re-read updates it,
    #: ``seen_count``, ``last_seen_at``, ``error`` and ``payload``, instead of adding another).
    seen_count: Mapped[int] = mapped_column(default=1, server_default="1")
    last_seen_at: Mapped[datetime | None]
    #: open | replayed | superseded (closed unapplied: newer data of the record went in since)
    status: Mapped[str] = mapped_column(String(12), default="open")
    run_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class SyncRun(Base):
    """One import or sync of one stream. ``status``: running → done | failed.

    ``host``/``pid`` name the process running it and ``heartbeat_at`` moves with every counts
    update, so a run whose process was killed is recognised (``hub.sync.runs``) and marked
    failed instead of showing "running" for ever."""

    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id", ondelete="SET NULL"))
    stream: Mapped[str | None] = mapped_column(String(80))
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
    #: A full read (``hub sync --full``): the next full read's length is compared with it.
    full: Mapped[bool] = mapped_column(default=False, server_default=false())
    error: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(255), default=lambda: socket.gethostname())
    pid: Mapped[int | None] = mapped_column(default=lambda: os.getpid())
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)


# A link's number as people see it, in any case (hub.documents.search).
Index("ix_links_entity_number_lower", Link.entity_type, func.lower(func.coalesce(Link.external_ref, Link.external_id)))
