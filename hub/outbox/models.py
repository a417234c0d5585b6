"""Events of hub changes, written in the same transaction as the change itself.

A change and its event commit together or not at all, so a crash can neither lose an event
nor announce a change that never happened. Delivery to each target system is the
dispatcher's; ``origin`` names the system a change came from, so it is not echoed back there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
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
