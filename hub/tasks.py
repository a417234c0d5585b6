"""Celery app and tasks.

With ``HUB_BROKER_URL`` unset (the embedded default) tasks run in-process and eagerly, so
``hub serve`` needs no broker. With a broker set, the same tasks run on Celery workers
(``celery -A hub.tasks worker``); that is the path the scale-out deployment and its tests use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery

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
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
    )
    return app


celery_app = make_celery()
app = celery_app  # `celery -A hub.tasks` finds `app`


@celery_app.task(name="hub.import_customers")
def import_customers_task(system: str, path: str, full: bool | None = None) -> dict[str, Any]:
    """Import a customer export on a worker; idempotent, so a redelivery changes nothing."""
    from hub.sync.imports import import_customers

    settings = get_settings()
    summary = import_customers(
        settings.database_url, settings.mappings_dir, system, Path(path), full=full
    )
    return {
        "run_id": summary.run_id,
        "read": summary.read,
        "created": summary.created,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "quarantined": summary.quarantined,
        "missing": summary.missing,
    }
