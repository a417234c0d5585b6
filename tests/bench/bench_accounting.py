"""Read throughput of the accounting connector against the finance simulator (Xero API subset).

    python tests/bench/bench_accounting.py [--contacts 2000 --invoices 10000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Seeds the simulator in memory, then measures (1) the connector alone reading every invoice at
page sizes 100 (Xero's default) and 1000 (its maximum), and (2) a full sync through the sync
engine into a fresh hub database on the given PostgreSQL server (customers → master, invoices
and payments → documents), then an incremental sync with nothing changed (overlap 1 s). Prints
a table and writes it to tests/bench/results/accounting-<date>.md. The simulator runs in this
process, so its JSON encoding shares the CPU with the connector: figures are a floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from connectors.accounting import AccountingConnector
from hub.db import get_engine, session_scope
from hub.migrate import upgrade
from hub.settings import BUNDLED_MAPPINGS
from hub.sync.connections import add_connection
from hub.sync.engine import SyncEngine
from simulators.finance import FinanceServer
from tests.support import servers


def seed(server: FinanceServer, contacts: int, invoices: int) -> None:
    saved = server.books.save(
        "Contacts",
        [
            {
                "Name": f"Customer {n:05d} GmbH",
                "EmailAddress": f"ap{n}@customer{n}.example",
                "Addresses": [
                    {
                        "AddressType": "STREET",
                        "AddressLine1": f"Weg {n}",
                        "City": "Berlin",
                        "PostalCode": f"{10000 + n % 9000}",
                        "Country": "Germany",
                    }
                ],
            }
            for n in range(contacts)
        ],
    )
    due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    made = server.books.save(
        "Invoices",
        [
            {
                "Type": "ACCREC",
                "Contact": {"ContactID": saved[n % contacts]["ContactID"]},
                "Status": "AUTHORISED",
                "DueDate": due,
                "Reference": f"SO-{n}",
                "LineItems": [
                    {"Description": "Item", "Quantity": 2, "UnitAmount": "50.00"},
                    {"Description": "Service", "Quantity": 1, "UnitAmount": "80.00"},
                ],
            }
            for n in range(invoices)
        ],
    )
    server.books.save(
        "Payments",
        [
            {
                "Invoice": {"InvoiceID": i["InvoiceID"]},
                "Account": {"Code": "090"},
                "Amount": "100.00",
                "Reference": f"BANK-{n}",
            }
            for n, i in enumerate(made[::2])
        ],
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contacts", type=int, default=2000)
    ap.add_argument("--invoices", type=int, default=10000)
    ap.add_argument("--database-url", default=None, help="PostgreSQL server URL (default: embedded)")
    args = ap.parse_args()

    machine = f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}"
    rows = [
        (f"Machine: {machine}; {args.contacts} contacts, {args.invoices} invoices, {args.invoices // 2} payments."),
        "",
        "| run | records read | seconds | records/s | detail |",
        "|---|---:|---:|---:|---|",
    ]
    with FinanceServer() as server:
        began = time.perf_counter()
        seed(server, args.contacts, args.invoices)
        print(f"seeded in {time.perf_counter() - began:.1f} s", flush=True)
        secrets = {"client_id": server.client_id, "client_secret": server.client_secret}
        for size in (100, 1000):
            connector = AccountingConnector({"url": server.url, "page_size": size}, secrets)
            started = time.perf_counter()
            read = sum(len(page) for page in connector.read("invoices", None))
            seconds = time.perf_counter() - started
            connector.close()
            rows.append(
                f"| connector only, invoices, pageSize {size} | {read} | {seconds:.2f} | "
                f"{read / seconds:.0f} | {-(-read // size)} requests |"
            )
            print(rows[-1], flush=True)

        url = servers.create_database(args.database_url or servers.postgres_server_url(), prefix="hub_bench_acc")
        try:
            upgrade(url)
            with session_scope(url) as session:
                add_connection(
                    session,
                    name="finance",
                    kind="accounting",
                    secret_key="bench",
                    secrets=secrets,
                    settings={"url": server.url, "page_size": 1000, "overlap_seconds": 1},
                )
            engine = SyncEngine(url, BUNDLED_MAPPINGS, "bench")
            for label in ("full sync into the hub (PostgreSQL)", "incremental, nothing changed"):
                started = time.perf_counter()
                results = engine.sync("finance")
                seconds = time.perf_counter() - started
                read = sum(r.read for r in results)
                detail = ", ".join(f"{r.stream} {r.read}/{r.created}c/{r.unchanged}=/{r.failed}f" for r in results)
                rows.append(f"| {label} | {read} | {seconds:.1f} | {read / max(seconds, 1e-9):.0f} | {detail} |")
                print(rows[-1], flush=True)
        finally:
            get_engine(url).dispose()
            servers.drop_database(url)

    out = ROOT / "tests" / "bench" / "results" / "accounting-2026-11-22.md"
    out.write_text(
        "# Accounting connector read throughput (finance simulator)\n\n"
        "`python tests/bench/bench_accounting.py` (see its docstring)\n\n" + "\n".join(rows) + "\n"
    )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
