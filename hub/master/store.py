"""The master's tables seen by the matching engine: candidates from ``match_keys`` in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, union_all
from sqlalchemy.orm import Session

from hub.master.index import rank_candidates
from hub.master.matching import Candidate, prepare
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
)


def _stored(row: Sequence[object]) -> StoredRecord:
    name_key = row[2]
    return StoredRecord(
        name_key=name_key,  # type: ignore[arg-type]
        name_tokens=tuple(name_key.split()) if name_key else (),  # type: ignore[union-attr]
        tax_id=row[3],  # type: ignore[arg-type]
        email=row[4],  # type: ignore[arg-type]
        email_domain=row[5],  # type: ignore[arg-type]
        phone=row[6],  # type: ignore[arg-type]
        street=row[7],  # type: ignore[arg-type]
        city=row[8],  # type: ignore[arg-type]
        postcode=row[9],  # type: ignore[arg-type]
        country=row[10],  # type: ignore[arg-type]
    )


class SqlIndex:
    """Candidate lookup over ``match_keys``: two indexed queries per incoming record.

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
        per_key = [
            select(
                select(MatchKey.key, MatchKey.source_id)
                .where(MatchKey.key == key)
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
        wanted = rank_candidates(
            [by_key.get(key, []) for key in keys], self.max_block_size, self.max_candidates
        )
        if not wanted:
            return []
        found = self.session.execute(
            select(*_MATCH_COLUMNS).where(CustomerSource.id.in_(wanted))
        ).all()
        rank = {sid: position for position, sid in enumerate(wanted)}
        found.sort(key=lambda row: rank[row[0]])
        return [Candidate(row[0], row[1], prepare(_stored(row))) for row in found]


def replace_keys(session: Session, source_id: int, keys: Sequence[str]) -> None:
    session.execute(delete(MatchKey).where(MatchKey.source_id == source_id))
    unique = list(dict.fromkeys(keys))
    if unique:
        session.execute(insert(MatchKey), [{"key": k, "source_id": source_id} for k in unique])


def sources_of(session: Session, golden_id: int) -> list[CustomerSource]:
    return list(
        session.scalars(
            select(CustomerSource)
            .where(CustomerSource.golden_id == golden_id)
            .order_by(CustomerSource.id)
        )
    )


def count_sources(session: Session, golden_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(CustomerSource).where(CustomerSource.golden_id == golden_id)
    ) or 0
