"""Login, logout and the home page listing the pages a role may open."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.api.deps import SessionDep
from hub.auth.tokens import verify_token
from hub.web.app import render
from hub.web.auth import COOKIE, PageUser, current_user

router = APIRouter(include_in_schema=False)


def _local(next_url: str | None) -> str:
    """Only redirect within the hub: an open redirect would make the login page a phishing aid."""
    if next_url and next_url.startswith("/") and not next_url.startswith("//"):
        return next_url
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", None, next=_local(next))


@router.post("/login", response_model=None)
def login(
    request: Request, session: SessionDep, token: Annotated[str, Form()], next: Annotated[str, Form()] = "/"
) -> Response:
    if verify_token(session, token.strip()) is None:
        return render(request, "login.html", None, status_code=401, next=_local(next),
                      error="That token is not valid (revoked, mistyped, or from another hub).")
    response = RedirectResponse(_local(next), status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE, token.strip(), httponly=True, samesite="strict",
        secure=request.url.scheme == "https", max_age=12 * 3600,
    )
    return response


@router.post("/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: Annotated[PageUser, Depends(current_user)]) -> HTMLResponse:
    return render(request, "home.html", user)
