"""Whole-pipeline throughput: file drops → sync → hub (PostgreSQL) → outbox → web hook target,
all of it on real Celery workers over Redis.

    python tests/bench/bench_pipeline.py [--orders 2000] [--workers 1] [--connections 4]
        [--customers N] [--lanes 1] [--concurrency 1] [--dispatch-every 2]
        [--database-url URL] [--redis-url URL] [--note TEXT]

Sources: ``--connections`` K file drops (connector kind ``files``, layout ``mappings/files/crm.yaml``,
field map ``crm_files``), each with its own inbox holding one customer export (``accounts_*.csv``,
``--customers`` / K customers with distinct valid tax ids, so the master never merges them) and
one order export (``orders_*.csv``, ``;``-separated, German numbers and dates, one row per line):
order i goes to drop i mod K, with one line when i is even and two when it is odd, for a
customer of that drop. The files are written before the clock starts.

Target: one connection ``erp`` of kind ``webhook`` pointing at ``tests/support/sink.py`` (checks
every signature, answers at once); a private mappings folder whose ``routes.yaml`` sends orders
entered in the K drops to ``erp``. The dispatcher creates each customer in ``erp`` on its first
order, so the sink also receives the customers.

What runs: W (``--workers``) Celery worker processes (``tests/support/workers.celery_worker``,
``--pool=solo``). The drops get ``interval_seconds``, and the clock starts when the bench queues
``hub.schedule_syncs`` — the task beat runs every 30 s — which queues, per drop, the chain
``hub.sync(customers) → hub.sync(orders)``. A sync that changed something queues
``hub.dispatch`` itself (hub/tasks.py); ``hub.dispatch`` routes and queues ``hub.deliver`` per
lane of ``erp``. No beat process runs, so the bench stands in for beat's ``dispatch-outbox``
entry and queues ``hub.dispatch`` every ``--dispatch-every`` seconds (2, as beat does; 0 = never):
without it, deliveries routed while another ``hub.deliver`` held the lane's lease would wait
for the next sync. Before the clock, the workers are pinged and warmed with a few
``hub.dispatch`` tasks (imports), and the database is empty but migrated.

Clock: from queuing ``hub.schedule_syncs`` until the last order delivery is marked sent
(``outbox_deliveries.delivered_at``). Also reported: when the last order sync finished
(``sync_runs.finished_at``: every order applied, with its outbox event) and when the first
delivery was sent (a delivery's time is its batch's, up to 500 at once: "first sent" is the end
of the first batch). Checks at the end (a failure is printed loudly, marked FAILED in the row,
and the exit status is 1): N orders with their lines in the hub, no dead letters, exactly N
order deliveries all sent, the sink received each order once (no duplicates, no missing
numbers) and no bad signature. Separately, a loud WARNING and the row name every sync run that
did not end ``done`` and count the tasks that raised on the workers (their output above INFO
is kept in ``$TMPDIR/bench-pipeline-<pid>-workers.log``): the data can be complete while the hub
stumbled on the way, and a stumble can cost time (a crashed ``hub.deliver`` leaves its claimed
batch for the claim lease, 2 min).

Results: a row appended to tests/bench/results/pipeline-<date>.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from celery import Celery
from sqlalchemy import func, select

from hub.db import as_utc, get_engine, session_scope, utcnow
from hub.documents.models import Order, OrderLine
from hub.migrate import upgrade
from hub.outbox.models import OutboxDelivery, OutboxEvent
from hub.settings import BUNDLED_MAPPINGS
from hub.sync.connections import add_connection
from hub.sync.models import DeadLetter, SyncRun
from tests.bench.customer_data import make_tax_id
from tests.support import servers
from tests.support.sink import webhook_sink
from tests.support.workers import celery_worker

KEY = "bench-pipeline-key"
ACCOUNT_HEADER = [
    "AccountNo",
    "Account Name",
    "Tax ID",
    "Contact E-Mail",
    "Telephone",
    "Street",
    "Town",
    "ZIP",
    "Country Code",
]
ORDER_HEADER = [
    "OrderNo",
    "AccountNo",
    "CustomerPO",
    "Status",
    "OrderDate",
    "Currency",
    "Total",
    "LineNo",
    "Product",
    "Description",
    "Qty",
    "UnitPrice",
]
TOWNS = ["Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Düsseldorf", "Leipzig"]
WORDS = ["Alpen", "Nord", "Rhein", "Hansa", "Linde", "Falke", "Birke", "Adler", "Eiche", "Kranich", "Ostsee", "Tanne"]
TRADES = ["Maschinenbau", "Logistik", "Elektrotechnik", "Metallbau", "Handel", "Kunststofftechnik", "Antriebe"]


def _csv(path: Path, rows: list[list[str]], encoding: str, delimiter: str) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def write_drop(
    inbox: Path, k: int, connections: int, orders: int, customers: int, rng: random.Random, taxes: set[str]
) -> tuple[list[str], int]:
    """Drop k's customer and order exports; its order numbers and how many lines they have."""
    inbox.mkdir(parents=True)
    accounts = [ACCOUNT_HEADER]
    for j in range(customers):
        while (tax := make_tax_id("DE", rng)) in taxes:
            pass
        taxes.add(tax)
        name = f"{WORDS[j % len(WORDS)]} {TRADES[(j // len(WORDS)) % len(TRADES)]} {k}-{j} GmbH"
        accounts.append(
            [
                f"A{k}-{j}",
                name,
                tax,
                f"einkauf@kunde-{k}-{j}.example.de",
                "",
                f"Industriestraße {j + 1}",
                TOWNS[j % len(TOWNS)],
                f"{10000 + j:05d}",
                "DE",
            ]
        )
    _csv(inbox / f"accounts_drop{k}.csv", accounts, "utf-8", ",")
    rows, numbers, lines = [ORDER_HEADER], [], 0
    for i in range(k, orders, connections):
        number = f"SO-{k}-{i:07d}"
        numbers.append(number)
        items = [("P-100", "Pumpe", 2, "50,00")] + ([("P-200", "Ventil", 1, "25,00")] if i % 2 else [])
        total = "125,00" if i % 2 else "100,00"
        customer = f"A{k}-{(i // connections) % customers}"
        for n, (product, text, qty, price) in enumerate(items, 1):
            rows.append(
                [number, customer, f"PO-{i}", "AUF", "03.11.2026", "EUR", total, str(n), product, text, str(qty), price]
            )
        lines += len(items)
    _csv(inbox / f"orders_drop{k}.csv", rows, "utf-8-sig", ";")
    return numbers, lines


def seconds_after(start: dt.datetime, at: dt.datetime | None) -> float | None:
    return None if at is None else (as_utc(at) - start).total_seconds()


def progress(url: str) -> dict[str, int | dt.datetime | None]:
    with session_scope(url) as session:
        deliveries = dict(
            session.execute(
                select(OutboxDelivery.status, func.count())
                .where(OutboxDelivery.entity_type == "order")
                .group_by(OutboxDelivery.status)
            ).all()
        )
        return {
            "sent": deliveries.get("sent", 0),
            "pending": deliveries.get("pending", 0),
            "dead": deliveries.get("dead", 0),
            "unrouted": session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.routed_at.is_(None))
            )
            or 0,
            "running": session.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.status == "running"))
            or 0,
            "runs": session.scalar(select(func.count()).select_from(SyncRun)) or 0,
        }


def check(url: str, sink, numbers: set[str], lines: int) -> list[str]:
    """What the pipeline must have delivered; an empty list when it all holds."""
    problems = []
    with session_scope(url) as session:
        orders = session.scalar(select(func.count()).select_from(Order)) or 0
        order_lines = session.scalar(select(func.count()).select_from(OrderLine)) or 0
        dead_letters = session.scalar(select(func.count()).select_from(DeadLetter)) or 0
        deliveries = dict(
            session.execute(
                select(OutboxDelivery.status, func.count())
                .where(OutboxDelivery.entity_type == "order")
                .group_by(OutboxDelivery.status)
            ).all()
        )
    if orders != len(numbers):
        problems.append(f"{orders} orders in the hub, expected {len(numbers)}")
    if order_lines != lines:
        problems.append(f"{order_lines} order lines in the hub, expected {lines}")
    if dead_letters:
        problems.append(f"{dead_letters} dead letters")
    if deliveries != {"sent": len(numbers)}:
        problems.append(f"order deliveries {deliveries}, expected {{'sent': {len(numbers)}}}")
    received = [r["data"]["number"] for r in sink.of("orders")]
    if len(received) != len(set(received)):
        problems.append(f"the sink received {len(received) - len(set(received))} order(s) more than once")
    if set(received) != numbers:
        problems.append(
            f"the sink lacks {len(numbers - set(received))} order(s) and has {len(set(received) - numbers)} unexpected"
        )
    if sink.bad_signatures:
        problems.append(f"{sink.bad_signatures} POSTs with a bad signature")
    return problems


def failed_runs(url: str) -> list[str]:
    """Sync runs that did not end ``done`` (their records may all be in: the run failed after)."""
    with session_scope(url) as session:
        rows = session.execute(
            select(SyncRun.system, SyncRun.stream, SyncRun.status, SyncRun.error)
            .where(SyncRun.status != "done")
            .order_by(SyncRun.id)
        ).all()
    return [f"{system}/{stream} {status}: {error}" for system, stream, status, error in rows]


def short(error: str) -> str:
    """``IntegrityError on pk_receivable_orders`` out of a database error's text."""
    kind = error.split(":", 2)[1].strip() if error.count(":") >= 2 else error
    constraint = re.search(r'constraint "([^"]+)"', error)
    where = re.search(r'relation "([^"]+)"', error)
    detail = constraint or where
    return (kind.split("(")[0].strip() or error.splitlines()[0][:60]) + (f" on {detail.group(1)}" if detail else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--connections", type=int, default=4, help="file drops (source connections)")
    ap.add_argument("--customers", type=int, default=None, help="in all drops together (default: orders / 20)")
    ap.add_argument("--lanes", type=int, default=1, help="parallel senders to the target (erp setting)")
    ap.add_argument("--concurrency", type=int, default=1, help="overlapping writes within a sender (erp setting)")
    ap.add_argument(
        "--dispatch-every",
        type=float,
        default=2.0,
        help="seconds between hub.dispatch tasks queued by the bench in beat's stead (0: none)",
    )
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--redis-url", default=None)
    ap.add_argument("--note", default="", help="for the results row, e.g. 'trial, machine shared'")
    args = ap.parse_args()
    k_drops = args.connections
    customers = max(1, (args.customers if args.customers is not None else args.orders // 20) // k_drops)

    url = servers.create_database(args.database_url or servers.postgres_server_url(), prefix="hub_bench_pipeline")
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    mappings = work / "mappings"
    shutil.copytree(BUNDLED_MAPPINGS, mappings)
    drops = [f"drop{k}" for k in range(k_drops)]
    (mappings / "routes.yaml").write_text(
        f"routes:\n  order:\n    entered_in: [{', '.join(drops)}]\n    send_to: [{{connection: erp, stream: orders}}]\n"
    )
    broker = args.redis_url or servers.redis_server_url()
    queue = f"hub-bench-pipeline-{os.getpid()}"
    env = {
        "HUB_BROKER_URL": broker,
        "HUB_DATABASE_URL": url,
        "HUB_MAPPINGS_DIR": str(mappings),
        "HUB_TASK_QUEUE": queue,
        "HUB_SECRET_KEY": KEY,
    }
    celery = Celery(broker=broker)
    problems: list[str] = []
    try:
        upgrade(url)
        rng, taxes = random.Random(22), set()
        numbers: set[str] = set()
        lines = 0
        for k, name in enumerate(drops):
            inbox = work / name
            made, made_lines = write_drop(inbox, k, k_drops, args.orders, customers, rng, taxes)
            numbers.update(made)
            lines += made_lines
        print(
            f"{len(numbers)} orders ({lines} lines) and {customers * k_drops} customers in {k_drops} drops under {work}",
            flush=True,
        )
        with webhook_sink(prefix="SO") as sink, ExitStack() as stack:
            with session_scope(url) as session:
                for name in drops:
                    add_connection(
                        session,
                        name=name,
                        kind="files",
                        secrets={},
                        secret_key=KEY,
                        interval_seconds=3600,
                        settings={
                            "inbox": str(work / name),
                            "files": "crm",
                            "mapping": "crm_files",
                            "settle_seconds": 0,
                        },
                    )
                add_connection(
                    session,
                    name="erp",
                    kind="webhook",
                    secret_key=KEY,
                    settings={"url": sink.url, "lanes": args.lanes, "concurrency": args.concurrency},
                    secrets={"signing_secret": sink.secret},
                )
            workers = [stack.enter_context(celery_worker(env, drain=False)) for _ in range(args.workers)]
            logs: list[str] = []  # all but INFO lines (each task is logged at INFO)
            for worker in workers:
                threading.Thread(
                    target=lambda w=worker: logs.extend(line for line in w.stdout if " INFO " not in line[:40]),
                    daemon=True,
                ).start()
            deadline = time.monotonic() + 60
            while len(celery.control.ping(timeout=1.0) or []) < args.workers:
                if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                    raise SystemExit("the workers did not come up:\n" + "".join(logs[-50:]))
            for _ in range(2 * args.workers):  # warm: the tasks' imports happen on first use
                celery.send_task("hub.dispatch", queue=queue)
            time.sleep(3)

            start = utcnow()
            started = time.perf_counter()
            celery.send_task("hub.schedule_syncs", queue=queue)
            next_dispatch = started + args.dispatch_every
            last_sent, last_change = -1, started
            while True:
                time.sleep(0.25)
                now = time.perf_counter()
                if args.dispatch_every and now >= next_dispatch:
                    celery.send_task("hub.dispatch", queue=queue)
                    next_dispatch = now + args.dispatch_every
                state = progress(url)
                if state["sent"] >= len(numbers):
                    break
                if state["sent"] != last_sent:
                    last_sent, last_change = state["sent"], now
                dead = [w for w in workers if w.poll() is not None]
                if dead:
                    problems.append("a worker exited:\n" + "".join(logs[-50:]))
                    break
                if now - started > args.timeout:
                    problems.append(f"timed out after {args.timeout:.0f} s: {state}")
                    break
                if (
                    state["runs"] >= 2 * k_drops
                    and not state["running"]
                    and not state["pending"]
                    and not state["unrouted"]
                    and now - last_change > 15
                ):
                    problems.append(f"stalled: every sync finished, nothing pending, nothing new for 15 s: {state}")
                    break
            waited = time.perf_counter() - started
            time.sleep(1)  # a duplicate POST still in flight would land now
            for worker in workers:  # stop them before checking: nothing may move under the check
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=10)
            time.sleep(0.5)  # the readers reach the end of the workers' output
            failures = Counter(line.split("[", 1)[0].split()[-1] for line in logs if "raised unexpected" in line)
            log_file = Path(tempfile.gettempdir()) / f"bench-pipeline-{os.getpid()}-workers.log"
            log_file.write_text("".join(logs))
            print(f"workers' output above INFO ({len(logs)} lines; task failures {dict(failures)}): {log_file}")
            with session_scope(url) as session:
                applied = session.scalar(select(func.max(SyncRun.finished_at)).where(SyncRun.stream == "orders"))
                for run in session.scalars(select(SyncRun).order_by(SyncRun.started_at)):
                    print(
                        f"  {run.system}/{run.stream}: {seconds_after(start, run.started_at):5.1f} → "
                        f"{seconds_after(start, run.finished_at) or 0:5.1f} s, created {run.created}, {run.status}"
                    )
                first, last = session.execute(
                    select(func.min(OutboxDelivery.delivered_at), func.max(OutboxDelivery.delivered_at)).where(
                        OutboxDelivery.entity_type == "order", OutboxDelivery.status == "sent"
                    )
                ).one()
            problems += check(url, sink, numbers, lines)
            runs_failed = failed_runs(url)
            seconds = seconds_after(start, last) if not problems else waited
            posts = {"orders": len(sink.of("orders")), "customers": len(sink.of("customers"))}
    finally:
        with celery.connection_for_write() as connection:  # left-over dispatch tasks
            connection.default_channel.queue_purge(queue)
        get_engine(url).dispose()
        servers.drop_database(url)
        shutil.rmtree(work, ignore_errors=True)

    def at(value: float | None) -> str:
        return "–" if value is None else f"{value:.1f}"

    verdict = "ok" if not problems else "FAILED: " + "; ".join(p.splitlines()[0][:120] for p in problems)
    if runs_failed:
        verdict += f"; {len(runs_failed)} of {2 * k_drops} sync runs failed ({', '.join(sorted({short(r) for r in runs_failed}))})"
    errors = ", ".join(f"{name} {n}" for name, n in sorted(failures.items())) or "0"
    row = (
        f"| {len(numbers)} | {lines} | {customers * k_drops} | {k_drops} | {args.workers} | {args.lanes} | "
        f"{args.concurrency} | {seconds:.1f} | {len(numbers) / seconds:,.0f} | {at(seconds_after(start, applied))} | "
        f"{at(seconds_after(start, first))} | {at(seconds_after(start, last))} | "
        f"{posts['orders']} + {posts['customers']} | {errors} | {verdict.replace('|', '/')} | {args.note} |"
    )
    print(row)
    if runs_failed or failures:
        print(
            "\n" + "=" * 78 + "\nWARNING — the hub failed along the way (the data checks above are separate):",
            file=sys.stderr,
        )
        for run in runs_failed:
            print(f"  - sync run {run.splitlines()[0][:300]}", file=sys.stderr)
        print(f"  - task failures on the workers: {dict(failures)} (tracebacks: {log_file})", file=sys.stderr)
        print("=" * 78, file=sys.stderr)
    if problems:
        print("\n" + "!" * 78 + "\nFAILED — the pipeline did not deliver what it should:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print("!" * 78, file=sys.stderr)
    out = ROOT / "tests" / "bench" / "results" / f"pipeline-{dt.date.today()}.md"
    header = [
        f"# Whole-pipeline throughput — {dt.date.today()}",
        "",
        (
            "`python tests/bench/bench_pipeline.py --orders N --workers W --connections K --lanes L --concurrency C`: "
            "K file-drop connections (CSV exports: customers, then orders with one or two lines) → `hub.sync` "
            "(customers → orders chain per drop, queued by `hub.schedule_syncs`) → hub on PostgreSQL with outbox events "
            "→ `hub.dispatch` (queued after each sync that changed something, and every 2 s by the bench in beat's "
            "stead) → `hub.deliver` to one web hook target `erp` (a loopback receiver that checks signatures and answers "
            "at once; L lanes, C overlapping writes per lane). W real Celery worker processes (`--pool=solo`) over Redis. "
            "Clock: queuing `hub.schedule_syncs` → the last order delivery marked sent. *applied at*: the last order "
            "sync finished; *first / last sent at*: order deliveries (each stamped when its batch of up to 500 is settled), "
            "seconds after the clock started. *task failures*: tasks that raised on the workers. Check: N orders and their "
            "lines in the hub, no dead letters, N deliveries sent, the sink got each order exactly once (else FAILED); "
            "sync runs that did not end `done` are named after it."
        ),
        "",
        (
            "| orders | lines | customers | connections | workers | lanes | concurrency | seconds | orders/s | "
            "applied at | first sent at | last sent at | POSTs (orders + customers) | task failures | check | note |"
        ),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    previous = out.read_text().splitlines() if out.exists() else header
    out.write_text("\n".join([*previous, row]) + "\n")
    print(f"written to {out}")
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
