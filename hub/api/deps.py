"""FastAPI dependencies: the database session of a request, the caller's role, and the
services that talk to systems (``ConnectionsDep``, ``EngineDep``, ``DispatcherDep``, built by
``hub.services`` as the CLI, the tasks and the demo build them).

Every route declares the roles it admits with ``Depends(require(...))``; ``admin`` is admitted
everywhere. A missing or unknown token is 401, a known token with the wrong role is 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from hub import services
from hub.auth.models import ApiToken, Role
from hub.auth.sessions import COOKIE as PAGE_COOKIE
from hub.auth.sessions import resolve_session
from hub.auth.throttle import client_address, failed_tokens
from hub.auth.tokens import verify_token
from hub.db import session_scope
from hub.outbox.dispatch import Dispatcher
from hub.settings import Settings
from hub.sync.connections import ConnectionService
from hub.sync.engine import SyncEngine

_bearer = HTTPBearer(auto_error=False, description="An API token from `hub token create`.")


# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in its
# thread pool, a hop that costs more than these functions do.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(settings: Annotated[Settings, Depends(get_settings)]) -> Iterator[Session]:
    """One unit of work per request: committed when the route returns, rolled back on error.

    Function-scoped (``SessionDep``): the commit happens before the answer is sent. With the
    default request scope it ran after — a browser following a sign-in's redirect, or a client
    reading the order it just posted, could arrive before the commit and see nothing."""
    with session_scope(settings.database_url) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_connections(settings: SettingsDep) -> ConnectionService:
    return services.connection_service(settings)


async def get_sync_engine(settings: SettingsDep) -> SyncEngine:
    return services.sync_engine(settings)


async def get_dispatcher(settings: SettingsDep) -> Dispatcher:
    return services.dispatcher(settings)


ConnectionsDep = Annotated[ConnectionService, Depends(get_connections)]
EngineDep = Annotated[SyncEngine, Depends(get_sync_engine)]
DispatcherDep = Annotated[Dispatcher, Depends(get_dispatcher)]


def current_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiToken:
    """The bearer token; for a GET (or HEAD) without one, the token of a signed-in page session,
    so the links a page offers (the finance page's exports) open in the browser. State-changing
    calls need the bearer: the session cookie alone carries no CSRF proof. A client that sent
    too many wrong bearer tokens is answered 429 for a while (``hub.auth.throttle``)."""
    token: ApiToken | None = None
    if credentials:
        throttle, client = failed_tokens(request), client_address(request)
        throttle.check(client)
        token = verify_token(session, credentials.credentials)
        if token is None:
            throttle.failed(client)
    elif request.method in ("GET", "HEAD") and (cookie := request.cookies.get(PAGE_COOKIE)):
        signed = resolve_session(session, cookie, settings)
        token = signed.token if signed else None
    if token is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid API token is required (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token


def require(*roles: Role) -> Callable[[ApiToken], Awaitable[ApiToken]]:
    allowed = {Role.admin, *roles}

    async def check(token: Annotated[ApiToken, Depends(current_token)]) -> ApiToken:
        if token.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role {token.role.value!r} may not do this; allowed: " + ", ".join(sorted(r.value for r in allowed)),
            )
        return token

    return check


ANY_ROLE = (Role.it, Role.sales, Role.finance)
AnyRole = Annotated[ApiToken, Depends(require(*ANY_ROLE))]
ItRole = Annotated[ApiToken, Depends(require(Role.it))]
