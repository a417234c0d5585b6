"""Outbox delivery throughput through Celery + Redis to a target that answers at once.

    python tests/bench/bench_outbox.py [--events 5000] [--workers 1] [--database-url URL] [--redis-url URL]

Orders entered in a CRM (applied as a sync would, each with its outbox event) are routed to an
ERP that is a loopback web hook receiver (tests/support/sink.py: checks each signature and
answers at once), so the figure is the hub's own overhead: route, claim, build the payload,
sign, POST, link, mark sent. Real Celery worker processes (``--pool=solo``) do the work; the
clock runs from queuing ``hub.dispatch`` until the last delivery is marked sent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from celery import Celery  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from connectors.base import SourceRecord  # noqa: E402
from hub.db import get_engine, session_scope  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from hub.outbox.models import OutboxDelivery  # noqa: E402
from hub.settings import BUNDLED_MAPPINGS  # noqa: E402
from hub.sync.connections import add_connection  # noqa: E402
from hub.sync.engine import Applier  # noqa: E402
from tests.support import servers  # noqa: E402
from tests.support.sink import webhook_sink  # noqa: E402
from tests.support.workers import celery_worker  # noqa: E402

KEY = "bench-outbox-key"


def seed(url: str, events: int, customers: int = 100) -> None:
    with session_scope(url) as session:
        apply = Applier(session, BUNDLED_MAPPINGS, "crm")
        people = [
            (SourceRecord(f"A{i}", {}), {"name": f"Kunde {i} GmbH", "country": "DE", "email": f"k{i}@example.de"})
            for i in range(customers)
        ]
        apply.many("customer", people)
    for start in range(0, events, 1000):
        with session_scope(url) as session:
            apply = Applier(session, BUNDLED_MAPPINGS, "crm")
            page = []
            for i in range(start, min(events, start + 1000)):
                order = {
                    "number": f"CRM-{i}",
                    "customer": f"A{i % customers}",
                    "status": "confirmed",
                    "ordered_on": dt.date(2026, 11, 1),
                    "currency": "EUR",
                    "total": Decimal("100"),
                    "lines": [
                        {"id": f"CRM-{i}-1", "product": "P-100", "quantity": Decimal(2), "unit_price": Decimal(50)}
                    ],
                }
                page.append((SourceRecord(order["number"], order), order))
            apply.many("order", page)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--lanes", type=int, default=1, help="parallel senders to the one target")
    ap.add_argument("--concurrency", type=int, default=1, help="overlapping writes within a sender")
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--redis-url", default=None)
    args = ap.parse_args()
    url = servers.create_database(args.database_url or servers.postgres_server_url(), prefix="hub_bench_outbox")
    mappings = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-outbox-mappings-{os.getpid()}"
    import shutil

    shutil.copytree(BUNDLED_MAPPINGS, mappings, dirs_exist_ok=True)
    (mappings / "routes.yaml").write_text(
        "routes:\n  order:\n    entered_in: [crm]\n    send_to: [{connection: erp, stream: orders}]\n"
    )
    broker = args.redis_url or servers.redis_server_url()
    env = {
        "HUB_BROKER_URL": broker,
        "HUB_DATABASE_URL": url,
        "HUB_MAPPINGS_DIR": str(mappings),
        "HUB_TASK_QUEUE": f"hub-bench-{os.getpid()}",
        "HUB_SECRET_KEY": KEY,
    }
    try:
        upgrade(url)
        started = time.perf_counter()
        seed(url, args.events)
        print(f"seeded {args.events} orders with their events in {time.perf_counter() - started:.1f} s", flush=True)
        with webhook_sink(prefix="SO") as sink, ExitStack() as stack:
            with session_scope(url) as session:
                add_connection(
                    session,
                    name="erp",
                    kind="webhook",
                    settings={"url": sink.url, "lanes": args.lanes, "concurrency": args.concurrency},
                    secrets={"signing_secret": sink.secret},
                    secret_key=KEY,
                )
            for _ in range(args.workers):
                stack.enter_context(celery_worker(env))
            time.sleep(3)  # the workers connect to the broker
            started = time.perf_counter()
            Celery(broker=broker).send_task("hub.dispatch", queue=env["HUB_TASK_QUEUE"])
            sent = 0
            while sent < args.events:
                time.sleep(0.25)
                with session_scope(url) as session:
                    sent = (
                        session.scalar(
                            select(func.count()).select_from(OutboxDelivery).where(OutboxDelivery.status == "sent")
                        )
                        or 0
                    )
                if time.perf_counter() - started > 600:
                    raise SystemExit(f"only {sent} of {args.events} sent after 10 min")
            seconds = time.perf_counter() - started
            posts = len(sink.received)
        row = f"| {args.events} | {args.workers} | {args.lanes} | {args.concurrency} | {seconds:.1f} | {args.events / seconds:,.0f} | {posts} |"
        print(row)
    finally:
        get_engine(url).dispose()
        servers.drop_database(url)
        shutil.rmtree(mappings, ignore_errors=True)
    out = ROOT / "tests" / "bench" / "results" / f"outbox-{dt.date.today()}.md"
    header = [
        f"# Outbox delivery throughput — {dt.date.today()}",
        "",
        "`python tests/bench/bench_outbox.py --events N --workers W --lanes L --concurrency C`: PostgreSQL, Redis broker, "
        "W Celery worker processes (`--pool=solo`), L lanes (parallel senders) to the one target, C overlapping writes per sender, target a loopback web hook receiver that checks "
        "signatures and answers at once (posts include the customers created on first use).",
        "",
        "| events | workers | lanes | concurrency | seconds | events/s | POSTs received |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines = out.read_text().splitlines() if out.exists() else header
    out.write_text("\n".join([*lines, row]) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
