"""File-drop throughput: parsing alone, and end to end through the sync engine on PostgreSQL.

    python tests/bench/bench_files.py [--rows 100000] [--e2e-customers 3000] [--database-url URL]

Generates a CRM customer export (``tests/bench/customer_data.generate``: realistic names,
tax ids, phones in many countries) and an order export of the same size (one row per order
line, five lines per order, German number/date formats, ``;``-separated — the shape of
``mappings/files/crm.yaml``'s ``orders*.csv``). Measures

* read: ``FileDropConnector.read`` alone (decode + csv + typed values + line grouping +
  ``SourceRecord``s), every row of both files;
* end to end: ``SyncEngine.sync`` into a fresh hub database on PostgreSQL — customers first
  (``--e2e-customers`` of them: the master matches one by one, ~100/s, so the full file would
  take a quarter of an hour), then every order of the order file against those customers;
* where the time goes end to end: read, field mapping (``ConnectorMap.apply``) and the rest
  (the engine's apply: links, master or document store, commits).

Results: tests/bench/results/files-2026-11-22.md (written with ``--write``).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from connectors.filedrop import FileDropConnector
from hub.db import get_engine, session_scope
from hub.migrate import upgrade
from hub.settings import BUNDLED_MAPPINGS
from hub.sync.connections import add_connection
from hub.sync.engine import SyncEngine
from hub.sync.mapping import load_connector_map
from tests.bench.customer_data import generate
from tests.support import servers

KEY = "bench-key"
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


def write_accounts(path: Path, rows: int) -> None:
    frame = generate(rows, seed=22)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(ACCOUNT_HEADER)
        for i, r in enumerate(frame.itertuples(index=False)):
            out.writerow([f"A{i:07d}", r.name, r.tax_id, r.email, r.phone, r.street, r.city, r.postcode, r.country])


def write_orders(path: Path, rows: int, customers: int, lines: int = 5) -> None:
    statuses = ["ENT", "ANG", "AUF", "LIE", "ERL"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, delimiter=";")
        out.writerow(ORDER_HEADER)
        for n in range(rows // lines):
            qty = [1 + (n + k) % 7 for k in range(lines)]
            price = [f"{10 + (n * 7 + k) % 90},{(n + k) % 100:02d}" for k in range(lines)]
            total = sum(q * float(p.replace(",", ".")) for q, p in zip(qty, price))
            for k in range(lines):
                out.writerow(
                    [
                        f"SO-{n:07d}",
                        f"A{n % customers:07d}",
                        f"PO-{n}",
                        statuses[n % 5],
                        f"{1 + n % 28:02d}.{1 + n % 12:02d}.2026",
                        "EUR",
                        f"{total:.2f}".replace(".", ","),
                        k + 1,
                        f"P-{(n + k) % 500:04d}",
                        f"Artikel {(n + k) % 500}",
                        qty[k],
                        price[k],
                    ]
                )


def read_only(inbox: Path, stream: str) -> tuple[int, float, list]:
    connector = FileDropConnector({"inbox": str(inbox), "files": "crm", "settle_seconds": 0}, {})
    started = time.perf_counter()
    records = [r for page in connector.read(stream, None) for r in page]
    return len(records), time.perf_counter() - started, records


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--e2e-customers", type=int, default=3000)
    parser.add_argument("--database-url")
    parser.add_argument("--write", action="store_true", help="write tests/bench/results/files-2026-11-22.md")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-files-"))
    full, e2e = work / "full", work / "e2e"
    full.mkdir()
    e2e.mkdir()
    write_accounts(full / "accounts_bench.csv", args.rows)
    write_orders(full / "orders_bench.csv", args.rows, args.rows)
    size = {p.name: p.stat().st_size for p in full.iterdir()}

    table: list[tuple[str, int, float]] = []
    cmap = load_connector_map(BUNDLED_MAPPINGS, "crm_files")
    mapping_rate: dict[str, float] = {}
    for stream in ("customers", "orders"):
        count, seconds, records = read_only(full, stream)
        table.append((f"read {stream} ({args.rows:,} rows, {count:,} records)", count, seconds))
        started = time.perf_counter()
        for record in records:
            if not record.error:
                cmap.apply(stream, record.data)
        mapping_rate[stream] = count / (time.perf_counter() - started)

    # end to end: a prefix of the customers, then all orders on those customers
    with (
        (full / "accounts_bench.csv").open(encoding="utf-8") as src,
        (e2e / "accounts_e2e.csv").open("w", encoding="utf-8") as dst,
    ):
        for i, line in enumerate(src):
            if i > args.e2e_customers:
                break
            dst.write(line)
    write_orders(e2e / "orders_e2e.csv", args.rows, args.e2e_customers)

    url = args.database_url or servers.create_database(servers.postgres_server_url(), prefix="bench_files")
    try:
        upgrade(url)
        with session_scope(url) as session:
            add_connection(
                session,
                name="crmfiles",
                kind="files",
                secret_key=KEY,
                secrets={},
                settings={
                    "inbox": str(e2e),
                    "files": "crm",
                    "mapping": "crm_files",
                    "settle_seconds": 0,
                    "page_size": 500,
                },
            )
        engine = SyncEngine(url, BUNDLED_MAPPINGS, KEY)
        results = {}
        for stream in ("customers", "orders"):
            started = time.perf_counter()
            [result] = engine.sync("crmfiles", [stream])
            results[stream] = result
            table.append(
                (
                    f"end to end {stream} (created {result.created:,}, failed {result.failed:,})",
                    result.read,
                    time.perf_counter() - started,
                )
            )
    finally:
        get_engine(url).dispose()
        if not args.database_url:
            servers.drop_database(url)
        shutil.rmtree(work, ignore_errors=True)

    lines = [
        "# File-drop throughput — 2026-11-22",
        "",
        f"`python tests/bench/bench_files.py --rows {args.rows} --e2e-customers {args.e2e_customers}`; "
        f"{os.cpu_count()} cores, PostgreSQL hub, one process. Files: "
        + ", ".join(f"{n} {s / 1e6:.1f} MB" for n, s in size.items())
        + ".",
        "",
        "| what | records | seconds | records/s |",
        "|---|---:|---:|---:|",
        *(f"| {what} | {n:,} | {s:.2f} | {n / s:,.0f} |" for what, n, s in table),
        "",
        "Field mapping alone (`ConnectorMap.apply`): "
        + ", ".join(f"{k} {v:,.0f} records/s" for k, v in mapping_rate.items())
        + ".",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    print({k: v for k, v in results.items()})
    if args.write:
        (ROOT / "tests/bench/results/files-2026-11-22.md").write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
