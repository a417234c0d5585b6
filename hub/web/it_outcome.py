"""What an IT page action did, carried across its redirect (POST-redirect-GET).

A check or a "sync now" answers 303 to ``/it?checked=NAME`` (``?synced=NAME``), so a reload
of the page shows it again and never runs the action twice. The outcome itself (health,
latency, each stream's counts or the error) travels in a short-lived cookie rather than the
query: a link someone pastes cannot show a made-up outcome, and it works whichever worker
process answers the GET. The cookie is signed with the session's CSRF secret (so it belongs
to this session), HttpOnly, SameSite=Strict, scoped to ``/it`` and kept for five minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from fastapi import Request, Response

from hub.web.auth import PageUser

COOKIE = "hub_it_outcome"
MAX_AGE = 300
#: a cookie holds ~4 KB: errors and details are cut to this many characters
TEXT_LIMIT = 300


def _sign(user: PageUser, body: bytes) -> str:
    return hmac.new(user.csrf.encode(), body, hashlib.sha256).hexdigest()


def clip(text: str | None) -> str | None:
    return text if text is None or len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def remember(response: Response, request: Request, user: PageUser, kind: str, outcome: dict[str, Any]) -> None:
    """Keep ``outcome`` of action ``kind`` ("check", "sync") for the page the redirect leads to;
    the other kind's last outcome is kept beside it."""
    kept = recall(request, user)
    kept[kind] = outcome
    body = base64.urlsafe_b64encode(json.dumps(kept, separators=(",", ":")).encode())
    response.set_cookie(
        COOKIE,
        f"{body.decode()}.{_sign(user, body)}",
        max_age=MAX_AGE,
        path="/it",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def recall(request: Request, user: PageUser) -> dict[str, Any]:
    """The outcomes this session's last actions left; empty when none, expired, or not this
    session's (signed with another session's secret)."""
    raw = request.cookies.get(COOKIE, "")
    body, _, signature = raw.rpartition(".")
    if not body or not hmac.compare_digest(signature, _sign(user, body.encode())):
        return {}
    try:
        kept = json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError:
        return {}
    return kept if isinstance(kept, dict) else {}
