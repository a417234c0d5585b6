"""Login, logout and the home page listing the pages a role may open.

Signing in trades the API token for a page session (``hub.auth.sessions``): the cookie holds
the session's random id, logout ends the session server-side. The sign-in form carries a
pre-session CSRF token (a signed double-submit cookie, ``hub.web.security``), and wrong tokens
count towards the client's failed-token throttle, like wrong bearer tokens on the API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.api.deps import SessionDep, SettingsDep
from hub.auth.models import Role
from hub.auth.sessions import end_session, resolve_session, start_session
from hub.auth.throttle import client_address, failed_tokens
from hub.auth.tokens import verify_token
from hub.documents.worklist import my_orders
from hub.settings import Settings
from hub.web.app import render
from hub.web.auth import COOKIE, CsrfRefused, PageUser, current_user
from hub.web.security import LOGIN_COOKIE, LOGIN_CSRF_MAX_AGE, csrf_ok, login_csrf, login_csrf_ok

router = APIRouter(include_in_schema=False)


def _local(next_url: str | None) -> str:
    """Only redirect within the hub: an open redirect would make the login page a phishing aid."""
    if next_url and next_url.startswith("/") and not next_url.startswith("//"):
        return next_url
    return "/"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_page(
    request: Request,
    settings: Settings,
    next_url: str | None,
    status_code: int = 200,
    error: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The sign-in form with a fresh CSRF token, in its hidden field and its cookie."""
    csrf = login_csrf(settings)
    response = render(
        request,
        "login.html",
        None,
        status_code=status_code,
        headers=headers,
        next=_local(next_url),
        error=error,
        csrf=csrf,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        csrf,
        max_age=LOGIN_CSRF_MAX_AGE,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep, next: str = "/") -> HTMLResponse:
    return _login_page(request, settings, next)


@router.post("/login", response_model=None)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    if not login_csrf_ok(settings, request.cookies.get(LOGIN_COOKIE), csrf):
        return _login_page(
            request, settings, next, 403, "This sign-in form expired or was not sent from this hub's page; try again."
        )
    throttle, client = failed_tokens(request), client_address(request)
    wait = throttle.retry_after(client)
    if wait is not None:
        return _login_page(
            request,
            settings,
            next,
            429,
            f"Too many wrong tokens from your address; try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
    found = verify_token(session, token.strip())
    if found is None:
        throttle.failed(client)
        return _login_page(
            request, settings, next, 401, "That token is not valid (revoked, mistyped, or from another hub)."
        )
    previous = request.cookies.get(COOKIE)
    if previous:
        end_session(session, previous)
    _row, session_id = start_session(session, found, settings)
    response = RedirectResponse(_local(next), status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE,
        session_id,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        max_age=settings.session_max_hours * 3600,
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(
    request: Request, session: SessionDep, settings: SettingsDep, csrf: Annotated[str, Form()] = ""
) -> RedirectResponse:
    """Ends the session server-side: its cookie, even replayed, no longer signs anyone in. A
    live session is only ended by a form of its own (its CSRF token), not by another site."""
    raw = request.cookies.get(COOKIE)
    signed = resolve_session(session, raw, settings) if raw else None
    if signed is not None:
        if not csrf_ok(signed.csrf, csrf):
            raise CsrfRefused(None)
        end_session(session, raw or "")
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, user: Annotated[PageUser, Depends(current_user)]) -> HTMLResponse:
    """The pages the role may open and, for a salesperson, their own recent and overdue
    orders: those whose owner is the signed-in name (``hub.documents.ownership.owns``).

    Admin, IT and finance get no order lists here, neither all nor their own: the landing page
    is a person's own work, and "all orders" would grow without bound; finance's overdue work
    is the receivables page (every overdue instalment, with filters), IT's is the IT page, and
    any order is one search away on /orders."""
    mine = my_orders(session, user.name) if user.role == Role.sales else None
    return render(request, "home.html", user, mine=mine)
