"""Candidate selection shared by both indexes, and the in-memory index of the batch path
(the live path's is :class:`hub.master.store.SqlIndex` over ``match_keys``)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence

from hub.master.keys import MatchRecord, Prepared, prepare
from hub.master.matching import Candidate


def rank_candidates(blocks: Iterable[Sequence[int]], max_block_size: int, limit: int) -> list[int]:
    """Record ids from the blocks, those sharing the most keys with the record first.

    A block larger than ``max_block_size`` is no evidence and is skipped. Sharing several keys
    (a phone and a name, a domain and a city) is what true matches do, so the ``limit`` best
    ranked are all that is scored.
    """
    shared: dict[int, int] = {}
    for ids in blocks:
        if len(ids) > max_block_size:
            continue
        for sid in ids:
            shared[sid] = shared.get(sid, 0) + 1
    if len(shared) <= limit:
        return sorted(shared, key=shared.__getitem__, reverse=True)
    return heapq.nlargest(limit, shared, key=shared.__getitem__)


class MemoryIndex:
    """The blocking index of the batch path: the same keys as ``match_keys``, in a dict."""

    def __init__(self, max_block_size: int, max_candidates: int):
        self.max_block_size = max_block_size
        self.max_candidates = max_candidates
        self.blocks: dict[str, list[int]] = {}
        self.records: list[Prepared] = []
        self.golden: list[int] = []

    def candidates(self, keys: Sequence[str]) -> list[Candidate]:
        blocks = [self.blocks.get(key, ()) for key in keys]
        wanted = rank_candidates(blocks, self.max_block_size, self.max_candidates)
        return [Candidate(sid, self.golden[sid], self.records[sid]) for sid in wanted]

    def add(self, rec: MatchRecord | Prepared, golden_id: int, keys: Sequence[str]) -> int:
        sid = len(self.records)
        self.records.append(prepare(rec))
        self.golden.append(golden_id)
        for key in keys:
            self.blocks.setdefault(key, []).append(sid)
        return sid
