"""The audit trail of documents.

One row per changed field: "who changed this price, and why is it different in the ERP?" is
answered by the rows of one order, newest first — the actor is the system a sync read the
change from (its connection name) or the person behind an API token ("api:<token name>").
Values are kept as text, as they were shown, so the trail survives schema changes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entity_hub", "entity_type", "hub_id", "changed_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    hub_id: Mapped[int]
    #: A column (``total``) or a line's column (``lines[P-100].quantity``); ``*`` for created.
    field: Mapped[str] = mapped_column(String(120))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
