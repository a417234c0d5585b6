"""Celery app and tasks.

With ``HUB_BROKER_URL`` unset (the embedded default) tasks run in-process and eagerly, so
``hub serve`` needs no broker. With a broker set, the same tasks run on Celery workers
(``celery -A hub.tasks worker``); that is the path the scale-out deployment and its tests use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery, chain, signals

from hub.settings import get_settings


def make_celery() -> Celery:
    settings = get_settings()
    app = Celery("hub", broker=settings.broker_url or "memory://", backend=None)
    app.conf.update(
        task_always_eager=settings.broker_url is None,
        task_eager_propagates=True,
        task_acks_late=True,  # a worker killed mid-task leaves the task to be redelivered
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Redis redelivers a killed worker's task after this; longer than a sync's lease (10 min)
        # so a slow but live run is never run twice, short enough that a killed one resumes soon
        broker_transport_options={"visibility_timeout": 900},
        task_default_queue=settings.task_queue,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
    )
    return app


@signals.setup_logging.connect
def _logging(**_kwargs: Any) -> None:
    """Workers log like the rest of the hub (JSON with connection and run ids, if asked)."""
    from hub.observability.logs import configure_logging

    configure_logging()


celery_app = make_celery()
celery_app.conf.beat_schedule = {
    "schedule-due-syncs": {"task": "hub.schedule_syncs", "schedule": 30.0},
    "receivables-scan": {"task": "hub.receivables_scan", "schedule": 3600.0},
    "dispatch-outbox": {"task": "hub.dispatch", "schedule": 2.0},
}
app = celery_app  # `celery -A hub.tasks` finds `app`


@celery_app.task(name="hub.import_customers")
def import_customers_task(system: str, path: str, full: bool | None = None) -> dict[str, Any]:
    """Import a customer export on a worker; idempotent, so a redelivery changes nothing."""
    from hub.sync.imports import import_customers

    settings = get_settings()
    summary = import_customers(settings.database_url, settings.mappings_dir, system, Path(path), full=full)
    return {
        "run_id": summary.run_id,
        "read": summary.read,
        "created": summary.created,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "quarantined": summary.quarantined,
        "missing": summary.missing,
    }


@celery_app.task(name="hub.sync")
def sync_task(
    name: str, streams: list[str] | None = None, full: bool = False, force: bool = False
) -> list[dict[str, Any]]:
    """One connection's sync on a worker. A lease per stream keeps two workers apart."""
    from dataclasses import asdict

    results = [asdict(r) for r in _sync_engine().sync(name, streams, full, force=force)]
    if any(r["created"] or r["updated"] for r in results):
        dispatch_task.delay()  # what the sync changed goes on now, not at the next beat
    return results


@celery_app.task(name="hub.dispatch")
def dispatch_task() -> dict[str, int]:
    """Route new outbox events, then one delivery task per target with due deliveries."""
    from hub import services

    dispatcher = services.dispatcher(get_settings())
    routed = dispatcher.route()
    targets = dispatcher.due_targets()
    for target in targets:
        for lane in range(dispatcher.lanes(target)):
            deliver_task.delay(target, lane)
    return {"routed": routed, "targets": len(targets)}


@celery_app.task(name="hub.deliver")
def deliver_task(target: str, lane: int = 0) -> dict[str, Any]:
    """One lane of a target's due deliveries; a worker finding the lane's lease taken steps back."""
    from dataclasses import asdict

    from hub import services
    from hub.sync.leases import SyncBusy

    try:
        return asdict(services.dispatcher(get_settings()).deliver(target, lane=lane))
    except SyncBusy:
        return {"target": target, "lane": lane, "busy": True}


def _sync_engine() -> Any:
    from hub import services

    return services.sync_engine(get_settings())


@celery_app.task(name="hub.schedule_syncs")
def schedule_syncs() -> list[str]:
    """Beat calls this every 30 s: for each connection whose interval has passed, queue one
    task per stream, chained in the connector's order (customers before the orders that refer
    to them); connections run side by side on the workers, and each stream's lease keeps two
    runs of the same stream apart."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from hub import services
    from hub.db import as_utc, session_scope, utcnow
    from hub.sync.models import Connection, SyncRun

    due: list[tuple[str, list[str]]] = []
    connections = services.connection_service(get_settings())
    with session_scope(get_settings().database_url) as session:
        last = dict(
            session.execute(
                select(SyncRun.connection_id, func.max(SyncRun.started_at)).group_by(SyncRun.connection_id)
            ).all()
        )
        for connection in session.scalars(
            select(Connection).where(Connection.enabled.is_(True), Connection.interval_seconds.is_not(None))
        ):
            started = as_utc(last.get(connection.id))
            if started is None or utcnow() - started >= timedelta(seconds=connection.interval_seconds or 0):
                with connections.opened(connection) as connector:  # closed: it may hold a session
                    due.append((connection.name, [s.name for s in connector.streams]))
    for name, streams in due:
        chain(*(sync_task.si(name, [stream]) for stream in streams)).delay()
    return [name for name, _streams in due]


@celery_app.task(name="hub.receivables_scan")
def receivables_scan_task(as_of: str | None = None) -> dict[str, Any]:
    """Beat runs this hourly; alerts are raised once per level, so a rerun sends nothing twice."""
    from datetime import date

    from hub.receivables.scan import scan

    settings = get_settings()
    return scan(settings.database_url, settings.mappings_dir, date.fromisoformat(as_of) if as_of else None).as_dict()
