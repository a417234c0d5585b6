"""Records/s of a full and an incremental sync from a real Tryton into the hub.

    python tests/bench/bench_tryton_sync.py [--parties 2000 --sales 5000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Starts Tryton from the bulk seed cache (built once, see hub/demo/erp_seed.py), creates a
fresh hub database on the given PostgreSQL server, runs a full sync, an incremental sync with
nothing changed, and an incremental sync after 100 sales were touched in Tryton. Prints a table
and writes it to tests/bench/results/tryton-sync-<date>.md. The overlap window is set to 1 s
here (default 300 s) so that the incremental runs show what an incremental read costs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from hub.db import get_engine, session_scope  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from hub.settings import BUNDLED_MAPPINGS  # noqa: E402
from hub.sync.connections import add_connection  # noqa: E402
from hub.sync.engine import SyncEngine  # noqa: E402
from tests.support import servers, tryton  # noqa: E402


def run(engine: SyncEngine, label: str, rows: list[str]) -> None:
    started = time.perf_counter()
    results = engine.sync("erp")
    seconds = time.perf_counter() - started
    read = sum(r.read for r in results)
    detail = ", ".join(f"{r.stream} {r.read}/{r.created}c/{r.updated}u/{r.unchanged}=/{r.failed}f" for r in results)
    rows.append(f"| {label} | {read} | {seconds:.1f} | {read / seconds:.0f} | {detail} |")
    print(rows[-1], flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parties", type=int, default=2000)
    ap.add_argument("--sales", type=int, default=5000)
    ap.add_argument("--database-url", default=None, help="PostgreSQL server URL (default: embedded)")
    args = ap.parse_args()

    server_url = args.database_url or servers.postgres_server_url()
    url = servers.create_database(server_url, prefix="hub_bench_sync")
    rows = [
        "| run | records read | seconds | records/s | per stream read/created/updated/unchanged/failed |",
        "|---|---:|---:|---:|---|",
    ]
    try:
        upgrade(url)
        with tryton.start_tryton(parties=args.parties, sales=args.sales) as erp:
            with session_scope(url) as session:
                add_connection(
                    session,
                    name="erp",
                    kind="tryton",
                    secret_key="bench",
                    settings={
                        "url": erp.url,
                        "database": erp.database,
                        "login": erp.login,
                        "page_size": 200,
                        "overlap_seconds": 1,
                    },
                    secrets={"password": erp.password},
                )
            engine = SyncEngine(url, BUNDLED_MAPPINGS, "bench")
            run(engine, "full (first) sync", rows)
            # The seed was written seconds ago: step past the (here 1 s) overlap window, or
            # every record would be re-read (and found unchanged by its content hash).
            time.sleep(2)
            run(engine, "incremental, nothing changed", rows)
            with erp.client() as client:
                ids = client.search("sale.sale", [], 0, 100, [("id", "DESC")])
                for sale_id in ids:
                    client.write("sale.sale", [sale_id], {"reference": f"BENCH-{sale_id}"})
            run(engine, "incremental, 100 sales changed", rows)
    finally:
        get_engine(url).dispose()
        servers.drop_database(url)
    out = ROOT / "tests" / "bench" / "results" / f"tryton-sync-{dt.date.today()}.md"
    earlier = (
        out.read_text().rstrip("\n").splitlines() if out.exists() else [f"# Tryton → hub sync — {dt.date.today()}"]
    )
    out.write_text(
        "\n".join(
            [  # runs accumulate: one section each
                *earlier,
                "",
                f"## {args.parties:,} parties / {args.sales:,} sales, {dt.datetime.now():%H:%M}",
                "",
                f"`python tests/bench/bench_tryton_sync.py --parties {args.parties} --sales {args.sales}`; "
                "hub on PostgreSQL, Tryton 8.2 on SQLite, both on this machine (2 cores); "
                f"load average {os.getloadavg()[0]:.1f} at the end.",
                "",
                *rows,
                "",
            ]
        )
    )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
