"""The batch contract ``hub master match INPUT.csv --out OUT.csv``.

Same normaliser, keys, weights and decisions as live ingest (:mod:`hub.master.matching`), with
the blocking index in memory instead of in ``match_keys``. A malformed value is left out of the
comparison rather than quarantining the row: the contract is one output row per input row.
"""

from __future__ import annotations

import csv
import gc
import multiprocessing as mp
import os
import time
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from hub.canonical import CUSTOMER_FIELDS
from hub.master.index import rank_candidates
from hub.master.keys import MatchRecord, Prepared, blocking_keys, prepare
from hub.master.matching import Matcher, Tally
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
    """Normalise on every core, in order (each record's normal form is its own business)."""
    cores = os.cpu_count() or 1
    if len(values) < 20_000 or cores < 2 or "fork" not in mp.get_all_start_methods():
        yield from map(_normalise, values)
        return
    chunks = [values[i : i + 5_000] for i in range(0, len(values), 5_000)]
    with mp.get_context("fork").Pool(cores) as pool:
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
    """Match one CSV file of customer records; writes one golden id per input row.

    The cyclic garbage collector is off for the run: the batch builds a few million small
    objects that live until the end and form no cycles, and each collection would walk all
    of them (a fifth of the time at 200k records) and, in the forked workers, touch every
    shared page, copying what copy-on-write would have kept shared.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _match_file(input_csv, out_csv, mappings_dir, progress)
    finally:
        if collecting:
            gc.enable()


def _match_file(
    input_csv: Path,
    out_csv: Path,
    mappings_dir: Path,
    progress: Callable[[int, int], None] | None,
) -> dict[str, Any]:
    started = time.perf_counter()
    with input_csv.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        missing = [c for c in INPUT_COLUMNS[:2] if c not in header]
        if missing:
            raise ValueError(f"{input_csv}: missing column(s) {missing}; expected {list(INPUT_COLUMNS)}")
        at = {column: i for i, column in enumerate(header)}
        # a missing column, or a short row's missing cells, are None, as csv.DictReader gives them
        pick = [at.get(column, -1) for column in INPUT_COLUMNS]
        rows = [tuple(row[i] if 0 <= i < len(row) else None for i in pick) for row in reader if row]
    if not rows:  # an empty read is an error, never 0 golden customers reported as done
        raise ValueError(f"{input_csv}: no customer records below the header")
    total = len(rows)
    values = [row[2:] for row in rows]
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
        writer.writerows((row[0], row[1], f"G{label + 1}") for row, label in zip(rows, labels))
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
    workers: int | None = None,
) -> list[int]:
    """Golden id (0-based cluster label) per record; ``None`` records stand alone.

    Records are decided one after another against what came before, as they would arrive
    live, but the expensive part runs on every core: which earlier records are a record's
    candidates, and each pair's score, depend on the two records alone, so worker processes
    compute them for chunks of records ahead (:func:`_facts_chunk`) while this process makes
    the decisions in order with the same :class:`~hub.master.matching.Tally` as the live path.
    The labels are the same whatever ``workers`` is (a test holds it to that); ``workers``
    defaults to the machine's cores, and 1 computes everything in this process.

    Pairs in the review band stay apart: without a steward, the batch answer is the one the
    live hub gives before anyone has looked.
    """
    matcher = Matcher(rules)
    prepared: list[Prepared] = []
    keys_of: list[list[str]] = []
    sid_at: list[int] = []  # record position -> its index in ``prepared``, -1 when it stands alone
    blocks: dict[str, list[int]] = {}
    for rec in records:
        if rec is None:
            sid_at.append(-1)
            continue
        sid = len(prepared)
        sid_at.append(sid)
        ready = prepare(rec)
        keys = blocking_keys(ready)
        prepared.append(ready)
        keys_of.append(keys)
        for key in keys:
            blocks.setdefault(key, []).append(sid)
    facts = _pair_facts(matcher, prepared, keys_of, blocks, workers)

    tax_of = [r.tax_id for r in prepared]
    golden_of = [0] * len(prepared)
    labels: list[int] = []
    merged_into: list[int] = []  # golden id -> the golden id it was merged into (itself if alive)

    def alive(golden: int) -> int:
        while merged_into[golden] != golden:
            merged_into[golden] = merged_into[merged_into[golden]]
            golden = merged_into[golden]
        return golden

    link = rules.thresholds.link
    chunk: Iterator[tuple[int, int]] = iter(())
    cands: Sequence[int] = ()
    flags: Sequence[int] = ()
    scores: Sequence[float] = ()
    for position, sid in enumerate(sid_at):
        golden = -1
        if sid >= 0:
            span = next(chunk, None)
            if span is None:
                ends, cands, flags, scores = next(facts)
                chunk = zip([0, *ends[:-1]], ends)
                span = next(chunk)
            tally = Tally(link)
            for j in range(*span):
                other = cands[j]
                theirs = golden_of[other]
                if merged_into[theirs] != theirs:
                    theirs = alive(theirs)
                tally.add(theirs, other, tax_of[other], flags[j], scores[j], None)
            decision = matcher.settle(tally)
            if decision.golden_id is not None:
                golden = decision.golden_id
                for bridged in decision.bridged:  # the live path merges these the same way
                    merged_into[alive(bridged)] = golden
        if golden < 0:
            golden = len(merged_into)
            merged_into.append(golden)
        if sid >= 0:
            golden_of[sid] = golden
        labels.append(golden)
        if progress is not None and position % 1000 == 999:
            progress(1000)
    if progress is not None:
        progress(len(labels) % 1000)
    return [alive(label) for label in labels]


#: (chunk ends, candidate ids, flags, scores): the facts of a run of consecutive records; the
#: candidates of record k of the run are ``cands[ends[k-1]:ends[k]]``
_Facts = tuple[array, array, array, array]
_CHUNK = 2_000
#: what a forked worker reads (set before the fork: copy-on-write, never pickled); left set
#: until the next batch, so that ``hub master match`` ends without freeing it (hub.cli.main)
_SHARED: tuple[Matcher, list[Prepared], list[list[str]], dict[str, list[int]]] | None = None


def _pair_facts(
    matcher: Matcher,
    prepared: list[Prepared],
    keys_of: list[list[str]],
    blocks: dict[str, list[int]],
    workers: int | None,
) -> Iterator[_Facts]:
    """The facts of every record, chunk after chunk in order, from ``workers`` processes."""
    global _SHARED
    _SHARED = (matcher, prepared, keys_of, blocks)
    bounds = [(start, min(start + _CHUNK, len(prepared))) for start in range(0, len(prepared), _CHUNK)]
    workers = workers or os.cpu_count() or 1
    if workers < 2 or len(prepared) < 2 * _CHUNK or "fork" not in mp.get_all_start_methods():
        yield from map(_facts_chunk, bounds)
        return
    with mp.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_facts_chunk, bounds)


def _facts_chunk(bounds: tuple[int, int]) -> _Facts:
    """Candidates and pair facts of records ``bounds[0]`` to ``bounds[1] - 1``.

    A record's candidates are the earlier records sharing its blocking keys, ranked as the
    live index ranks them (:func:`~hub.master.index.rank_candidates` over each block as it was
    when the record arrived: the block's ids before the record's own).
    """
    assert _SHARED is not None
    matcher, prepared, keys_of, blocks = _SHARED
    cap, limit = matcher.rules.blocking.max_block_size, matcher.rules.blocking.max_candidates
    link = matcher.rules.thresholds.link  # below it a pair changes no label: not scored exactly
    ends, cands, flags, scores = array("l"), array("l"), array("b"), array("d")
    for sid in range(*bounds):
        rec = prepared[sid]
        earlier: list[Sequence[int]] = []
        for key in keys_of[sid]:
            ids = blocks[key]
            before = bisect_left(ids, sid)
            # a block already over the cap is skipped unread: its length is all that counts
            earlier.append(ids[:before] if before <= cap else range(before))
        for other in rank_candidates(earlier, cap, limit):
            flag, score = matcher.candidate_facts(rec, prepared[other], floor=link)
            cands.append(other)
            flags.append(flag)
            scores.append(score)
        ends.append(len(cands))
    return ends, cands, flags, scores
