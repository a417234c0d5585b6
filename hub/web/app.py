"""Mount the pages on the hub's FastAPI app: templates, static files, login handling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from hub.web.auth import CsrfRefused, LoginRequired, PageForbidden, PageNotFound, PageUser, login_redirect

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

#: (path, label, roles that see the link; admin sees all)
NAV: list[tuple[str, str, set[str]]] = [
    ("/customers", "Customers", {"sales", "it", "finance"}),
    ("/orders", "Orders", {"sales", "it", "finance"}),
    ("/finance/receivables", "Receivables", {"finance"}),
    ("/finance/pipelines", "Pipelines", {"finance"}),
    ("/it", "IT", {"it"}),
]


def render(
    request: Request,
    name: str,
    user: PageUser | None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page; its forms get the session's CSRF token as ``csrf`` (the sign-in page passes its own)."""
    context.setdefault("csrf", user.csrf if user else "")
    links = [
        (path, label) for path, label, roles in NAV if user and (user.role.value in roles or user.role.value == "admin")
    ]
    return templates.TemplateResponse(
        request, name, {"user": user, "nav": links, **context}, status_code=status_code, headers=headers
    )


def mount_pages(app: FastAPI) -> None:
    from hub.web import customers, it, orders, pages, pipelines, receivables

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(pages.router)
    app.include_router(customers.router)
    app.include_router(orders.router)
    app.include_router(receivables.router)
    app.include_router(pipelines.router)
    app.include_router(it.router)

    @app.exception_handler(LoginRequired)
    def _login(request: Request, exc: LoginRequired) -> Response:
        return login_redirect(exc.next_url)

    @app.exception_handler(PageNotFound)
    def _not_found(request: Request, exc: PageNotFound) -> Response:
        return render(request, "error.html", exc.user, status_code=404, title="Not found", message=exc.message)

    @app.exception_handler(PageForbidden)
    def _forbidden(request: Request, exc: PageForbidden) -> Response:
        allowed = ", ".join(sorted(r.value for r in exc.allowed))
        return render(
            request,
            "error.html",
            exc.user,
            status_code=403,
            title="Not for your role",
            message=f"This page is for: {allowed}. You are signed in as {exc.user.role.value}.",
        )

    @app.exception_handler(CsrfRefused)
    def _csrf(request: Request, exc: CsrfRefused) -> Response:
        return render(
            request,
            "error.html",
            exc.user,
            status_code=403,
            title="Form refused",
            message="This form was not sent from this session's page (it came from another site, "
            "or the page is older than your sign-in). Reload the page and try again.",
        )
