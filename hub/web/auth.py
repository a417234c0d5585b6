"""Who is looking at a page: the page session behind the cookie, and the roles a page admits.

The cookie holds a page session id (``hub.auth.sessions``), never the API token; a page's
guard (``page_user``) also checks the session's CSRF token on every unsafe request, so every
form a page posts is protected without each route remembering to do it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, status
from fastapi.responses import RedirectResponse

from hub.api.deps import SessionDep, SettingsDep
from hub.auth.models import Role
from hub.auth.sessions import COOKIE, resolve_session
from hub.web.security import SAFE_METHODS, csrf_ok

__all__ = ["COOKIE", "CsrfRefused", "LoginRequired", "PageForbidden", "PageUser", "current_user", "page_user"]


@dataclass(frozen=True)
class PageUser:
    token_id: int
    name: str
    role: Role
    session_id: int
    #: the session's CSRF token, for the hidden ``csrf`` field of the page's forms
    csrf: str


class LoginRequired(Exception):
    def __init__(self, next_url: str):
        self.next_url = next_url


class PageForbidden(Exception):
    def __init__(self, user: PageUser, allowed: set[Role]):
        self.user, self.allowed = user, allowed


class PageNotFound(Exception):
    """A page asked for something that does not exist: answered with the error page (404),
    not the API's JSON."""

    def __init__(self, message: str, user: PageUser):
        super().__init__(message)
        self.message, self.user = message, user


class CsrfRefused(Exception):
    """A form posted without this session's CSRF token (forged, or from a page shown before
    the person signed in again)."""

    def __init__(self, user: PageUser | None):
        self.user = user


def current_user(request: Request, session: SessionDep, settings: SettingsDep) -> PageUser:
    raw = request.cookies.get(COOKIE)
    signed = resolve_session(session, raw, settings) if raw else None
    if signed is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    token = signed.token
    return PageUser(token.id, token.name, token.role, signed.session_id, signed.csrf)


async def check_csrf(request: Request, user: PageUser) -> None:
    """On an unsafe request, the form's ``csrf`` field must be the session's token."""
    if request.method in SAFE_METHODS:
        return
    form = await request.form()  # cached: the route's Form() parameters read the same
    given = form.get("csrf")
    if not csrf_ok(user.csrf, given if isinstance(given, str) else None):
        raise CsrfRefused(user)


def page_user(*roles: Role) -> Callable[..., Awaitable[PageUser]]:
    """The page's guard; ``admin`` is admitted everywhere, as on the API."""
    allowed = {Role.admin, *roles}

    async def check(request: Request, user: Annotated[PageUser, Depends(current_user)]) -> PageUser:
        if user.role not in allowed:
            raise PageForbidden(user, allowed)
        await check_csrf(request, user)
        return user

    return check


def login_redirect(next_url: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(next_url, safe='/')}", status.HTTP_303_SEE_OTHER)
