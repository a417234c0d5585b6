"""The outbox on the distributed path: a real Celery worker, with Redis and with RabbitMQ as
the broker, routes and delivers an order to its target exactly once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import func, select

from connectors.base import SourceRecord
from hub.db import session_scope
from hub.outbox.models import OutboxDelivery
from hub.sync.connections import add_connection
from hub.sync.engine import Applier
from tests.support import servers
from tests.support.sink import Sink, webhook_sink
from tests.support.workers import celery_worker, wait_for

KEY = "outbox-worker-key"


def _broker(name: str) -> str:
    if name == "redis":
        return servers.redis_server_url()
    url = servers.amqp_server_url()
    if url is None:
        pytest.skip("HUB_TEST_AMQP_URL is not set: no RabbitMQ to test against")
    return url


@pytest.fixture
def erp(postgres_url: str) -> Iterator[Sink]:
    with webhook_sink(prefix="SO") as sink:
        with session_scope(postgres_url) as session:
            add_connection(
                session,
                name="erp",
                kind="webhook",
                settings={"url": sink.url, "lanes": 2},
                secrets={"signing_secret": sink.secret},
                secret_key=KEY,
            )
        yield sink


@pytest.mark.postgres
@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_a_worker_delivers_orders_once_through_the_broker(
    broker: str, postgres_url: str, mappings_dir: Path, erp: Sink
) -> None:
    (mappings_dir / "routes.yaml").write_text(
        "routes:\n  order:\n    entered_in: [crm]\n    send_to: [{connection: erp, stream: orders}]\n"
    )
    env = {
        "HUB_BROKER_URL": _broker(broker),
        "HUB_DATABASE_URL": postgres_url,
        "HUB_MAPPINGS_DIR": str(mappings_dir),
        "HUB_TASK_QUEUE": f"hub-outbox-{os.getpid()}-{broker}",
        "HUB_SECRET_KEY": KEY,
    }
    with session_scope(postgres_url) as session:
        apply = Applier(session, mappings_dir, "crm")
        customer = {"name": "Rossi S.r.l.", "country": "IT", "email": "info@rossi.example"}
        apply.many("customer", [(SourceRecord("C1", customer), customer)])
        orders = [
            {
                "number": f"CRM-{i}",
                "customer": "C1",
                "status": "confirmed",
                "ordered_on": date(2026, 11, 3),
                "currency": "EUR",
                "total": Decimal(10),
                "lines": [],
            }
            for i in range(20)
        ]
        apply.many("order", [(SourceRecord(o["number"], o), o) for o in orders])

    with celery_worker(env) as worker:
        Celery(broker=env["HUB_BROKER_URL"]).send_task("hub.dispatch", queue=env["HUB_TASK_QUEUE"])

        def all_sent() -> bool:
            with session_scope(postgres_url) as session:
                return (
                    session.scalar(
                        select(func.count()).select_from(OutboxDelivery).where(OutboxDelivery.status == "sent")
                    )
                    == 20
                )

        wait_for(all_sent, worker)
        # the beat's next tick finds nothing more to send
        Celery(broker=env["HUB_BROKER_URL"]).send_task("hub.dispatch", queue=env["HUB_TASK_QUEUE"])
        wait_for(lambda: True, worker, seconds=2)
    assert sorted(r["data"]["number"] for r in erp.of("orders")) == sorted(f"CRM-{i}" for i in range(20))
    # one customer there, even if both lanes asked for it at once (the create is idempotent)
    assert {r["data"]["hub_ref"] for r in erp.of("customers")} == {"concord:customer:1"}
    assert len([ref for ref in erp.ids if ref.startswith("concord:customer:")]) == 1


@pytest.mark.postgres
def test_two_workers_on_two_lanes_create_each_new_customer_in_the_target_once(
    postgres_url: str, mappings_dir: Path, erp: Sink
) -> None:
    """Orders of one customer fall in both lanes (lane = order id modulo 2; 13 customers), so
    both workers need the same new customers while the other's batch is still open: each is
    POSTed once, and nothing fails."""
    (mappings_dir / "routes.yaml").write_text(
        "routes:\n  order:\n    entered_in: [crm]\n    send_to: [{connection: erp, stream: orders}]\n"
    )
    env = {
        "HUB_BROKER_URL": servers.redis_server_url(),
        "HUB_DATABASE_URL": postgres_url,
        "HUB_MAPPINGS_DIR": str(mappings_dir),
        "HUB_TASK_QUEUE": f"hub-lanes-{os.getpid()}",
        "HUB_SECRET_KEY": KEY,
    }
    with session_scope(postgres_url) as session:
        apply = Applier(session, mappings_dir, "crm")
        names = [
            "Adler",
            "Birke",
            "Condor",
            "Delphin",
            "Eiche",
            "Falke",
            "Gemse",
            "Hirsch",
            "Igel",
            "Jaguar",
            "Kranich",
            "Luchs",
            "Marder",
        ]
        people = [
            {"name": f"{name} Maschinenbau GmbH", "country": "DE", "email": f"info@{name.lower()}.example"}
            for name in names
        ]
        apply.many("customer", [(SourceRecord(f"C{i}", p), p) for i, p in enumerate(people)])
        orders = [
            {
                "number": f"CRM-{i}",
                "customer": f"C{i % 13}",
                "status": "confirmed",
                "ordered_on": date(2026, 11, 3),
                "currency": "EUR",
                "total": Decimal(10),
                "lines": [],
            }
            for i in range(96)
        ]
        apply.many("order", [(SourceRecord(o["number"], o), o) for o in orders])

    erp.delay = 0.02
    with celery_worker(env) as first, celery_worker(env) as second:
        Celery(broker=env["HUB_BROKER_URL"]).send_task("hub.dispatch", queue=env["HUB_TASK_QUEUE"])

        def all_sent() -> bool:
            with session_scope(postgres_url) as session:
                return (
                    session.scalar(
                        select(func.count()).select_from(OutboxDelivery).where(OutboxDelivery.status == "sent")
                    )
                    == 96
                )

        wait_for(all_sent, first)
        assert second.poll() is None
        errors = [line for worker in (first, second) for line in worker.tail if "ERROR" in line or "Traceback" in line]  # type: ignore[attr-defined]
    assert sorted(r["data"]["number"] for r in erp.of("orders")) == sorted(f"CRM-{i}" for i in range(96))
    created = [r["data"]["hub_ref"] for r in erp.of("customers")]
    assert sorted(created) == sorted(set(created)) and len(created) == 13
    assert errors == []
