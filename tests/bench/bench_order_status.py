"""The order status API at scale: latency and requests/s with 1M orders on PostgreSQL.

    python tests/bench/bench_order_status.py [--orders 1000000] [--requests 5000] [--clients 2,8]
        [--workers 2] [--database-url URL]

Fills a fresh database with SQL (``generate_series``): 20k golden customers, N orders with two
lines each, every order linked in two systems, a shipment with a line for every second order, an
invoice for every third and a payment for every sixth, a few audit entries per order and one per
shipment and invoice. Then
``hub serve``'s app runs under uvicorn with W worker processes, and C client threads ask
``GET /api/v1/orders/{id}/status`` for random orders, keep-alive, with a sales token (the client
threads share this process and its GIL: with many of them the client adds to the latency).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402

from hub.auth.models import Role  # noqa: E402
from hub.auth.tokens import create_token  # noqa: E402
from hub.db import get_engine, session_scope  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from tests.support import servers  # noqa: E402

FILL = [
    "INSERT INTO golden_customers (id, name, country, provenance, status, created_at, updated_at) "
    "SELECT g, 'Kunde ' || g || ' GmbH', 'DE', '{}', 'active', now(), now() FROM generate_series(1, 20000) g",
    "INSERT INTO orders (id, number, reference, customer_id, status, stage, owner, ordered_on, currency, total, data, updated_at) "
    "SELECT g, 'CRM-' || g, 'PO-' || g, 1 + g % 20000, 'confirmed', 'delivery', 'anna', date '2026-01-01' + (g % 300), "
    "'EUR', 100, '{}', now() FROM generate_series(1, :n) g",
    "INSERT INTO order_lines (id, order_id, product, description, quantity, unit_price) "
    "SELECT g, (g + 1) / 2, 'P-' || (g % 50), 'item', 1 + g % 3, 25 FROM generate_series(1, 2 * :n) g",
    "INSERT INTO links (entity_type, hub_id, system, external_id, external_ref, content_hash, created_at, updated_at) "
    "SELECT 'order', g, s.system, s.prefix || g, s.prefix || g, '-', now(), now() "
    "FROM generate_series(1, :n) g, (VALUES ('crm', 'CRM-'), ('erp', 'SO')) AS s(system, prefix)",
    "INSERT INTO shipments (id, number, order_id, status, planned_on, shipped_on, data, updated_at) "
    "SELECT g, 'SH' || g, g * 2, 'shipped', date '2026-02-01', date '2026-02-02', '{}', now() FROM generate_series(1, :n / 2) g",
    "INSERT INTO shipment_lines (shipment_id, order_line_id, product, quantity) "
    "SELECT g, 4 * g - 1, 'P-1', 1 FROM generate_series(1, :n / 2) g",
    "INSERT INTO invoices (id, number, order_id, customer_id, status, issued_on, currency, total, amount_due, due_dates, data, updated_at) "
    "SELECT g, 'INV' || g, g * 3, 1 + (g * 3) % 20000, 'open', date '2026-03-01', 'EUR', 100, 100, "
    '\'[{"date": "2026-04-01", "amount": "100"}]\', \'{}\', now() FROM generate_series(1, :n / 3) g',
    "INSERT INTO payments (reference, invoice_id, customer_id, amount, currency, paid_on, data, updated_at) "
    "SELECT 'PAY' || g, g * 2, 1, 50, 'EUR', date '2026-03-15', '{}', now() FROM generate_series(1, :n / 6) g",
    "INSERT INTO audit_entries (entity_type, hub_id, field, before, after, actor, changed_at) "
    "SELECT 'order', g, f.field, f.before, f.after, f.actor, now() - (f.n || ' hours')::interval "
    "FROM generate_series(1, :n) g, (VALUES ('*', NULL, 'CRM', 'crm', 3), ('status', 'draft', 'confirmed', 'erp', 2), "
    "('total', '90', '100', 'crm', 1)) AS f(field, before, after, actor, n)",
    "INSERT INTO audit_entries (entity_type, hub_id, field, before, after, actor, changed_at) "
    "SELECT 'shipment', id, '*', NULL, number, 'erp', now() FROM shipments",
    "INSERT INTO audit_entries (entity_type, hub_id, field, before, after, actor, changed_at) "
    "SELECT 'invoice', id, '*', NULL, number, 'erp', now() FROM invoices",
]
SEQUENCES = ["golden_customers", "orders", "order_lines", "shipments", "invoices"]


def fill(url: str, orders: int) -> None:
    with get_engine(url).begin() as conn:
        for statement in FILL:
            started = time.perf_counter()
            conn.execute(text(statement), {"n": orders})
            print(f"  {statement.split('(')[0].strip()}: {time.perf_counter() - started:.1f} s", flush=True)
        for table in SEQUENCES:
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    with get_engine(url).connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def measure(base: str, headers: dict[str, str], orders: int, requests: int, workers: int, clients: int) -> str:
    """``clients`` threads ask for random orders' status, keep-alive; one result row."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def client(count: int, seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            for _ in range(20):  # warm each worker's connections
                http.get(f"/api/v1/orders/{rng.randint(1, orders)}/status")
            for _ in range(count):
                t = time.perf_counter()
                answer = http.get(f"/api/v1/orders/{rng.randint(1, orders)}/status")
                took = time.perf_counter() - t
                with lock:
                    latencies.append(took)
                    errors += answer.status_code != 200

    threads = [threading.Thread(target=client, args=(requests // clients, 1000 * clients + i)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    ordered = sorted(latencies)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    row = (
        f"| {orders:,} | {workers} | {clients} | {len(ordered)} | {errors} | "
        f"{statistics.median(ordered) * 1000:.1f} | {pick(0.95):.1f} | {pick(0.99):.1f} | {len(ordered) / seconds:,.0f} |"
    )
    print(row, flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--clients", default="2,8", help="client threads; a list runs one measurement each")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--port", type=int, default=8791)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    url = servers.create_database(args.database_url or servers.postgres_server_url(), prefix="hub_bench_status")
    server = None
    try:
        upgrade(url)
        started = time.perf_counter()
        fill(url, args.orders)
        print(f"filled {args.orders:,} orders in {time.perf_counter() - started:.0f} s", flush=True)
        with session_scope(url) as session:
            token = create_token(session, Role.sales, "bench")[1]
        env = {**os.environ, "HUB_DATABASE_URL": url, "HUB_LOG_LEVEL": "WARNING"}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "hub.api.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(args.port),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{args.port}"
        headers = {"Authorization": f"Bearer {token}"}
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        rows = [
            measure(base, headers, args.orders, args.requests, args.workers, int(c)) for c in args.clients.split(",")
        ]
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        get_engine(url).dispose()
        servers.drop_database(url)
    out = ROOT / "tests" / "bench" / "results" / f"order-status-{dt.date.today()}.md"
    header = [
        f"# Order status API at scale — {dt.date.today()}",
        "",
        "`python tests/bench/bench_order_status.py --orders N --workers W --clients C`: PostgreSQL, "
        "uvicorn with W worker processes, C client threads (keep-alive) on the same 2-core machine, "
        "random orders; latency as the client sees it.",
        "",
        "| orders | uvicorn workers | clients | requests | errors | p50 ms | p95 ms | p99 ms | requests/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines = out.read_text().splitlines() if out.exists() else header
    out.write_text("\n".join([*lines, *rows]) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
