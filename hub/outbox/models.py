"""Events of hub changes, written in the same transaction as the change itself.

A change and its event commit together or not at all, so a crash can neither lose an event
nor announce a change that never happened. Delivery to each target system is the
dispatcher's; ``origin`` names the system a change came from, so it is not echoed back there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, utcnow


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_entity_hub", "entity_type", "hub_id"),)

    #: 64-bit: an outbox sees every change of every record (SQLite needs INTEGER to autoincrement).
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    hub_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(20))  # created | updated
    origin: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set once the dispatcher has turned the event into deliveries, one per target.
    routed_at: Mapped[datetime | None] = mapped_column(index=True)


class OutboxDelivery(Base):
    """One event on its way to one target system, with its own status and retries.

    ``pending`` → ``sent``; a failure goes back to ``pending`` with ``next_attempt_at`` pushed
    out, and after the route's attempts becomes ``dead`` — visible and replayable, never lost.
    A delivery makes the target match the hub's *current* record, so when several deliveries
    of one record wait, the first one sent settles them all.
    """

    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "target"),
        Index("ix_outbox_deliveries_due", "status", "target", "next_attempt_at"),
        Index("ix_outbox_deliveries_record", "target", "entity_type", "hub_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(80))  # a connection name
    stream: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str] = mapped_column(String(40))
    hub_id: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(200))
    #: How the write was checked: ``read back equal``, or ``not verified: <why>`` where the
    #: target cannot be read back (a write that did not take effect is ``dead`` instead).
    verified: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
