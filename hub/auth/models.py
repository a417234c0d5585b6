"""API tokens: who may call the hub, and with which role."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, utcnow


class Role(str, enum.Enum):
    """The four roles. ``admin`` may do everything; the others see their own part."""

    admin = "admin"
    it = "it"
    sales = "sales"
    finance = "finance"


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    #: SHA-256 of the token: a leaked database does not leak usable tokens.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class PageSession(Base):
    """A person signed in to the pages: the browser holds a random session id, never the API
    token it signed in with. Only the id's SHA-256 is stored (a leaked database holds no
    usable cookie). Ended by logout (``ended_at``), by revoking its token, and by time: idle
    after ``last_seen_at`` + the idle setting, absolutely at ``expires_at``."""

    __tablename__ = "page_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True)
    #: the session's CSRF token, sent back in every form the pages post
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
