"""Hub-side apply rate without the source system: map + link + upsert + outbox, on PostgreSQL.

    python tests/bench/bench_apply.py [--customers 2000] [--documents 20000] [--page 500]
                                      [--processes 1] [--database-url URL]

Feeds records shaped like the Tryton connector's through the same path a sync takes —
``ConnectorMap.apply`` (mappings/connectors/tryton.yaml) then ``Applier.many`` one page per
transaction — without a source system, so the figure is the hub's own cost:

* customers into the master (normalise, block, match, survive: one by one by design);
* orders with two lines each, invoices with a due date, payments — documents, applied
  set-wise per page, each change with its outbox event;
* the same again unchanged (link + content hash only), and the orders again with every
  total changed (updates).

With ``--processes N`` the documents are split into N disjoint parts applied at the same time
by N processes, as N workers syncing N connections (or streams) would; the rate is all records
over the wall time from the first start to the last finish.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from connectors.base import SourceRecord  # noqa: E402
from hub.db import get_engine, session_scope  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from hub.outbox.models import OutboxEvent  # noqa: E402
from hub.settings import BUNDLED_MAPPINGS  # noqa: E402
from hub.sync.engine import Applier  # noqa: E402
from hub.sync.mapping import load_connector_map  # noqa: E402
from hub.sync.models import Link  # noqa: E402
from tests.bench.customer_data import generate  # noqa: E402
from tests.support import servers  # noqa: E402


def apply_all(url: str, stream: str, entity: str, records: list[dict[str, Any]], page: int) -> tuple[float, int]:
    """Seconds taken, and how many records failed (must be 0 for documents)."""
    started, finished, failed = _apply_part(url, stream, entity, records, page)
    return finished - started, failed


def _apply_part(
    url: str, stream: str, entity: str, records: list[dict[str, Any]], page: int
) -> tuple[float, float, int]:
    """(started, finished, failed) on the machine's monotonic clock, comparable across processes."""
    cmap = load_connector_map(BUNDLED_MAPPINGS, "tryton")
    failed = 0
    started = time.perf_counter()
    for start in range(0, len(records), page):
        with session_scope(url) as session:
            apply = Applier(session, BUNDLED_MAPPINGS, "erp")
            mapped = [(SourceRecord(str(r["id"]), r), cmap.apply(stream, r)) for r in records[start : start + page]]
            failed += sum(isinstance(o, Exception) for o in apply.many(entity, mapped))
    return started, time.perf_counter(), failed


def _child(args: tuple[str, str, str, list[dict[str, Any]], int]) -> tuple[float, float, int]:
    get_engine(args[0]).dispose(close=False)  # the parent's pooled connections are not this process's
    return _apply_part(*args)


def apply_parallel(
    url: str, stream: str, entity: str, records: list[dict[str, Any]], page: int, processes: int
) -> tuple[float, int]:
    if processes == 1:
        return apply_all(url, stream, entity, records, page)
    size = -(-len(records) // processes)
    parts = [(url, stream, entity, records[i : i + size], page) for i in range(0, len(records), size)]
    get_engine(url).dispose()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.map(_child, parts)
    return max(r[1] for r in results) - min(r[0] for r in results), sum(r[2] for r in results)


def documents(customers: list[int], count: int) -> dict[str, list[dict[str, Any]]]:
    day = dt.date(2026, 11, 1)
    party = [customers[i % len(customers)] for i in range(count + 1)]
    orders = [
        {
            "id": i,
            "number": f"SO{i:07d}",
            "reference": f"PO-{i}",
            "party": party[i],
            "state": "confirmed",
            "sale_date": day,
            "currency": "EUR",
            "total_amount": Decimal("100.00"),
            "lines": [
                {
                    "id": 2 * i,
                    "product": "P-100",
                    "description": "x",
                    "quantity": Decimal(1),
                    "unit_price": Decimal("60.00"),
                },
                {
                    "id": 2 * i + 1,
                    "product": "P-200",
                    "description": "y",
                    "quantity": Decimal(2),
                    "unit_price": Decimal("20.00"),
                },
            ],
        }
        for i in range(1, count + 1)
    ]
    invoices = [
        {
            "id": i,
            "number": f"INV{i:07d}",
            "party": party[i],
            "sale": i,
            "state": "posted",
            "invoice_date": day,
            "currency": "EUR",
            "total_amount": Decimal("100.00"),
            "amount_to_pay": Decimal("100.00"),
            "maturities": [{"date": day + dt.timedelta(days=30), "amount": Decimal("100.00")}],
        }
        for i in range(1, count + 1)
    ]
    payments = [
        {
            "id": i,
            "move": f"PAY{i:07d}",
            "invoice": i,
            "party": party[i],
            "amount": Decimal("100.00"),
            "currency": "EUR",
            "date": day,
        }
        for i in range(1, count + 1)
    ]
    return {"orders": orders, "invoices": invoices, "payments": payments}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--documents", type=int, default=20000, help="orders, and as many invoices and payments")
    ap.add_argument("--page", type=int, default=500)
    ap.add_argument("--processes", type=int, default=1, help="apply documents from N processes at once")
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    frame = generate(args.customers, seed=7)
    customers = [
        {
            "id": i,
            "name": r["name"],
            "tax_id": r["tax_id"] or None,
            "email": r["email"] or None,
            "phone": r["phone"] or None,
            "street": r["street"] or None,
            "city": r["city"] or None,
            "postcode": r["postcode"] or None,
            "country": r["country"] or None,
        }
        for i, r in enumerate(frame.to_dict("records"), 1)
    ][: args.customers]
    entity = {"customers": "customer", "orders": "order", "invoices": "invoice", "payments": "payment"}
    url = servers.create_database(args.database_url or servers.postgres_server_url(), prefix="hub_bench_apply")
    rows = []
    try:
        upgrade(url)
        seconds, failed = apply_all(url, "customers", "customer", customers, args.page)
        rows.append(
            f"| customers, new (master: match + survive) | {len(customers)} | {failed} | {seconds:.2f} "
            f"| {len(customers) / seconds:,.0f} |"
        )
        print(rows[-1], flush=True)
        # Documents refer only to customers the master took in (the generator adds unusable ones).
        with session_scope(url) as session:
            linked = [int(x) for x in session.scalars(select(Link.external_id).where(Link.entity_type == "customer"))]
        docs = documents(sorted(linked), args.documents)
        changed_orders = [{**o, "total_amount": Decimal("120.00")} for o in docs["orders"]]
        for label, stream, records in (
            ("orders with 2 lines, new", "orders", docs["orders"]),
            ("invoices, new", "invoices", docs["invoices"]),
            ("payments, new", "payments", docs["payments"]),
            ("customers, unchanged", "customers", customers),
            ("orders, unchanged", "orders", docs["orders"]),
            ("invoices, unchanged", "invoices", docs["invoices"]),
            ("orders, every total changed", "orders", changed_orders),
        ):
            if stream == "customers":
                seconds, failed = apply_all(url, stream, entity[stream], records, args.page)
            else:
                seconds, failed = apply_parallel(url, stream, entity[stream], records, args.page, args.processes)
            rows.append(f"| {label} | {len(records)} | {failed} | {seconds:.2f} | {len(records) / seconds:,.0f} |")
            print(rows[-1], flush=True)
        with session_scope(url) as session:
            events = session.scalar(select(func.count()).select_from(OutboxEvent))
        print(f"outbox events written: {events}")
    finally:
        get_engine(url).dispose()
        servers.drop_database(url)
    out = ROOT / "tests" / "bench" / "results" / f"apply-{dt.date.today()}.md"
    title = [f"# Hub-side apply rate — {dt.date.today()}", ""]
    section = [
        f"## `python tests/bench/bench_apply.py --customers {args.customers} --documents {args.documents} "
        f"--page {args.page} --processes {args.processes}`",
        "",
        f"PostgreSQL 15 on this machine (2 cores), {args.processes} process(es), one transaction per page, "
        f"load average {os.getloadavg()[0]:.1f} at the end. Each created or updated document also writes its "
        f"outbox event ({events} events in this run).",
        "",
        "| records | count | failed | seconds | records/s |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
    ]
    earlier = out.read_text().splitlines() if out.exists() else title
    out.write_text("\n".join([*earlier, *section]))  # runs accumulate: one section each
    print(f"written to {out}")


if __name__ == "__main__":
    main()
