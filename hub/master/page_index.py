"""The index a page of new customers is decided against (hub.master.pages): the store's blocks
of all the page's keys, read in one statement, plus the page's own records as they are decided.

It gives candidates in exactly :class:`~hub.master.store.SqlIndex`'s order, so a page decides
as one-by-one ingest would; :class:`~hub.master.index.MemoryIndex` is the batch path's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from hub.bulk import json_text
from hub.master.index import rank_candidates
from hub.master.keys import Prepared, prepare
from hub.master.matching import Candidate
from hub.master.store import stored


class PageIndex:
    """The store's blocks of a page's keys plus the page's own records, in one blocking index.

    Candidates come out in exactly :class:`~hub.master.store.SqlIndex`'s order (keys shared,
    then first shared key, then source id): the store's part of each block first (ascending
    ids, as read), then the page's records in page order (which is the order of the ids they
    get when written). A block counts both parts against ``max_block_size``; a key the store
    already holds more often is no evidence at all. A record is prepared for scoring only
    once it is a candidate: most records of a block never rank.
    """

    def __init__(self, max_block_size: int, max_candidates: int):
        self.max_block_size = max_block_size
        self.max_candidates = max_candidates
        self.blocks: dict[str, list[int]] = {}
        self.too_large = (0,) * (max_block_size + 1)  # what a skipped block looks like
        self.large: set[str] = set()
        self.records: dict[int, tuple[int, Prepared]] = {}
        self.stored: dict[int, tuple[int, Sequence[Any]]] = {}
        self.members: dict[int, set[int]] = {}  # golden id → its source ids here, for regolden

    def load(self, rows: Sequence[Sequence[Any]]) -> None:
        """Rows of :func:`store_blocks`: (key, source id) of a block, (key, None) of a block
        too large, (None, source id, golden id, match columns…) of each source in a block."""
        for row in rows:
            if row[0] is None:
                self.stored[row[1]] = (row[2], row[3:])
                self.members.setdefault(row[2], set()).add(row[1])
            elif row[1] is None:
                self.large.add(row[0])
            else:
                self.blocks.setdefault(row[0], []).append(row[1])
        for block in self.blocks.values():
            block.sort()

    def candidates(self, keys: Sequence[str]) -> list[Candidate]:
        blocks = [self.too_large if key in self.large else self.blocks.get(key, ()) for key in keys]
        wanted = rank_candidates(blocks, self.max_block_size, self.max_candidates)
        return [Candidate(sid, *self._record(sid)) for sid in wanted]

    def _record(self, source_id: int) -> tuple[int, Prepared]:
        found = self.records.get(source_id)
        if found is None:
            golden_id, values = self.stored[source_id]
            found = self.records[source_id] = (golden_id, prepare(stored(values)))
        return found

    def regolden(self, moved: Mapping[int, int]) -> None:
        """Records of golden records merged into another (a bridging record of the page): they
        now name the survivor. Only the moved golden records' members are touched (scanning
        the whole index took 4 ms per bridging record of a first load)."""
        moving = [(new, self.members.pop(old, set())) for old, new in moved.items() if old != new]
        for new, sids in moving:
            for sid in sids:
                for table in (self.records, self.stored):
                    found = table.get(sid)
                    if found is not None:
                        table[sid] = (new, found[1])  # type: ignore[assignment]
            self.members.setdefault(new, set()).update(sids)

    def add(self, source_id: int, golden_id: int, record: Prepared, keys: Sequence[str]) -> None:
        self.records[source_id] = (golden_id, record)
        self.members.setdefault(golden_id, set()).add(source_id)
        for key in keys:
            if key not in self.large:
                self.blocks.setdefault(key, []).append(source_id)


MATCH_NAMES = (
    "name_key",
    "tax_id",
    "email",
    "email_domain",
    "phone",
    "street",
    "city",
    "postcode",
    "country",
    "legal_form",
)


def store_blocks(session: Session, keys: list[str], max_block_size: int) -> list[Sequence[Any]]:
    """The store's side of a page's blocks, for :meth:`PageIndex.load`: per key at most
    ``max_block_size + 1`` index entries (as :class:`~hub.master.store.SqlIndex` reads them),
    a block beyond ``max_block_size`` as one row, each source's match fields once."""
    if not keys:
        return []
    scan = max_block_size + 1
    params = {"scan": scan, "max_block": scan - 1}
    if session.get_bind().dialect.name == "postgresql":
        # one JSON text, not a text array: psycopg escapes an array element by element
        return list(session.execute(_PG_BLOCKS, {**params, "keys": json_text(keys)}))
    rows: list[Sequence[Any]] = []
    for start in range(0, len(keys), 500):  # SQLite's bound on one statement's parameters
        rows += session.execute(_GENERIC_BLOCKS, {**params, "keys": keys[start : start + 500]}).all()
    return rows


_COLUMNS = ", ".join(f"s.{name}" for name in MATCH_NAMES)
_NULLS = ", ".join("NULL" for _ in MATCH_NAMES)
#: Three kinds of rows, told apart by which of key and source id is NULL (see PageIndex.load).
_BLOCK_ROWS = f"""
    SELECT NULL AS key, s.id AS source_id, s.golden_id, {_COLUMNS}
    FROM customer_sources AS s
    WHERE s.id IN (SELECT source_id FROM hits WHERE block <= :max_block)
    UNION ALL
    SELECT key, source_id, NULL, {_NULLS} FROM hits WHERE block <= :max_block
    UNION ALL
    SELECT key, NULL, NULL, {_NULLS} FROM (SELECT DISTINCT key FROM hits WHERE block > :max_block) AS large
"""

_PG_BLOCKS = text(
    f"""
    WITH hits AS (
        SELECT k.key, m.source_id, count(*) OVER (PARTITION BY k.key) AS block
        FROM json_array_elements_text(CAST(:keys AS json)) AS k(key) CROSS JOIN LATERAL (
            SELECT source_id FROM match_keys WHERE match_keys.key = k.key
            ORDER BY source_id LIMIT :scan
        ) AS m
    )
    {_BLOCK_ROWS}
    """
)

_GENERIC_BLOCKS = text(
    f"""
    WITH numbered AS (
        SELECT key, source_id,
               row_number() OVER (PARTITION BY key ORDER BY source_id) AS n,
               count(*) OVER (PARTITION BY key) AS block
        FROM match_keys WHERE key IN :keys
    ), hits AS (
        SELECT key, source_id, block FROM numbered WHERE n <= :scan
    )
    {_BLOCK_ROWS}
    """
).bindparams(bindparam("keys", expanding=True))
