"""The IT page: are the systems healthy, what did the syncs do, what failed and why — and the
two hands-on jobs, replaying what failed once its cause is fixed and deciding the customer
pairs the matcher was unsure about (the data steward's review, with its evidence).

Everything goes through the services the API's IT routes use (``SyncEngine.replay``,
``Dispatcher.replay``, ``Steward.decide``), so the page and ``/api/v1`` cannot disagree.

Cross-site request forgery: every action is a POST form carrying the session's CSRF token
(checked by the ``page_user`` guard), the session cookie is HttpOnly and SameSite=Strict, and
``hub.web.security`` refuses a POST whose ``Origin`` is another host or port.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.api.deps import ConnectionsDep, DispatcherDep, EngineDep, SessionDep, SettingsDep
from hub.auth.models import Role
from hub.master import quality
from hub.master.steward import Steward, StewardError
from hub.master.views import review_pair
from hub.outbox.models import OutboxDelivery
from hub.settings import Settings
from hub.sync.connections import describe
from hub.sync.models import Connection, DeadLetter, SyncRun
from hub.sync.runs import mark_interrupted
from hub.web.app import render
from hub.web.auth import PageNotFound, PageUser, page_user

It = Annotated[PageUser, Depends(page_user(Role.it))]


router = APIRouter(include_in_schema=False)


def overview(session: Session, settings: Settings) -> dict[str, Any]:
    mark_interrupted(session)  # a killed run is shown failed, not "running" for ever
    latest = (
        select(func.max(SyncRun.id))
        .where(SyncRun.connection_id.is_not(None))
        .group_by(SyncRun.connection_id, SyncRun.stream)
    )
    last_runs: dict[int, list[SyncRun]] = {}
    for run in session.scalars(select(SyncRun).where(SyncRun.id.in_(latest)).order_by(SyncRun.stream)):
        last_runs.setdefault(run.connection_id or 0, []).append(run)
    connections = [
        describe(session, c) | {"last_runs": last_runs.get(c.id, [])}
        for c in session.scalars(select(Connection).order_by(Connection.name))
    ]
    names = {c["id"]: c["name"] for c in connections}
    letters = session.scalars(select(DeadLetter).where(DeadLetter.status == "open").order_by(DeadLetter.id).limit(200))
    return {
        "connections": connections,
        "runs": list(session.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(25))),
        "dead_letters": [(names.get(d.connection_id, "?"), d) for d in letters],
        "deliveries": list(
            session.scalars(
                select(OutboxDelivery).where(OutboxDelivery.status == "dead").order_by(OutboxDelivery.id).limit(200)
            )
        ),
        "pairs": [review_pair(session, p) for p in Steward(session, settings.mappings_dir).pending(50)],
        "findings": quality.counts(session)[:50],  # customer fields the hub could not use, per system
    }


@router.get("/it", response_class=HTMLResponse)
def it_page(request: Request, session: SessionDep, settings: SettingsDep, user: It) -> HTMLResponse:
    done = {k: v for k, v in request.query_params.items() if k in ("replayed", "still", "due_again", "decided")}
    return render(request, "it.html", user, done=done, check=None, **overview(session, settings))


@router.post("/it/connections/{name}/check", response_class=HTMLResponse)
def check_connection(
    request: Request, name: str, session: SessionDep, settings: SettingsDep, connections: ConnectionsDep, user: It
) -> HTMLResponse:
    """The connector's own health check, shown on the page it was asked from."""
    connection = session.scalar(select(Connection).where(Connection.name == name))
    if connection is None:
        raise PageNotFound(f"no connection named {name!r}", user)
    with connections.opened(connection) as connector:
        health = connector.check()
    return render(
        request,
        "it.html",
        user,
        done={},
        check={"name": name, "ok": health.ok, "detail": health.detail, "latency_ms": health.latency_ms},
        **overview(session, settings),
    )


def _back(anchor: str, **done: Any) -> RedirectResponse:
    return RedirectResponse(f"/it?{urlencode(done)}#{anchor}", status.HTTP_303_SEE_OTHER)


@router.post("/it/dead-letters/replay")
def replay_dead_letters(engine: EngineDep, _user: It, id: Annotated[int | None, Form()] = None) -> Response:
    """One dead letter (``id``) or all open ones, with today's mappings."""
    ok, still = engine.replay([id] if id else None)
    return _back("dead-letters", replayed=ok, still=still)


@router.post("/it/deliveries/replay")
def replay_deliveries(dispatcher: DispatcherDep, _user: It, id: Annotated[int | None, Form()] = None) -> Response:
    """Dead outbox deliveries become due again; the dispatcher sends them on its next round."""
    return _back("deliveries", due_again=dispatcher.replay([id] if id else None))


@router.post("/it/pairs/{pair_id}/decision")
def decide_pair(
    request: Request, pair_id: int, session: SessionDep, settings: SettingsDep, user: It, same: Annotated[bool, Form()]
) -> Response:
    try:
        Steward(session, settings.mappings_dir).decide(pair_id, same, actor=f"token:{user.token_id}")
    except StewardError as exc:
        return render(request, "error.html", user, status_code=409, title="Already decided", message=str(exc))
    return _back("review", decided="same" if same else "different")
