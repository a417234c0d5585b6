"""Page sessions: what a browser holds after signing in with an API token.

The cookie carries a random session id, never the token itself: a stolen cookie is worth one
session, which ends at logout (the row is marked ended, so a replayed cookie is refused), after
``session_idle_minutes`` without use, ``session_max_hours`` after sign-in, or when its token is
revoked. Only the id's SHA-256 is stored, like the tokens' (see ``tokens.py``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from hub.auth.models import ApiToken, PageSession
from hub.db import as_utc, rowcount, utcnow
from hub.settings import Settings

#: ``last_seen_at`` is written at most this often (a write per page view would queue the
#: requests of one person behind one row lock, as for the tokens' ``last_used_at``).
LAST_SEEN_GRANULARITY = timedelta(minutes=1)

#: The page session cookie (HttpOnly, SameSite=Strict; set by ``hub.web.pages.login``).
COOKIE = "concord_session"


@dataclass(frozen=True)
class SignedIn:
    """A live session and the token it acts for."""

    session_id: int
    token: ApiToken
    csrf: str


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(session: Session, token: ApiToken, settings: Settings) -> tuple[PageSession, str]:
    """A new session for ``token``; returns the row and the clear id (for the cookie only)."""
    clear = secrets.token_urlsafe(32)
    now = utcnow()
    prune(session, settings)
    row = PageSession(
        session_hash=_digest(clear),
        token_id=token.id,
        csrf_secret=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_max_hours),
    )
    session.add(row)
    session.flush()
    return row, clear


_BY_HASH = (
    select(PageSession, ApiToken)
    .join(ApiToken, ApiToken.id == PageSession.token_id)
    .where(PageSession.session_hash == bindparam("digest"))
)


def resolve_session(session: Session, clear: str, settings: Settings) -> SignedIn | None:
    """The live session behind a cookie, or None: unknown, ended, expired (idle or absolute),
    or its token revoked."""
    found = session.execute(_BY_HASH, {"digest": _digest(clear)}).first()
    if found is None:
        return None
    row, token = found
    now = utcnow()
    last_seen = as_utc(row.last_seen_at)
    assert last_seen is not None
    if (
        row.ended_at is not None
        or token.revoked_at is not None
        or now >= as_utc(row.expires_at)
        or now - last_seen >= timedelta(minutes=settings.session_idle_minutes)
    ):
        return None
    if now - last_seen > LAST_SEEN_GRANULARITY:
        row.last_seen_at = now
    return SignedIn(row.id, token, row.csrf_secret)


def end_session(session: Session, clear: str) -> bool:
    """Logout: the session behind this cookie no longer works, even if the cookie is replayed."""
    result = session.execute(
        update(PageSession)
        .where(PageSession.session_hash == _digest(clear), PageSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return bool(rowcount(result))


def end_sessions_of(session: Session, token_id: int) -> int:
    """Every open session of a token (it was revoked); returns how many ended."""
    result = session.execute(
        update(PageSession)
        .where(PageSession.token_id == token_id, PageSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return rowcount(result)


def prune(session: Session, settings: Settings) -> int:
    """Delete sessions that can no longer sign anyone in (ended, or expired either way), so the
    table holds about the live ones. Run at each sign-in: rare enough to afford the scan."""
    now = utcnow()
    result = session.execute(
        delete(PageSession).where(
            or_(
                PageSession.ended_at.is_not(None),
                PageSession.expires_at <= now,
                PageSession.last_seen_at <= now - timedelta(minutes=settings.session_idle_minutes),
            )
        )
    )
    return rowcount(result)
