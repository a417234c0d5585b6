"""The IT page: are the systems healthy, what did the syncs do, what failed and why — and the
two hands-on jobs, replaying what failed once its cause is fixed and deciding the customer
pairs the matcher was unsure about (the data steward's review, with its evidence).

Everything goes through the services the API's IT routes use (``SyncEngine.replay``,
``Dispatcher.replay``, ``Steward.decide``, the ``hub.sync`` task), so the page and ``/api/v1``
cannot disagree. Every form answers 303 back to ``/it`` (POST-redirect-GET): a reload shows the
page again and never repeats the action; what a check or a sync found rides along in a
short-lived signed cookie (``hub.web.it_outcome``).

Cross-site request forgery: every action is a POST form carrying the session's CSRF token
(checked by the ``page_user`` guard), the session cookie is HttpOnly and SameSite=Strict, and
``hub.web.security`` refuses a POST whose ``Origin`` is another host or port.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.api.deps import ConnectionsDep, DispatcherDep, EngineDep, SessionDep, SettingsDep
from hub.auth.models import Role
from hub.db import as_utc, utcnow
from hub.master import quality
from hub.master.steward import Steward, StewardError
from hub.master.views import review_pair
from hub.outbox.dispatch import Dispatcher
from hub.outbox.models import OutboxDelivery, OutboxEvent
from hub.settings import Settings
from hub.sync import quarantine
from hub.sync.connections import describe
from hub.sync.engine import SyncEngine
from hub.sync.models import Connection, DeadLetter, QuarantinedRecord, SyncRun
from hub.sync.runs import mark_interrupted
from hub.web.app import render
from hub.web.auth import PageNotFound, PageUser, page_user
from hub.web.it_outcome import clip, recall, remember

It = Annotated[PageUser, Depends(page_user(Role.it))]


router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)


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


#: how many of the oldest waiting items each backlog list shows
OLDEST = 5


def age(stamp: datetime | None, now: datetime | None = None) -> str:
    """How long ago, as a person reads it at a glance: "45 s", "12 min", "3 h", "2 d"."""
    if stamp is None:
        return "—"
    seconds = max(0, int(((now or utcnow()) - as_utc(stamp)).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def backlog(session: Session) -> dict[str, Any]:
    """What waits in the outbox and the quarantine: counts and the oldest few of each.

    Unrouted events have no target yet (the dispatcher decides the targets when it routes);
    a pending delivery has one, and may be waiting for its next attempt after a failure."""
    unrouted = OutboxEvent.routed_at.is_(None)
    pending = OutboxDelivery.status == "pending"
    open_rows = QuarantinedRecord.resolved_at.is_(None)
    per_target = session.execute(
        select(OutboxDelivery.target, func.count())
        .where(pending)
        .group_by(OutboxDelivery.target)
        .order_by(OutboxDelivery.target)
    )
    return {
        "unrouted_count": session.scalar(select(func.count()).select_from(OutboxEvent).where(unrouted)) or 0,
        "unrouted": list(session.scalars(select(OutboxEvent).where(unrouted).order_by(OutboxEvent.id).limit(OLDEST))),
        "pending_count": session.scalar(select(func.count()).select_from(OutboxDelivery).where(pending)) or 0,
        "pending_by_target": [(t, n) for t, n in per_target],
        "pending": list(
            session.scalars(select(OutboxDelivery).where(pending).order_by(OutboxDelivery.id).limit(OLDEST))
        ),
        "quarantine_count": session.scalar(select(func.count()).select_from(QuarantinedRecord).where(open_rows)) or 0,
        "quarantined": quarantine.open_records(session, limit=OLDEST),
        "finding_examples": quality.findings(session, limit=OLDEST),
    }


@router.get("/it", response_class=HTMLResponse)
def it_page(request: Request, session: SessionDep, settings: SettingsDep, user: It) -> HTMLResponse:
    done = {k: v for k, v in request.query_params.items() if k in ("replayed", "still", "due_again", "decided")}
    kept = recall(request, user)
    check, synced = kept.get("check"), kept.get("sync")
    # shown only on the page the action's redirect led to, and only for the connection it named
    check = check if check and check.get("name") == request.query_params.get("checked") else None
    synced = synced if synced and synced.get("name") == request.query_params.get("synced") else None
    return render(
        request,
        "it.html",
        user,
        done=done,
        check=check,
        synced=synced,
        age=age,
        **overview(session, settings),
        **backlog(session),
    )


def _connection(session: Session, name: str, user: PageUser) -> Connection:
    connection = session.scalar(select(Connection).where(Connection.name == name))
    if connection is None:
        raise PageNotFound(f"no connection named {name!r}", user)
    return connection


@router.post("/it/connections/{name}/check")
def check_connection(
    request: Request, name: str, session: SessionDep, connections: ConnectionsDep, user: It
) -> Response:
    """The connector's own health check; its outcome is shown on the page the redirect leads to."""
    with connections.opened(_connection(session, name, user)) as connector:
        health = connector.check()
    response = _back("connections", checked=name)
    outcome = {"name": name, "ok": health.ok, "detail": clip(health.detail), "latency_ms": health.latency_ms}
    remember(response, request, user, "check", outcome)
    return response


def sync_now(settings: Settings, engine: SyncEngine, dispatcher: Dispatcher, name: str) -> dict[str, Any]:
    """Every stream of connection ``name`` read now, as the scheduler's due-sync would.

    With a broker the sync is queued as the same Celery task beat queues (``hub.sync``; a
    worker runs it, its runs appear under the recent runs). In the embedded default it runs
    here, in-process, and what it changed is routed at once, so the page shows the deliveries
    it caused as pending (the embedded scheduler, or ``hub outbox dispatch``, sends them).
    A sync that cannot run (circuit open, another run holds the stream, the system refused)
    is an outcome shown to the person who asked, not a 500."""
    if settings.broker_url:
        from hub.tasks import sync_task

        try:
            return {"name": name, "queued": True, "task_id": sync_task.delay(name).id}
        except Exception as exc:  # noqa: BLE001 - the broker is down: say so on the page
            log.exception("sync now of %s could not be queued", name)
            return {"name": name, "queued": False, "error": clip(f"could not queue the sync: {exc}")}
    try:
        results = engine.sync(name)
    except Exception as exc:  # noqa: BLE001 - shown on the page and logged, whatever it was
        log.exception("sync now of %s failed", name)
        return {"name": name, "queued": False, "error": clip(f"{type(exc).__name__}: {exc}")}
    routed = dispatcher.route() if any(r.created or r.updated for r in results) else 0
    streams = [
        {
            "stream": r.stream,
            "run_id": r.run_id,
            "status": r.status,
            "read": r.read,
            "created": r.created,
            "updated": r.updated,
            "failed": r.failed,
            "error": clip(r.error),
        }
        for r in results
    ]
    return {"name": name, "queued": False, "streams": streams, "routed": routed}


@router.post("/it/connections/{name}/sync")
def sync_connection_now(
    request: Request,
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    engine: EngineDep,
    dispatcher: DispatcherDep,
    user: It,
) -> Response:
    """The "sync now" button: runs (or queues) the sync, then back to the page, which shows its outcome."""
    _connection(session, name, user)
    session.commit()  # the page's own transaction ends before the sync opens its own
    outcome = sync_now(settings, engine, dispatcher, name)
    response = _back("connections", synced=name)
    remember(response, request, user, "sync", outcome)
    return response


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
