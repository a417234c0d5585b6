"""The FastAPI application. Routers are thin: validate, call a service, shape the answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

import hub
from hub.api.deps import AnyRole
from hub.api.docs import install_docs
from hub.api.errors import ERRORS
from hub.api.limits import install_limits
from hub.api.routers import connections, customers, metrics, orders, outbox, quality, quarantine, receivables, steward
from hub.observability.logs import install_query_redaction
from hub.settings import Settings, get_settings
from hub.sync.secrets import SecretsError
from hub.web.app import mount_pages
from hub.web.security import install_security


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="Concord hub",
        version=hub.__version__,
        description="One customer master, enter-once documents and receivables per sales stage, "
        "between ERP, finance and legacy CRM systems. Every /api route needs an API token "
        "(`hub token create --role R`) with a role that may use it.",
        lifespan=_lifespan,
        docs_url=None,  # hub.api.docs serves both from local assets (no CDN)
        redoc_url=None,
    )
    app.state.settings = settings or get_settings()
    install_query_redaction()  # query values (e-mails, tax ids) stay out of the access log

    @app.get("/healthz", tags=["health"], include_in_schema=False)
    def healthz() -> dict[str, str]:
        """Liveness for load balancers and compose: says nothing but "ok"."""
        return {"status": "ok"}

    @app.get("/api/v1/me", tags=["auth"], responses=ERRORS)
    def me(token: AnyRole) -> dict[str, Any]:
        return {"token_id": token.id, "name": token.name, "role": token.role.value}

    for module in (customers, steward, quarantine, connections, orders, outbox, receivables, metrics, quality):
        app.include_router(module.router, responses=ERRORS)  # every error documented (hub.api.errors)
    _client_errors(app)
    mount_pages(app)
    install_docs(app)
    install_limits(app)  # body size (413 before parsing or auth), 422s that always encode
    install_security(app)  # headers and the cross-origin refusal on every answer, pages and API
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The embedded default runs its own beat (hub.scheduler) while it serves: dispatch, due
    syncs and the receivables scan happen without a command, as workers and beat do them in
    the scaled-out setup. Off unless asked (``hub serve``/``hub demo`` ask), so an app made
    for a test or behind real workers never dispatches on its own."""
    settings: Settings = app.state.settings
    if settings.embedded_scheduler and settings.broker_url is None:
        from hub.scheduler import running

        with running(settings.database_url):
            yield
    else:
        yield


def _client_errors(app: FastAPI) -> None:
    """A number or date beyond what the database or the calendar holds (an id of 2**63, the
    year 1) is the caller's mistake: 422 naming it, never a 500."""

    def out_of_range(request: Request, exc: Exception) -> JSONResponse:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return JSONResponse({"detail": f"a value is out of range: {detail}"}, status_code=422)

    app.add_exception_handler(OverflowError, out_of_range)
    app.add_exception_handler(DataError, out_of_range)
    app.add_exception_handler(SecretsError, connections.secrets_unreadable)  # wrong HUB_SECRET_KEY: 409
