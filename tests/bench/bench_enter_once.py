"""Enter-once latency: from an order saved in the legacy CRM to the sale existing in Tryton.

    python tests/bench/bench_enter_once.py [--orders 30] [--tick 1.0] [--dispatch-every 2.0]
        [--database-url URL] [--redis-url URL]

Real parts throughout: the legacy CRM's SOAP service (simulators/legacy_crm, Sugar shape) on
loopback, a real Tryton 8.2 (tests/support/tryton.py, SQLite), the hub on PostgreSQL, a Redis
broker and one real Celery worker (``--pool=solo``). No beat: this script plays it, queuing
``hub.sync`` for the ``crm`` connection (customers, orders) every ``--tick`` seconds and
``hub.dispatch`` every ``--dispatch-every`` seconds (beat's ``dispatch-outbox`` period), each
only when the worker's queue is empty, so ticks never pile up behind a slow task. A sync that
brings something in queues ``hub.dispatch`` itself (hub/tasks.py), which routes the event and
queues ``hub.deliver`` for the ERP; the ERP's delivery queues the report-back to the CRM,
which the next dispatch tick sends.

Orders are created one by one, each after the previous one reached the CRM back, with a random
pause (0.2-1.2 s) so creations fall anywhere in a tick. Every other order comes with a customer
new to the CRM (so the delivery also creates the party from the golden record); the others use
the customer of the order before. Stage times come from the hub's own timestamps (sync runs,
outbox events and deliveries) and Tryton's ``create_date``; all clocks are this machine's.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import redis
from celery import Celery
from sqlalchemy import select

from hub.db import as_utc, get_engine, session_scope
from hub.migrate import upgrade
from hub.outbox.models import OutboxDelivery, OutboxEvent
from hub.settings import BUNDLED_MAPPINGS
from hub.sync.connections import add_connection
from hub.sync.models import Link, SyncRun
from simulators.legacy_crm import CrmStore
from tests.support import servers, tryton
from tests.support.legacy_crm import KEY, PASSWORD, USER, add_crm_connection, serve
from tests.support.workers import celery_worker

UTC = dt.UTC


@dataclass
class Sample:
    number: int
    new_customer: bool
    saved: dt.datetime  # the order saved in the CRM
    sync_started: dt.datetime  # the hub.sync task (customers, then orders) that brought it in
    applied: dt.datetime  # the hub's order and its outbox event, committed
    routed: dt.datetime  # the event turned into a delivery
    sale_created: dt.datetime  # Tryton's create_date of the sale
    erp_done: dt.datetime  # the delivery marked sent (sale confirmed in Tryton, linked)
    crm_told: dt.datetime  # the report-back sent: the CRM order carries the sale number

    def seconds(self, since: str, until: str) -> float:
        return (getattr(self, until) - getattr(self, since)).total_seconds()


class Ticker(threading.Thread):
    """Plays beat: queues hub.sync(crm) and hub.dispatch on their periods when the queue is idle."""

    def __init__(self, broker: str, queue: str, tick: float, dispatch_every: float):
        super().__init__(daemon=True, name="ticker")
        self.celery = Celery(broker=broker)
        self.redis = redis.Redis.from_url(broker)
        self.queue, self.tick, self.dispatch_every = queue, tick, dispatch_every
        self.stop = threading.Event()

    def run(self) -> None:
        last_dispatch = 0.0
        while not self.stop.wait(self.tick):
            if self.redis.llen(self.queue):
                continue
            self.celery.send_task("hub.sync", args=["crm", ["customers", "orders"]], queue=self.queue)
            if time.monotonic() - last_dispatch >= self.dispatch_every:
                self.celery.send_task("hub.dispatch", queue=self.queue)
                last_dispatch = time.monotonic()


def drain(stream: Any, tail: collections.deque[str]) -> None:
    """Keep reading the worker's output (a full pipe would stall it); keep the last lines."""
    for line in stream:
        tail.append(line)


def enter_order(store: CrmStore, n: int, account: str) -> dict[str, Any]:
    return store.save(
        "orders",
        {
            "order_number": f"CRM-SO-{9000 + n}",
            "name": f"PO-BENCH-{n}",
            "account_id": account,
            "status": "Confirmed",
            "order_date": "2026-11-22",
            "currency_id": "EUR",
            "lines": [
                {
                    "id": f"B{n}-1",
                    "product_code": "P-100",
                    "name": "Hydraulic Pump",
                    "product_qty": "2",
                    "product_unit_price": "1250.00",
                },
                {
                    "id": f"B{n}-2",
                    "product_code": "P-300",
                    "name": "Sealing Kit",
                    "product_qty": "10",
                    "product_unit_price": "12.90",
                },
            ],
        },
    )


def new_account(store: CrmStore, n: int) -> str:
    return store.save(
        "accounts",
        {
            "name": f"Bench Kunde {n} Handels GmbH",
            "email1": f"einkauf@bench-kunde-{n}.example",
            "billing_address_street": f"Ringstraße {n}",
            "billing_address_city": "Kassel",
            "billing_address_postalcode": "34117",
            "billing_address_country": "DE",
        },
    )["id"]


def wait_sample(
    url: str,
    erp: tryton.TrytonServer,
    store: CrmStore,
    crm_id: str,
    n: int,
    new: bool,
    saved: dt.datetime,
    timeout: float = 120,
) -> Sample:
    """Poll the hub (cheap, PostgreSQL) until the CRM got the sale number back; read the stages."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(url) as session:
            hub_id = session.scalar(
                select(Link.hub_id).where(Link.system == "crm", Link.entity_type == "order", Link.external_id == crm_id)
            )
            told = (
                None
                if hub_id is None
                else session.scalar(
                    select(OutboxDelivery.delivered_at).where(
                        OutboxDelivery.target == "crm", OutboxDelivery.hub_id == hub_id, OutboxDelivery.status == "sent"
                    )
                )
            )
            if told is not None:
                event = session.scalars(
                    select(OutboxEvent)
                    .where(
                        OutboxEvent.entity_type == "order", OutboxEvent.hub_id == hub_id, OutboxEvent.origin == "crm"
                    )
                    .order_by(OutboxEvent.id)
                ).first()
                delivery = session.scalars(
                    select(OutboxDelivery).where(
                        OutboxDelivery.target == "erp", OutboxDelivery.hub_id == hub_id, OutboxDelivery.status == "sent"
                    )
                ).one()
                sale_id = int(delivery.external_id or 0)
                orders_run = session.scalar(
                    select(SyncRun.started_at)
                    .where(
                        SyncRun.system == "crm",
                        SyncRun.stream == "orders",
                        SyncRun.created > 0,
                        SyncRun.started_at <= event.created_at,
                    )
                    .order_by(SyncRun.started_at.desc())
                )
                # the same hub.sync task read the customers stream first: the task starts there
                run_started = session.scalar(
                    select(SyncRun.started_at)
                    .where(SyncRun.system == "crm", SyncRun.stream == "customers", SyncRun.started_at <= orders_run)
                    .order_by(SyncRun.started_at.desc())
                )
                break
        time.sleep(0.1)
    else:
        raise SystemExit(f"order {n} did not make it round in {timeout:.0f} s")
    assert store.get("orders", crm_id)["erp_number"], "the CRM order lacks the ERP's number"
    with erp.client() as client:
        [sale] = client.read("sale.sale", [sale_id], ["create_date"])
    return Sample(
        n,
        new,
        saved,
        as_utc(run_started),
        as_utc(event.created_at),
        as_utc(event.routed_at),
        sale["create_date"].replace(tzinfo=UTC),
        as_utc(delivery.delivered_at),
        as_utc(told),
    )


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


STAGES = [
    ("waiting for the sync tick (queue included)", "saved", "sync_started"),
    ("CRM sync task: customers + orders (SOAP read, map, apply, event)", "sync_started", "applied"),
    ("dispatch: task queued, event routed", "applied", "routed"),
    ("delivery up to Tryton's create (party when new)", "routed", "sale_created"),
    ("Tryton: confirm, process; hub links, marks sent", "sale_created", "erp_done"),
    ("**CRM order saved → sale exists in Tryton**", "saved", "sale_created"),
    ("**CRM order saved → ERP delivery done**", "saved", "erp_done"),
    ("report-back: next dispatch tick, set_entry", "erp_done", "crm_told"),
    ("**CRM order saved → CRM shows the ERP's number**", "saved", "crm_told"),
]


def report(samples: list[Sample], args: argparse.Namespace, worker_tail: list[str]) -> str:
    def row(label: str, since: str, until: str, subset: list[Sample]) -> str:
        values = [s.seconds(since, until) for s in subset]
        return f"| {label} | {statistics.median(values):.2f} | {pct(values, 95):.2f} | {max(values):.2f} |"

    new = [s for s in samples if s.new_customer]
    known = [s for s in samples if not s.new_customer]
    lines = [
        f"# Enter once: CRM order → Tryton sale latency — {dt.date.today()}",
        "",
        (
            f"`python tests/bench/bench_enter_once.py --orders {args.orders} --tick {args.tick} "
            f"--dispatch-every {args.dispatch_every}` on this machine (2 cores, shared)."
        ),
        "",
        (
            "How it was measured: the legacy CRM's SOAP service (Sugar shape) on loopback, a real Tryton 8.2 "
            "(SQLite, one `trytond`), the hub on PostgreSQL, Redis broker, **one** Celery worker "
            "(`--pool=solo`). No celery beat: the script queues `hub.sync` for the `crm` connection "
            f"(customers, orders) every {args.tick:g} s and `hub.dispatch` every {args.dispatch_every:g} s "
            "(beat's `dispatch-outbox` period), only when the queue is empty. Orders are saved in the CRM one "
            "at a time (the next after the previous one's round trip, plus a random 0.2–1.2 s pause); every "
            "other one comes with a customer new to the CRM, so its delivery first creates the party in Tryton "
            "from the golden record. Stages come from the hub's timestamps (sync run start, outbox event, "
            "routing, delivery sent) and the sale's `create_date` in Tryton."
        ),
        "",
        f"## All {len(samples)} orders (seconds)",
        "",
        "| stage | p50 | p95 | max |",
        "|---|---:|---:|---:|",
        *(row(label, a, b, samples) for label, a, b in STAGES),
        "",
        "## By customer (seconds, CRM order saved → ERP delivery done)",
        "",
        "| orders | n | p50 | p95 | max |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, subset in (("customer new: party created first", new), ("customer already in Tryton", known)):
        values = [s.seconds("saved", "erp_done") for s in subset]
        if values:
            lines.append(
                f"| {label} | {len(values)} | {statistics.median(values):.2f} | {pct(values, 95):.2f} | "
                f"{max(values):.2f} |"
            )
    lines += [
        "",
        "## Each order (seconds from saving it in the CRM)",
        "",
        "| # | new customer | sync start | applied | routed | sale created | ERP done | CRM told |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in samples:
        lines.append(
            f"| {s.number} | {'yes' if s.new_customer else 'no'} | "
            + " | ".join(
                f"{s.seconds('saved', k):.2f}"
                for k in ("sync_started", "applied", "routed", "sale_created", "erp_done", "crm_told")
            )
            + " |"
        )

    def p50(since: str, until: str) -> float:
        return statistics.median(s.seconds(since, until) for s in samples)

    total = p50("saved", "erp_done")
    tryton_part = p50("routed", "erp_done")
    hub_part = p50("sync_started", "routed")
    lines += [
        "",
        "## Where the time goes",
        "",
        (
            f"Of the median {total:.2f} s from saving the order in the CRM to the ERP delivery done: "
            f"{p50('saved', 'sync_started'):.2f} s waiting for the next sync tick (on average half the "
            f"{args.tick:g} s period), {hub_part:.2f} s in the hub (the sync task reading both CRM streams "
            f"over SOAP, mapping, applying, writing the event; routing), and {tryton_part:.2f} s delivering "
            "to Tryton: the deliver task starting, a JSON-RPC login (each delivery opens its connector), the "
            "party when the customer is new (create from the golden record), the sale's on_change defaults, "
            "create, confirm, and Tryton processing the confirmed sale (shipment) inside that request. "
            f"The report-back adds {p50('erp_done', 'crm_told'):.2f} s (the next dispatch tick, one set_entry)."
        ),
        "",
        (
            "In production the tick is what dominates: beat runs `hub.schedule_syncs` every 30 s and a "
            "connection is synced when its `interval_seconds` has passed, so the wait is ~15 s on average "
            "and up to 30 s (plus the interval if it is longer) — the hub and Tryton parts above stay the same. "
            f"A shorter schedule (or a CRM that can push) is the lever; the hub's own share is {hub_part:.2f} s."
        ),
    ]
    trouble = [line.rstrip() for line in worker_tail if "ERROR" in line or "WARNING" in line]
    lines += [
        "",
        "Worker errors and warnings during the run: " + ("none." if not trouble else ""),
        *(["", "```", *trouble[-10:], "```"] if trouble else []),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=30)
    ap.add_argument("--tick", type=float, default=1.0)
    ap.add_argument("--dispatch-every", type=float, default=2.0)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--redis-url", default=None)
    ap.add_argument("--out", default=str(ROOT / "tests" / "bench" / "results" / "enter-once-2026-11-22.md"))
    args = ap.parse_args()
    rng = random.Random(20261122)
    url = servers.create_database(args.database_url or servers.postgres_server_url(), prefix="hub_bench_enter_once")
    work = Path(tempfile.mkdtemp(prefix="bench-enter-once-"))
    mappings = work / "mappings"
    shutil.copytree(BUNDLED_MAPPINGS, mappings)
    broker = args.redis_url or os.environ.get("HUB_TEST_REDIS_URL") or servers.redis_server_url()
    queue = f"hub-bench-enter-once-{os.getpid()}"
    env = {
        "HUB_BROKER_URL": broker,
        "HUB_DATABASE_URL": url,
        "HUB_MAPPINGS_DIR": str(mappings),
        "HUB_TASK_QUEUE": queue,
        "HUB_SECRET_KEY": KEY,
    }
    samples: list[Sample] = []
    tail: collections.deque[str] = collections.deque(maxlen=200)
    try:
        upgrade(url)
        store = CrmStore(users={USER: PASSWORD})
        with tryton.start_tryton(work / "tryton") as erp, serve(store) as crm:
            add_crm_connection(url, "crm", "sugar", crm, mappings)
            with session_scope(url) as session:
                add_connection(
                    session,
                    name="erp",
                    kind="tryton",
                    secret_key=KEY,
                    settings={"url": erp.url, "database": erp.database, "login": erp.login},
                    secrets={"password": erp.password},
                )
            with celery_worker(env, drain=False) as worker:
                threading.Thread(target=drain, args=(worker.stdout, tail), daemon=True).start()
                ticker = Ticker(broker, queue, args.tick, args.dispatch_every)
                ticker.start()
                time.sleep(3)  # the worker connects; the first ticks read the empty CRM
                account = ""
                for n in range(1, args.orders + 1):
                    new = n % 2 == 1
                    if new:
                        account = new_account(store, n)
                    saved = dt.datetime.now(UTC)
                    order = enter_order(store, n, account)
                    sample = wait_sample(url, erp, store, order["id"], n, new, saved)
                    samples.append(sample)
                    print(
                        f"order {n:2d} ({'new' if new else 'known'} customer): sale in Tryton after "
                        f"{sample.seconds('saved', 'sale_created'):.2f} s, CRM told after "
                        f"{sample.seconds('saved', 'crm_told'):.2f} s",
                        flush=True,
                    )
                    time.sleep(rng.uniform(0.2, 1.2))
                ticker.stop.set()
    finally:
        get_engine(url).dispose()
        servers.drop_database(url)
        shutil.rmtree(work, ignore_errors=True)
    text = report(samples, args, list(tail))
    Path(args.out).write_text(text)
    print(text)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
