"""The FastAPI application. Routers are thin: validate, call a service, shape the answer."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

import hub
from hub.api.deps import AnyRole
from hub.api.routers import connections, customers, orders, outbox, quarantine, steward
from hub.api.routers import receivables
from hub.api.routers import metrics
from hub.settings import Settings, get_settings
from hub.web.app import mount_pages


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="Concord hub",
        version=hub.__version__,
        description="One customer master, enter-once documents and receivables per sales stage, "
        "between ERP, finance and legacy CRM systems. Every /api route needs an API token "
        "(`hub token create --role R`) with a role that may use it.",
    )
    app.state.settings = settings or get_settings()

    @app.get("/healthz", tags=["health"], include_in_schema=False)
    def healthz() -> dict[str, str]:
        """Liveness for load balancers and compose: says nothing but "ok"."""
        return {"status": "ok"}

    @app.get("/api/v1/me", tags=["auth"])
    def me(token: AnyRole) -> dict[str, Any]:
        return {"token_id": token.id, "name": token.name, "role": token.role.value}

    app.include_router(customers.router)
    app.include_router(steward.router)
    app.include_router(quarantine.router)
    app.include_router(connections.router)
    app.include_router(orders.router)
    app.include_router(outbox.router)
    app.include_router(receivables.router)
    app.include_router(metrics.router)
    mount_pages(app)
    return app
