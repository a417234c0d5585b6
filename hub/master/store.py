"""The master's tables seen by the matching engine: candidates from ``match_keys`` in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, text, union_all
from sqlalchemy.orm import Session

from hub.master.index import rank_candidates
from hub.master.keys import prepare
from hub.master.matching import Candidate
from hub.master.models import CustomerSource, MatchKey


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A source record's match fields as stored (the engine's ``MatchRecord``)."""

    name_key: str | None
    name_tokens: tuple[str, ...]
    tax_id: str | None
    email: str | None
    email_domain: str | None
    phone: str | None
    street: str | None
    city: str | None
    postcode: str | None
    country: str | None
    legal_form: str | None = None


_MATCH_COLUMNS = (
    CustomerSource.id,
    CustomerSource.golden_id,
    CustomerSource.name_key,
    CustomerSource.tax_id,
    CustomerSource.email,
    CustomerSource.email_domain,
    CustomerSource.phone,
    CustomerSource.street,
    CustomerSource.city,
    CustomerSource.postcode,
    CustomerSource.country,
    CustomerSource.legal_form,
)


def stored(values: Sequence[Any]) -> StoredRecord:
    """A record of the match columns (name_key … legal_form, in ``_MATCH_COLUMNS``' order after
    the two ids), as the store and a page's index read them back."""
    name_key: str | None = values[0]
    return StoredRecord(
        name_key=name_key,
        name_tokens=tuple(name_key.split()) if name_key else (),
        tax_id=values[1],
        email=values[2],
        email_domain=values[3],
        phone=values[4],
        street=values[5],
        city=values[6],
        postcode=values[7],
        country=values[8],
        legal_form=values[9],
    )


def stored_of(source: CustomerSource) -> StoredRecord:
    """A loaded source record's match form, as :func:`stored` reads it from a row."""
    return stored([getattr(source, column.key) for column in _MATCH_COLUMNS[2:]])


class SqlIndex:
    """Candidate lookup over ``match_keys``: one statement on PostgreSQL, two elsewhere.

    Keys shared by more than ``max_block_size`` records are skipped, as in the batch path;
    each key reads at most ``max_block_size + 1`` index entries, so a huge block costs no
    more than a small one.
    """

    def __init__(self, session: Session, max_block_size: int, max_candidates: int):
        self.session = session
        self.max_block_size = max_block_size
        self.max_candidates = max_candidates

    def candidates(self, keys: Sequence[str]) -> list[Candidate]:
        if not keys:
            return []
        keys = list(dict.fromkeys(keys))
        if self.session.get_bind().dialect.name == "postgresql":
            return self._candidates_postgres(keys)
        return self._candidates_generic(keys)

    def _candidates_generic(self, keys: list[str]) -> list[Candidate]:
        per_key = [
            select(
                select(MatchKey.key, MatchKey.source_id)
                .where(MatchKey.key == key)
                .order_by(MatchKey.source_id)
                .limit(self.max_block_size + 1)
                .subquery()
            )
            for key in keys
        ]
        rows = self.session.execute(union_all(*per_key)).all()
        by_key: dict[str, list[int]] = {}
        for key, source_id in rows:
            by_key.setdefault(key, []).append(source_id)
        # The same ranking as the batch path: most shared keys first.
        wanted = rank_candidates([by_key.get(key, []) for key in keys], self.max_block_size, self.max_candidates)
        if not wanted:
            return []
        found = self.session.execute(select(*_MATCH_COLUMNS).where(CustomerSource.id.in_(wanted))).all()
        rank = {sid: position for position, sid in enumerate(wanted)}
        found = sorted(found, key=lambda row: rank[row[0]])
        return [Candidate(row[0], row[1], prepare(stored(row[2:]))) for row in found]

    def _candidates_postgres(self, keys: list[str]) -> list[Candidate]:
        """The same selection in one round trip: most of the generic path's time is building
        and sending its statements, not PostgreSQL's index scans."""
        rows = self.session.execute(
            _PG_CANDIDATES,
            {
                "keys": keys,
                "scan": self.max_block_size + 1,
                "max_block": self.max_block_size,
                "limit": self.max_candidates,
            },
        ).all()
        return [Candidate(row[0], row[1], prepare(stored(row[2:]))) for row in rows]


# Keys in order; per key at most max_block + 1 index entries (a larger block is skipped);
# sources ranked by keys shared, then by the first key they share, then by id — exactly the
# order of rank_candidates over the blocks.
_PG_CANDIDATES = text(
    """
    WITH k AS (
        SELECT key, ord FROM unnest(CAST(:keys AS varchar[])) WITH ORDINALITY AS t(key, ord)
    ), hits AS (
        SELECT k.ord, m.source_id, count(*) OVER (PARTITION BY k.ord) AS block
        FROM k CROSS JOIN LATERAL (
            SELECT source_id FROM match_keys WHERE match_keys.key = k.key
            ORDER BY source_id LIMIT :scan
        ) AS m
    ), ranked AS (
        SELECT source_id, count(*) AS shared, min(ord) AS first
        FROM hits WHERE block <= :max_block
        GROUP BY source_id
        ORDER BY shared DESC, first, source_id
        LIMIT :limit
    )
    SELECT s.id, s.golden_id, s.name_key, s.tax_id, s.email, s.email_domain, s.phone,
           s.street, s.city, s.postcode, s.country, s.legal_form
    FROM ranked AS r JOIN customer_sources AS s ON s.id = r.source_id
    ORDER BY r.shared DESC, r.first, r.source_id
    """
)


def replace_keys(session: Session, source_id: int, keys: Sequence[str]) -> None:
    session.execute(delete(MatchKey).where(MatchKey.source_id == source_id))
    unique = list(dict.fromkeys(keys))
    if unique:
        session.execute(insert(MatchKey), [{"key": k, "source_id": source_id} for k in unique])


def sources_of(session: Session, golden_id: int) -> list[CustomerSource]:
    return list(
        session.scalars(select(CustomerSource).where(CustomerSource.golden_id == golden_id).order_by(CustomerSource.id))
    )


def count_sources(session: Session, golden_id: int) -> int:
    return (
        session.scalar(select(func.count()).select_from(CustomerSource).where(CustomerSource.golden_id == golden_id))
        or 0
    )
