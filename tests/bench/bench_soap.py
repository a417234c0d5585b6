"""Records/s through the SOAP connector, both shapes of the legacy CRM, two page sizes.

    python tests/bench/bench_soap.py [--accounts 1500]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

The CRM simulator (a real SOAP service on loopback, in a thread of this process) holds
``--accounts`` accounts and as many orders with two lines each. Per shape and page size it
measures (1) the connector alone reading customers and orders (SOAP call, zeep parsing,
flattening) and (2) a full sync of both streams into a fresh hub database on PostgreSQL (read
+ map + apply: customers through matching, orders through links). Prints a table and writes it
to tests/bench/results/soap-2026-11-22.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from connectors.soap import SoapConnector
from hub.db import get_engine
from hub.migrate import upgrade
from hub.settings import BUNDLED_MAPPINGS
from hub.sync.engine import SyncEngine
from simulators.legacy_crm import CrmStore, RunningCrm, serve
from tests.support import servers
from tests.support.legacy_crm import KEY, PASSWORD, USER, add_crm_connection

RESULT = ROOT / "tests" / "bench" / "results" / "soap-2026-11-22.md"
STREAMS = ["customers", "orders"]
_A = ["Nord", "Süd", "Alpen", "Rhein", "Baltic", "Delta", "Kilo", "Vega", "Orion", "Lumen", "Terra", "Quant"]
_B = ["tech", "werk", "bau", "pumpen", "logistik", "metall", "form", "tronic", "plast", "ventil"]
_C = ["Berlin", "Hamburg", "München", "Köln", "Lyon", "Milano", "Wien", "Praha", "上海", "東京"]


def bulk_store(accounts: int) -> CrmStore:
    store = CrmStore(users={USER: PASSWORD})
    rows = [{
        "id": f"C{i:06d}", "name": f"{_A[i % 12]}{_B[i // 12 % 10]} {_C[i // 120 % 10]} {i} GmbH",
        "email1": f"einkauf@firma{i}.example", "phone_office": f"+49 30 {5550000 + i}",
        "billing_address_street": f"Hauptstraße {i % 200 + 1}", "billing_address_city": _C[i // 120 % 10],
        "billing_address_postalcode": f"{10000 + i % 89999}", "billing_address_country": "DE",
    } for i in range(accounts)]
    orders = [{
        "id": f"SO{i:06d}", "order_number": f"CRM-{i}", "name": f"PO-{i}", "account_id": f"C{i:06d}",
        "status": "Confirmed", "order_date": "2026-11-02", "currency_id": "EUR", "total_amount": "2589.00",
        "lines": [{"id": f"SO{i:06d}-1", "product_code": "P-100", "name": "Pump", "product_qty": "2",
                   "product_unit_price": "1250.00"},
                  {"id": f"SO{i:06d}-2", "product_code": "P-200", "name": "Valve", "product_qty": "1",
                   "product_unit_price": "89.00"}],
    } for i in range(accounts)]
    store.seed(accounts=rows, orders=orders)
    return store


def read_only(crm: RunningCrm, shape: str, page_size: int) -> tuple[int, float]:
    wsdl = crm.sugar_wsdl if shape == "sugar" else crm.nav_wsdl
    connector = SoapConnector({"service": shape, "wsdl": wsdl, "page_size": page_size,
                               "mappings_dir": str(BUNDLED_MAPPINGS)}, {"username": USER, "password": PASSWORD})
    started = time.perf_counter()
    count = sum(len(page) for stream in STREAMS for page in connector.read(stream, None))
    seconds = time.perf_counter() - started
    connector.close()
    return count, seconds


def full_sync(crm: RunningCrm, shape: str, page_size: int, server_url: str) -> tuple[int, float, str]:
    url = servers.create_database(server_url, prefix="hub_bench_soap")
    try:
        upgrade(url)
        add_crm_connection(url, "crm", shape, crm, BUNDLED_MAPPINGS, page_size=page_size)
        started = time.perf_counter()
        results = SyncEngine(url, BUNDLED_MAPPINGS, KEY).sync("crm", STREAMS)
        seconds = time.perf_counter() - started
        detail = ", ".join(f"{r.stream} {r.status} {r.created}c/{r.failed}f" for r in results)
        return sum(r.read for r in results), seconds, detail
    finally:
        get_engine(url).dispose()
        servers.drop_database(url)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=1500)
    ap.add_argument("--page-sizes", type=int, nargs="+", default=[50, 500])
    ap.add_argument("--database-url", default=None, help="PostgreSQL server URL (default: embedded)")
    args = ap.parse_args()
    server_url = args.database_url or servers.postgres_server_url()
    rows = ["| shape | page size | run | records | seconds | records/s | detail |",
            "|---|---:|---|---:|---:|---:|---|"]
    with serve(bulk_store(args.accounts)) as crm:
        for shape in ("sugar", "nav"):
            for size in args.page_sizes:
                count, seconds = read_only(crm, shape, size)
                rows.append(f"| {shape} | {size} | read only | {count} | {seconds:.1f} | {count / seconds:.0f} | |")
                print(rows[-1], flush=True)
                count, seconds, detail = full_sync(crm, shape, size, server_url)
                rows.append(f"| {shape} | {size} | read + map + apply | {count} | {seconds:.1f} | "
                            f"{count / seconds:.0f} | {detail} |")
                print(rows[-1], flush=True)
    RESULT.write_text(
        "# SOAP connector (legacy CRM) — 2026-11-22\n\n"
        f"`python tests/bench/bench_soap.py --accounts {args.accounts}`: {args.accounts} accounts + "
        f"{args.accounts} orders (2 lines each) in the legacy CRM simulator (SOAP 1.1 over HTTP on loopback, "
        "same process); hub on PostgreSQL on this machine (2 cores). Full reads (no cursor); "
        "`read + map + apply` is `SyncEngine.sync` into a fresh database (customers through matching).\n\n"
        + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    print(f"written to {RESULT}")


if __name__ == "__main__":
    main()
