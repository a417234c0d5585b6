"""The batch contract ``hub master match INPUT.csv --out OUT.csv``.

Same normaliser, keys, weights and decisions as live ingest (:mod:`hub.master.matching`), with
the blocking index in memory instead of in ``match_keys``. A malformed value is left out of the
comparison rather than quarantining the row: the contract is one output row per input row.
"""

from __future__ import annotations

import csv
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

from hub.canonical import CUSTOMER_FIELDS
from hub.master.index import MemoryIndex
from hub.master.matching import Candidate, Matcher, MatchRecord, blocking_keys, prepare
from hub.master.normalise import NormalisedCustomer, identifies_something, normalise_customer
from hub.master.rules import MatchRules, match_rules

INPUT_COLUMNS = ("source_system", "source_id", *CUSTOMER_FIELDS)
FIELDS = INPUT_COLUMNS[2:]


def _normalise(values: tuple[str | None, ...]) -> NormalisedCustomer:
    return normalise_customer(dict(zip(FIELDS, values)))


def _normalise_chunk(chunk: list[tuple[str | None, ...]]) -> list[tuple[Any, ...]]:
    # Plain tuples cross the process boundary several times faster than dataclasses.
    return [tuple(getattr(n, f) for f in _NORM_FIELDS) for n in map(_normalise, chunk)]


_NORM_FIELDS = tuple(f.name for f in fields(NormalisedCustomer))


def _normalised(values: list[tuple[str | None, ...]]) -> Iterator[NormalisedCustomer]:
    """Normalise in a second process, a few chunks ahead of matching, which stays one
    sequential pass (records are matched one after another, as they arrive live)."""
    if len(values) < 20_000 or (os.cpu_count() or 1) < 2 or "fork" not in mp.get_all_start_methods():
        yield from map(_normalise, values)
        return
    chunks = [values[i : i + 5_000] for i in range(0, len(values), 5_000)]
    with mp.get_context("fork").Pool(1) as pool:
        for chunk in pool.imap(_normalise_chunk, chunks):
            for row in chunk:
                yield NormalisedCustomer(*row)


def _usable(norm: NormalisedCustomer) -> bool:
    """The live path's rule (hub.master.ingest.identifies_something): batch and live take the
    same records in and treat bad fields the same way."""
    return identifies_something(norm)


def match_file(
    input_csv: Path,
    out_csv: Path,
    mappings_dir: Path,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    started = time.perf_counter()
    with input_csv.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in INPUT_COLUMNS[:2] if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{input_csv}: missing column(s) {missing}; expected {list(INPUT_COLUMNS)}")
        rows = list(reader)
    total = len(rows)
    values = [tuple(row.get(f) for f in FIELDS) for row in rows]
    unusable = [0]

    def records() -> Iterator[NormalisedCustomer | None]:
        for norm in _normalised(values):
            if _usable(norm):
                yield norm
            else:
                unusable[0] += 1
                yield None

    done = [0]

    def advance(count: int) -> None:
        done[0] += count
        if progress:
            progress(done[0], total)

    labels = match_batch(records(), match_rules(mappings_dir), advance)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with out_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_system", "source_id", "golden_id"])
        for row, label in zip(rows, labels):
            writer.writerow([row["source_system"], row["source_id"], f"G{label + 1}"])
    if progress:
        progress(total, total)
    return {
        "records": total,
        "golden": len(set(labels)),
        "unusable": unusable[0],
        "seconds": time.perf_counter() - started,
    }


def match_batch(
    records: Iterable[MatchRecord | None],
    rules: MatchRules,
    progress: Callable[[int], None] | None = None,
) -> list[int]:
    """Golden id (0-based cluster label) per record; ``None`` records stand alone.

    Pairs in the review band stay apart: without a steward, the batch answer is the one the
    live hub gives before anyone has looked.
    """
    matcher = Matcher(rules)
    index = MemoryIndex(rules.blocking.max_block_size, rules.blocking.max_candidates)
    labels: list[int] = []
    merged_into: list[int] = []  # golden id -> the golden id it was merged into (itself if alive)

    def alive(golden: int) -> int:
        while merged_into[golden] != golden:
            merged_into[golden] = merged_into[merged_into[golden]]
            golden = merged_into[golden]
        return golden

    for position, rec in enumerate(records):
        if rec is None:
            golden = len(merged_into)
            merged_into.append(golden)
        else:
            rec = prepare(rec)
            keys = blocking_keys(rec)
            candidates = [Candidate(c.source_id, alive(c.golden_id), c.record) for c in index.candidates(keys)]
            decision = matcher.decide(rec, candidates)
            if decision.golden_id is None:
                golden = len(merged_into)
                merged_into.append(golden)
            else:
                golden = decision.golden_id
                for other in decision.bridged:  # the live path merges these the same way
                    merged_into[alive(other)] = golden
            index.add(rec, golden, keys)
        labels.append(golden)
        if progress is not None and position % 1000 == 999:
            progress(1000)
    if progress is not None:
        progress(len(labels) % 1000)
    return [alive(label) for label in labels]
