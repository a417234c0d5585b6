"""Finding golden customers: by identifier, by a system's id, or by a name typed roughly.

Identifiers are normalised the way records are, so "+49 (0)30 1234567" finds "+49301234567".
Name search reuses the blocking keys of the matching engine and ranks by similarity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.master.ingest import ENTITY
from hub.master.models import CustomerSource, GoldenCustomer, MatchKey
from hub.master.normalise import (
    NormalisationError,
    normalise_email,
    normalise_name,
    normalise_phone,
    normalise_tax_id,
)
from hub.sync.links import get_link


@dataclass(frozen=True, slots=True)
class Hit:
    golden: GoldenCustomer
    score: float
    matched_on: str


def _active(session: Session, golden_ids: list[int]) -> list[GoldenCustomer]:
    """Golden records by id, following merges to the live record; order kept, no repeats."""
    out: dict[int, GoldenCustomer] = {}
    for gid in golden_ids:
        golden = session.get(GoldenCustomer, gid)
        while golden is not None and golden.merged_into_id is not None:
            golden = session.get(GoldenCustomer, golden.merged_into_id)
        if golden is not None:
            out.setdefault(golden.id, golden)
    return list(out.values())


def live_customers(session: Session, golden_ids: list[int]) -> list[GoldenCustomer]:
    """The live golden records of these ids (a merged-away id gives its survivor)."""
    return _active(session, golden_ids)


def _by_source_column(session: Session, column: Any, value: str, label: str) -> list[Hit]:
    ids = list(session.scalars(select(CustomerSource.golden_id).where(column == value).distinct().limit(50)))
    return [Hit(g, 1.0, label) for g in _active(session, ids)]


def by_external_id(session: Session, system: str, external_id: str) -> GoldenCustomer | None:
    link = get_link(session, system, ENTITY, external_id)
    if link is None:
        return None
    found = _active(session, [link.hub_id])
    return found[0] if found else None


def by_tax_id(session: Session, value: str, country: str | None = None) -> list[Hit]:
    try:
        canonical = normalise_tax_id(value, country)
    except NormalisationError:
        canonical = "".join(ch for ch in value.upper() if ch.isalnum())
    if not canonical:
        return []
    return _by_source_column(session, CustomerSource.tax_id, canonical, "tax_id")


def by_phone(session: Session, value: str, country: str | None = None) -> list[Hit]:
    phone = normalise_phone(value, country)
    return _by_source_column(session, CustomerSource.phone, phone, "phone") if phone else []


def by_email(session: Session, value: str) -> list[Hit]:
    email = normalise_email(value)
    return _by_source_column(session, CustomerSource.email, email[0], "email") if email else []


def by_name(session: Session, text: str, limit: int = 20) -> list[Hit]:
    """Fuzzy name search: candidates from the blocking index (range scans), ranked by
    similarity. Candidates per prefix are capped, so on millions of records a very common
    prefix may miss some; a tax id, phone or e-mail search is exact."""
    name = normalise_name(text)
    if name is None:
        return []
    _display, key, tokens, _legal = name
    exact = "n:" + " ".join(sorted(tokens))
    source_ids = set(session.scalars(select(MatchKey.source_id).where(MatchKey.key == exact).limit(500)))
    # Words: the index keeps each name's first word ("w:<word>:<country>"); scanning on a two-
    # letter prefix of each typed word finds "muller" for "mueller" and "mullr" alike.
    prefixes = {f"w:{t[:2]}" for t in tokens if len(t) >= 3}
    compact = key.replace(" ", "")
    if any("\u3040" <= ch <= "\u9fff" for ch in compact):
        prefixes |= {f"c:{compact[i : i + 3]}" for i in range(0, max(1, len(compact) - 2))}
    for prefix in prefixes:
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        source_ids.update(
            session.scalars(select(MatchKey.source_id).where(MatchKey.key >= prefix, MatchKey.key < upper).limit(2000))
        )
    if not source_ids:
        return []
    rows = session.execute(
        select(CustomerSource.golden_id, CustomerSource.name_key).where(CustomerSource.id.in_(source_ids))
    ).all()
    best: dict[int, float] = {}
    for golden_id, name_key in rows:
        score = fuzz.WRatio(key, name_key or "") / 100.0
        if score > best.get(golden_id, 0.0):
            best[golden_id] = score
    ranked = sorted((gid for gid, s in best.items() if s >= 0.6), key=lambda g: -best[g])
    hits: dict[int, Hit] = {}
    for gid in ranked:
        for golden in _active(session, [gid]):
            if golden.id not in hits:
                hits[golden.id] = Hit(golden, best[gid], "name")
    return list(hits.values())[:limit]


def find(
    session: Session,
    *,
    name: str | None = None,
    tax_id: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    system: str | None = None,
    external_id: str | None = None,
    country: str | None = None,
    limit: int = 20,
) -> list[Hit]:
    """One search for the API and the CLI: the most specific key given wins."""
    if system and external_id:
        golden = by_external_id(session, system, external_id)
        return [Hit(golden, 1.0, "external_id")] if golden else []
    if tax_id:
        return by_tax_id(session, tax_id, country)[:limit]
    if phone:
        return by_phone(session, phone, country)[:limit]
    if email:
        return by_email(session, email)[:limit]
    if name:
        return by_name(session, name, limit)
    raise ValueError("give one of: a name, tax id, phone, e-mail, or system with external id")
