"""Hub-side apply rate without the source system: map + link + upsert, on PostgreSQL.

    python tests/bench/bench_apply.py [--records 5000] [--database-url URL]

Feeds records shaped like the Tryton connector's (mapped by mappings/connectors/tryton.yaml)
straight into the sync engine's Applier, page by page in one transaction per page, as a sync
does: customers into the master (normalise, match, survive), then orders with two lines each.
A second pass over the same records measures the unchanged path (link + content hash only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from hub.db import get_engine, session_scope  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from hub.settings import BUNDLED_MAPPINGS  # noqa: E402
from hub.sync.engine import Applier  # noqa: E402
from hub.sync.mapping import load_connector_map  # noqa: E402
from tests.bench.customer_data import generate  # noqa: E402
from tests.support import servers  # noqa: E402


def apply_all(url: str, stream: str, entity: str, records: list[dict], page: int = 200) -> float:
    cmap = load_connector_map(BUNDLED_MAPPINGS, "tryton")
    started = time.perf_counter()
    for start in range(0, len(records), page):
        with session_scope(url) as session:
            apply = Applier(session, BUNDLED_MAPPINGS, "erp")
            for record in records[start : start + page]:
                with session.begin_nested():
                    try:
                        apply(entity, str(record["id"]), cmap.apply(stream, record), None)
                    except ValueError:
                        pass  # a record the master refuses (the generator's noise) is skipped here
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=5000)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    frame = generate(args.records, seed=7)
    customers = [
        {"id": i, "name": r["name"], "tax_id": r["tax_id"] or None, "email": r["email"] or None,
         "phone": r["phone"] or None, "street": r["street"] or None, "city": r["city"] or None,
         "postcode": r["postcode"] or None, "country": r["country"] or None}
        for i, r in enumerate(frame.to_dict("records"), 1)
    ]
    orders = [
        {"id": i, "number": f"SO{i:06d}", "reference": f"PO-{i}", "party": c["id"], "state": "confirmed",
         "sale_date": dt.date(2026, 11, 1), "currency": "EUR", "total_amount": Decimal("100.00"),
         "lines": [{"id": 2 * i, "product": "P-100", "description": "x", "quantity": Decimal(1),
                    "unit_price": Decimal("60.00")},
                   {"id": 2 * i + 1, "product": "P-200", "description": "y", "quantity": Decimal(2),
                    "unit_price": Decimal("20.00")}]}
        for i, c in enumerate(customers, 1)
    ]
    url = servers.create_database(args.database_url or servers.postgres_server_url(), prefix="hub_bench_apply")
    try:
        upgrade(url)
        rows = []
        for label, stream, entity, records in (
            ("customers, new", "customers", "customer", customers),
            ("orders (2 lines), new", "orders", "order", orders),
            ("customers, unchanged", "customers", "customer", customers),
            ("orders, unchanged", "orders", "order", orders),
        ):
            seconds = apply_all(url, stream, entity, records)
            rows.append(f"| {label} | {len(records)} | {seconds:.1f} | {len(records) / seconds:.0f} |")
            print(rows[-1], flush=True)
    finally:
        get_engine(url).dispose()
        servers.drop_database(url)
    out = ROOT / "tests" / "bench" / "results" / f"apply-{dt.date.today()}.md"
    out.write_text("\n".join([
        f"# Hub-side apply rate — {dt.date.today()}", "",
        f"`python tests/bench/bench_apply.py --records {args.records}`; PostgreSQL 15 on this machine, one process.", "",
        "| records | count | seconds | records/s |", "|---|---:|---:|---:|", *rows, "",
    ]))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
