"""Looking a customer up the way a call-centre agent is given them: one box, whatever the
caller says — a phone number (national or international), a name, a tax id, an e-mail, or a
number from any paper (an order, delivery note or invoice of any system, a customer number).

What the text is decides the search; a national phone number is read in the countries the
hub's own customers are in, most frequent first, when the agent does not say which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.master import search
from hub.master.models import ENTITY, GoldenCustomer
from hub.master.normalise import NormalisationError
from hub.sync.links import Binder

_PHONE_RE = re.compile(r"^\+?[\d\s()./-]{6,}$")
#: Countries tried for a national phone number or a tax id without a prefix.
_COUNTRIES_TRIED = 3


@dataclass(frozen=True, slots=True)
class Found:
    golden: GoldenCustomer
    matched_on: str


def home_countries(session: Session, limit: int = _COUNTRIES_TRIED) -> list[str]:
    """The countries most of the hub's customers are in (the caller is likely one of them)."""
    rows = session.execute(
        select(GoldenCustomer.country, func.count())
        .where(GoldenCustomer.country.is_not(None))
        .group_by(GoldenCustomer.country)
        .order_by(func.count().desc())
        .limit(limit)
    )
    return [str(country) for country, _n in rows]


def lookup(session: Session, text: str, country: str | None = None, limit: int = 20) -> list[Found]:
    """Customers ``text`` names, the most specific reading first; nothing found is []."""
    query = " ".join(text.split())
    if not query:
        return []
    if "@" in query:
        return _found(search.by_email(session, query), limit)
    countries = [country] if country else [None, *home_countries(session)]
    if _PHONE_RE.match(query) and sum(ch.isdigit() for ch in query) >= 6:
        for cc in countries:
            try:
                hits = search.by_phone(session, query, cc)
            except NormalisationError:
                continue
            if hits:
                return _found(hits, limit)
    numbered = _by_any_number(session, query) if any(ch.isdigit() for ch in query) else []
    if numbered:
        return numbered[:limit]
    if any(ch.isdigit() for ch in query):
        for cc in countries:
            hits = search.by_tax_id(session, query, cc)
            if hits:
                return _found(hits, limit)
    try:
        return _found(search.by_name(session, query, limit), limit)
    except NormalisationError:
        return []


def _found(hits: list[search.Hit], limit: int) -> list[Found]:
    return [Found(h.golden, h.matched_on) for h in hits[:limit]]


def _by_any_number(session: Session, query: str) -> list[Found]:
    """A customer number of any system, or the customer of an order, delivery note or invoice
    carrying that number (hub.documents.search)."""
    from hub.documents.models import Order
    from hub.documents.search import order_ids_by_ref

    key = query.lower()
    ids = list(session.scalars(Binder(session).numbered(ENTITY, key).limit(20)))
    matched = "customer number"
    if not ids:
        order_ids = order_ids_by_ref(session, query)
        if order_ids:
            ids = [i for i in session.scalars(select(Order.customer_id).where(Order.id.in_(order_ids))) if i]
            matched = "order, delivery or invoice number"
    return [Found(g, matched) for g in search.live_customers(session, ids)]


def by_phone_anywhere(session: Session, phone: str) -> list[search.Hit]:
    """A phone number without --country: international as given, a national one read in the
    countries the hub's customers are in (hub.master.lookup.home_countries), the first that
    finds someone; a number none of them can read fails with the --country hint."""
    tried: list[str] = []
    readable = False
    for cc in [None, *home_countries(session)]:
        try:
            hits = search.by_phone(session, phone, cc)
        except NormalisationError:
            if cc:
                tried.append(cc)
            continue
        readable = True
        if hits:
            return hits
    if readable:
        return []
    where = f" (not a number in {', '.join(tried)}, the countries of the hub's customers)" if tried else ""
    raise ValueError(
        f"phone {phone!r} is a national number and its country cannot be inferred{where}: "
        f"give it, e.g. --country DE, or write the number with its prefix, e.g. +49 …"
    )
