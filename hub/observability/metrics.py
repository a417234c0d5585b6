"""Prometheus metrics of the hub, served at ``GET /metrics`` (``hub/api/routers/metrics.py``).

Two kinds, for two reasons:

- **Counters** of what this process did (records a sync read, created, updated, left unchanged
  or failed, per connection and stream; runs; outbox deliveries handled) are incremented by
  the engine and the dispatcher as it happens. They live in the memory of the process that
  did the work, as Prometheus counters do: Prometheus takes ``rate()`` over them and copes
  with restarts. In the scale-out mode the work happens in Celery workers, not in the API
  process that answers the scrape: give the API and the workers one shared folder in
  ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode; a volume in compose)
  and the scrape adds up every process's counters.
- **Gauges** of the hub's state (open dead letters, outbox backlog and lag, queue depth,
  overdue amount, open alerts, review pairs) are computed from the database (and the
  broker) at scrape time. The database is the one place that is right whichever of many
  workers did the work, so these need no multiprocess registry and never drift; each is an
  aggregate over an indexed column, cheap enough for a scrape every 15 s.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol

from prometheus_client import REGISTRY, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from hub.db import as_utc, session_scope, utcnow
from hub.settings import Settings

log = logging.getLogger(__name__)

OUTCOMES = ("read", "created", "updated", "unchanged", "failed")

RECORDS = Counter(
    "hub_sync_records", "Records handled by syncs in this process, by outcome.", ["connection", "stream", "outcome"]
)
RUNS = Counter(
    "hub_sync_runs", "Sync runs finished in this process, by status (done, failed).", ["connection", "stream", "status"]
)
DELIVERIES = Counter(
    "hub_outbox_deliveries_handled",
    "Outbox deliveries handled in this process, by outcome (sent, retrying, dead).",
    ["target", "outcome"],
)

#: kombu's Redis transport keeps a queue's priority levels in separate lists: "hub", "hub\x06\x163", …
_KOMBU_PRIORITY_SEP, _KOMBU_PRIORITY_STEPS = "\x06\x16", (3, 6, 9)


class _RunCounts(Protocol):
    read: int
    created: int
    updated: int
    unchanged: int
    failed: int
    status: str


class _DeliveryCounts(Protocol):
    target: str
    sent: int
    retrying: int
    dead: int


def count_run(connection: str, stream: str, result: _RunCounts) -> None:
    """Called by the engine when a stream's run ends (done or failed)."""
    for outcome in OUTCOMES:
        RECORDS.labels(connection, stream, outcome).inc(getattr(result, outcome))
    RUNS.labels(connection, stream, result.status).inc()


def count_deliveries(report: _DeliveryCounts) -> None:
    """Called by the dispatcher after a lane's deliveries."""
    for outcome in ("sent", "retrying", "dead"):
        DELIVERIES.labels(report.target, outcome).inc(getattr(report, outcome))


def exposition(settings: Settings) -> bytes:
    """The text a scrape gets: this process's (or all processes') counters, then the gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    state = CollectorRegistry()
    state.register(HubState(settings))
    return generate_latest(processes) + generate_latest(state)


class HubState:
    """A custom collector: gauges read at scrape time (see the module docstring)."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        with session_scope(self.settings.database_url) as session:
            yield from database_gauges(session, utcnow())
        yield from broker_gauges(self.settings.broker_url, self.settings.task_queue)


def _gauge(name: str, doc: str, labels: list[str], samples: Any) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for values, value in samples:
        family.add_metric([v if v is not None else "" for v in values], float(value or 0))
    return family


def _age(now: datetime, then: datetime | None) -> float:
    stamp = as_utc(then)
    return max(0.0, (now - stamp).total_seconds()) if stamp else 0.0


def _open(now: datetime, until: datetime | None) -> int:
    stamp = as_utc(until)
    return int(stamp is not None and stamp > now)


def database_gauges(session: Session, now: datetime) -> Iterator[GaugeMetricFamily]:
    from hub.master.models import ReviewPair
    from hub.outbox.models import OutboxDelivery, OutboxEvent
    from hub.receivables.models import Alert, Instalment
    from hub.sync.models import Connection, DeadLetter

    dead_letters = session.execute(
        select(Connection.name, func.count(DeadLetter.id))
        .outerjoin(DeadLetter, and_(DeadLetter.connection_id == Connection.id, DeadLetter.status == "open"))
        .group_by(Connection.name)
    ).all()
    yield _gauge(
        "hub_dead_letters_open",
        "Records a sync could not apply, waiting for a fix and a replay.",
        ["connection"],
        (((name,), n) for name, n in dead_letters),
    )
    yield _gauge(
        "hub_connection_circuit_open",
        "1 while a connection's circuit breaker leaves it alone.",
        ["connection"],
        (
            ((name,), _open(now, until))
            for name, until in session.execute(select(Connection.name, Connection.open_until))
        ),
    )

    backlog: dict[tuple[str, str], int] = {}
    for target, status, n in session.execute(
        select(OutboxDelivery.target, OutboxDelivery.status, func.count())
        .where(OutboxDelivery.status.in_(("pending", "dead")))
        .group_by(OutboxDelivery.target, OutboxDelivery.status)
    ):
        backlog[(target, status)] = n
    targets = sorted({t for t, _s in backlog})
    yield _gauge(
        "hub_outbox_deliveries",
        "Outbox deliveries waiting (pending) or given up (dead), per target.",
        ["target", "status"],
        (((t, s), backlog.get((t, s), 0)) for t in targets for s in ("pending", "dead")),
    )
    oldest_due = dict(
        session.execute(
            select(OutboxDelivery.target, func.min(OutboxDelivery.created_at))
            .where(OutboxDelivery.status == "pending", OutboxDelivery.next_attempt_at <= now)
            .group_by(OutboxDelivery.target)
        ).all()
    )
    yield _gauge(
        "hub_outbox_delivery_lag_seconds",
        "Age of the oldest delivery that is due and not sent, per target.",
        ["target"],
        (((t,), _age(now, oldest_due.get(t))) for t in targets),
    )
    unrouted, first = session.execute(
        select(func.count(), func.min(OutboxEvent.created_at)).where(OutboxEvent.routed_at.is_(None))
    ).one()
    yield _gauge("hub_outbox_unrouted_events", "Outbox events not yet turned into deliveries.", [], [((), unrouted)])
    yield _gauge(
        "hub_outbox_routing_lag_seconds", "Age of the oldest outbox event not yet routed.", [], [((), _age(now, first))]
    )

    yield _gauge(
        "hub_receivables_overdue_amount",
        "Outstanding amount of overdue instalments (as of the last scan), per currency.",
        ["currency"],
        (
            ((cur,), total)
            for cur, total in session.execute(
                select(Instalment.currency, func.sum(Instalment.outstanding))
                .where(Instalment.status == "overdue")
                .group_by(Instalment.currency)
            )
        ),
    )
    yield _gauge(
        "hub_receivables_alerts_open",
        "Receivable alerts not acknowledged, snoozed or resolved, per level.",
        ["level"],
        (
            ((str(level),), n)
            for level, n in session.execute(
                select(Alert.level, func.count()).where(Alert.status == "open").group_by(Alert.level)
            )
        ),
    )
    yield _gauge(
        "hub_review_pairs_pending",
        "Customer pairs waiting for a data steward's decision.",
        [],
        [((), session.scalar(select(func.count()).select_from(ReviewPair).where(ReviewPair.status == "pending")))],
    )


def broker_gauges(broker_url: str | None, queue: str) -> Iterator[GaugeMetricFamily]:
    """Tasks waiting in the Celery queue; nothing when tasks run in-process (no broker)."""
    if not broker_url:
        return
    try:
        depth = queue_depth(broker_url, queue)
    except Exception as exc:  # noqa: BLE001 - a broker down is reported by the scrape, never fails it
        log.warning("broker unreachable for the queue depth: %s", type(exc).__name__)
        yield _gauge("hub_broker_up", "1 when the Celery broker answered the scrape.", [], [((), 0)])
        return
    yield _gauge("hub_broker_up", "1 when the Celery broker answered the scrape.", [], [((), 1)])
    yield _gauge("hub_celery_queue_depth", "Tasks waiting in the Celery queue.", ["queue"], [((queue,), depth)])


def queue_depth(broker_url: str, queue: str) -> int:
    """Redis: ``LLEN`` of the queue's list (and its priority lists); AMQP: a passive declare."""
    if broker_url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        client = redis.Redis.from_url(broker_url, socket_timeout=2, socket_connect_timeout=2)
        try:
            with client.pipeline(transaction=False) as pipe:
                for key in [queue, *(f"{queue}{_KOMBU_PRIORITY_SEP}{p}" for p in _KOMBU_PRIORITY_STEPS)]:
                    pipe.llen(key)
                return sum(pipe.execute())
        finally:
            client.close()
    from kombu import Connection as BrokerConnection

    with BrokerConnection(broker_url, connect_timeout=2) as broker:
        try:
            return int(broker.default_channel.queue_declare(queue, passive=True).message_count)
        except broker.channel_errors:  # no such queue yet: no worker declared it, nothing sent
            return 0
