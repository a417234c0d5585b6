"""Who is looking at a page: the API token from the login cookie, and the roles a page admits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, status
from fastapi.responses import RedirectResponse

from hub.api.deps import SessionDep
from hub.auth.models import Role
from hub.auth.tokens import verify_token

COOKIE = "concord_token"


@dataclass(frozen=True)
class PageUser:
    token_id: int
    name: str
    role: Role


class LoginRequired(Exception):  # noqa: N818 - control flow, handled by the app
    def __init__(self, next_url: str):
        self.next_url = next_url


class PageForbidden(Exception):  # noqa: N818
    def __init__(self, user: PageUser, allowed: set[Role]):
        self.user, self.allowed = user, allowed


def current_user(request: Request, session: SessionDep) -> PageUser:
    raw = request.cookies.get(COOKIE)
    token = verify_token(session, raw) if raw else None
    if token is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return PageUser(token.id, token.name, token.role)


def page_user(*roles: Role) -> Callable[[PageUser], PageUser]:
    """The page's guard; ``admin`` is admitted everywhere, as on the API."""
    allowed = {Role.admin, *roles}

    async def check(user: Annotated[PageUser, Depends(current_user)]) -> PageUser:
        if user.role not in allowed:
            raise PageForbidden(user, allowed)
        return user

    return check


def login_redirect(next_url: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(next_url, safe='/')}", status.HTTP_303_SEE_OTHER)
