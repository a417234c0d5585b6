"""Issue, verify and revoke API tokens.

A token is shown once, at creation; only its SHA-256 is stored. Tokens carry a ``hub_`` prefix
so that secret scanners can recognise one that leaked into a repository.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from hub.auth.models import ApiToken, Role
from hub.auth.sessions import end_sessions_of
from hub.db import as_utc, utcnow

LAST_USED_GRANULARITY = timedelta(minutes=1)

PREFIX = "hub_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, role: Role, name: str = "") -> tuple[ApiToken, str]:
    """Return the stored row and the clear token (the only time it exists in clear)."""
    clear = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name or f"{role.value} token", role=role, token_hash=_digest(clear))
    session.add(row)
    session.flush()
    return row, clear


#: Built once: every API request checks its token, so the statement should not be rebuilt each time.
_BY_HASH = select(ApiToken).where(ApiToken.token_hash == bindparam("digest"))


def verify_token(session: Session, clear: str) -> ApiToken | None:
    row = session.scalar(_BY_HASH, {"digest": _digest(clear)})
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    last = as_utc(row.last_used_at)
    if last is None or now - last > LAST_USED_GRANULARITY:
        # at most once a minute: a write per request would queue every request of one token
        # (a dashboard, a scraper) behind the same row lock
        row.last_used_at = now
    return row


def revoke_token(session: Session, token_id: int) -> bool:
    """The token stops working, on the API and in every page session it signed in."""
    row = session.get(ApiToken, token_id)
    if row is None:
        return False
    row.revoked_at = utcnow()
    # the pages check the token on every request too; ending its sessions makes it explicit
    end_sessions_of(session, token_id)
    return True
