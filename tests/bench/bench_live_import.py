"""Live customer import throughput: ``import_customers`` (what ``hub import customers`` runs)
on PostgreSQL, first load and unchanged re-load.

Generates ``--records`` labelled customers (tests/bench/customer_data.py: three systems,
duplicates, typos, shared tax ids, group companies), writes one CSV per system, imports them
into an empty, migrated database (first load: every record is new and matched), then imports
the same files again (unchanged re-load), and prints records/s for each.

After the first load it also scores what the live path decided against the truth, beside the
batch contract on the same records (issue 17: live F1 within 0.005 of batch, >= 99.5 % of
records in the master):

* share of records that reached a golden record (``customer_sources`` rows / records read);
* live pairwise P/R/F1 (``customer_sources.golden_id`` per system and id; a record that is not
  in the master counts as its own cluster);
* batch P/R/F1 of ``match_file`` (what ``hub master match`` runs) on the same records in the
  live order (system by system, as imported) and in the generator's shuffled order (what
  tests/bench/bench_match.py feeds it). Decisions depend on arrival order, so the first is the
  like-for-like comparison.

    .venv/bin/python tests/bench/bench_live_import.py --records 20000 [--url URL] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

import customer_data  # noqa: E402
import metrics  # noqa: E402
from bench_lookup import drop_database, ensure_database  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from hub.master.batch import match_file  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from hub.settings import BUNDLED_MAPPINGS  # noqa: E402
from hub.sync.imports import import_customers  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hub_bench_live_import"
COLUMNS = ("name", "tax_id", "email", "phone", "street", "city", "postcode", "country")
MAPPING = "id_column: id\ncolumns:\n" + "".join(f"  {c}: {c}\n" for c in COLUMNS) + "export: delta\n"


def write_files(frame, folder: Path) -> list[tuple[str, Path]]:
    """One CSV per source system, in the generator's order within each system."""
    files = []
    for system, part in frame.groupby("source_system", sort=True):
        path = folder / f"{system}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", *COLUMNS])
            for row in part.itertuples(index=False):
                writer.writerow([row.source_id, *(getattr(row, c) or "" for c in COLUMNS)])
        files.append((str(system), path))
    return files


def _server_cpu(url: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the bench database (read
    from /proc: the server runs on this machine), so a run reports the server's share too."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            pids = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            ).scalars()
            out = {}
            for pid in pids:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            return out
    finally:
        engine.dispose()


def run(url: str, files: list[tuple[str, Path]], mapping: Path, label: str) -> float:
    """Import the files; prints records/s beside the CPU seconds of this process and of the
    bench database's PostgreSQL backends, and the machine's load (shared machines vary)."""
    records = 0
    load_before = os.getloadavg()[0]
    server_before = _server_cpu(url)
    cpu_before = time.process_time()
    started = time.perf_counter()
    for system, path in files:
        summary = import_customers(url, BUNDLED_MAPPINGS, system, path, mapping_path=mapping, full=False)
        records += summary.read
        print(
            f"  {label} {system}: read {summary.read}, created {summary.created}, "
            f"updated {summary.updated}, unchanged {summary.unchanged}, "
            f"quarantined {summary.quarantined}, decisions {dict(summary.decisions)}"
        )
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    server = sum(v - server_before.get(pid, 0.0) for pid, v in _server_cpu(url).items())
    rate = records / seconds
    print(
        f"{label}: {records} records in {seconds:.1f} s = {rate:,.0f} records/s "
        f"(CPU: hub {cpu:.1f} s, PostgreSQL backends {server:.1f} s; "
        f"load {load_before:.2f} before, {os.getloadavg()[0]:.2f} after)"
    )
    return rate


def live_output(url: str, out: Path) -> int:
    """What the live path decided: one row (source_system, source_id, golden_id) per record in
    the master, in bench_match's output format; returns the row count."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT system, external_id, golden_id FROM customer_sources")).all()
    finally:
        engine.dispose()
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_system", "source_id", "golden_id"])
        writer.writerows(rows)
    return len(rows)


def batch_output(frame, folder: Path, label: str) -> Path:
    """``match_file`` (the batch contract) on ``frame``'s records in ``frame``'s order."""
    source = folder / f"batch-{label}.csv"
    frame[customer_data.INPUT_COLUMNS].to_csv(source, index=False)
    out = folder / f"out-batch-{label}.csv"
    match_file(source, out, BUNDLED_MAPPINGS)
    return out


def quality(frame, folder: Path, url: str) -> None:
    """Share of records in the master, live F1 and batch F1 on the same records."""
    truth = folder / "truth.csv"
    frame[["source_system", "source_id", "entity_id"]].to_csv(truth, index=False)
    live = folder / "out-live.csv"
    inside = live_output(url, live)
    print(f"records that reached a golden record: {inside} of {len(frame)} = {inside / len(frame):.2%}")
    live_order = frame.sort_values("source_system", kind="stable")  # the order the files were imported in
    results = [
        ("live (import_customers, PostgreSQL)", live),
        ("batch, same order as live", batch_output(live_order, folder, "live-order")),
        ("batch, shuffled input order", batch_output(frame, folder, "shuffled")),
    ]
    for label, out in results:
        scores, _diag = metrics.score_output(str(out), str(truth))
        print(
            f"{label}: precision {scores.precision:.4f} recall {scores.recall:.4f} F1 {scores.f1:.4f} "
            f"(pairs: {scores.true_positive_pairs} of {scores.predicted_pairs} predicted, "
            f"{scores.true_pairs} true)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    drop_database(args.url)
    ensure_database(args.url)
    upgrade(args.url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            mapping = folder / "mapping.yaml"
            mapping.write_text(MAPPING, encoding="utf-8")
            frame = customer_data.generate(args.records, args.seed)
            files = write_files(frame, folder)
            run(args.url, files, mapping, "first load")
            quality(frame, folder, args.url)
            run(args.url, files, mapping, "unchanged re-load")
    finally:
        if not args.keep:
            drop_database(args.url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
