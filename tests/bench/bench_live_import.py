"""Live customer import throughput: ``import_customers`` (what ``hub import customers`` runs)
on PostgreSQL, first load and unchanged re-load.

Generates ``--records`` labelled customers (tests/bench/customer_data.py: three systems,
duplicates, typos, shared tax ids, group companies), writes one CSV per system, imports them
into an empty, migrated database (first load: every record is new and matched), then imports
the same files again (unchanged re-load), and prints records/s for each.

    .venv/bin/python tests/bench/bench_live_import.py --records 20000 [--url URL] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

import customer_data  # noqa: E402
from bench_lookup import drop_database, ensure_database  # noqa: E402

from hub.migrate import upgrade  # noqa: E402
from hub.settings import BUNDLED_MAPPINGS  # noqa: E402
from hub.sync.imports import import_customers  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hub_bench_live_import"
COLUMNS = ("name", "tax_id", "email", "phone", "street", "city", "postcode", "country")
MAPPING = "id_column: id\ncolumns:\n" + "".join(f"  {c}: {c}\n" for c in COLUMNS) + "export: delta\n"


def write_files(n: int, seed: int, folder: Path) -> list[tuple[str, Path]]:
    """One CSV per source system, in the generator's order within each system."""
    frame = customer_data.generate(n, seed)
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


def run(url: str, files: list[tuple[str, Path]], mapping: Path, label: str) -> float:
    records = 0
    started = time.perf_counter()
    for system, path in files:
        summary = import_customers(url, BUNDLED_MAPPINGS, system, path, mapping_path=mapping, full=False)
        records += summary.read
        print(f"  {label} {system}: read {summary.read}, created {summary.created}, "
              f"updated {summary.updated}, unchanged {summary.unchanged}, "
              f"quarantined {summary.quarantined}, decisions {dict(summary.decisions)}")
    seconds = time.perf_counter() - started
    rate = records / seconds
    print(f"{label}: {records} records in {seconds:.1f} s = {rate:,.0f} records/s")
    return rate


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
            files = write_files(args.records, args.seed, folder)
            run(args.url, files, mapping, "first load")
            run(args.url, files, mapping, "unchanged re-load")
    finally:
        if not args.keep:
            drop_database(args.url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
