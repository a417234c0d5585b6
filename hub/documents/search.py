"""Finding orders the way people ask for them: by a number from any paper, or by customer.

A salesperson reads a number off whatever is in front of them — the CRM's order number, the
ERP's sale number, a delivery note, an invoice — typed in any case. Each system's *human*
number is the link's ``external_ref`` (the record's ``number``); its internal id
(``external_id``) stands for a number only where the system has no other (a file of orders
keyed by their number). Matching internal ids as numbers made Tryton's sale id 8 find sale
"8" and whatever order was numbered 8 elsewhere.

Tiers, first that finds anything wins, so an exact number never lists a second order:

1. the number, exactly but in any case, of an order, delivery note or invoice in any system;
2. the customer's own reference (a PO number) — data, several orders may share it;
3. order numbers starting with what was typed (at least three characters).

Customer search goes through the master (normalised, transliterated: "mueller" finds Müller's
orders, also those taken in before a merge), then a plain part of the golden name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hub.documents.models import Invoice, Order, Shipment
from hub.documents.status import _iso, _money
from hub.master.models import GoldenCustomer
from hub.sync.links import Binder

#: Shortest text searched as the start of a number ("SO0" finds SO00071 …).
MIN_PREFIX = 3

#: Documents whose numbers lead to an order, with the column that names their order.
_DOCUMENTS: tuple[tuple[str, Any], ...] = (("shipment", Shipment), ("invoice", Invoice))


def _ids_by_number(session: Session, key: str) -> set[int]:
    """Orders carrying ``key`` (lower-cased) as a number in any system, theirs or their
    delivery notes' and invoices'."""
    binder = Binder(session)
    found = set(session.scalars(select(Order.id).where(func.lower(Order.number) == key)))
    found |= set(session.scalars(binder.numbered("order", key)))
    for entity, model in _DOCUMENTS:
        found |= {
            i for i in session.scalars(select(model.order_id).where(func.lower(model.number) == key)) if i is not None
        }
        linked = binder.numbered(entity, key)
        found |= {i for i in session.scalars(select(model.order_id).where(model.id.in_(linked))) if i is not None}
    return found


def _ids_by_prefix(session: Session, key: str, limit: int) -> set[int]:
    pattern = _escape(key) + "%"
    found = set(
        session.scalars(select(Order.id).where(func.lower(Order.number).like(pattern, escape="\\")).limit(limit))
    )
    found |= set(session.scalars(Binder(session).numbered("order", _escape(key), prefix=True).limit(limit)))
    return found


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def order_ids_by_ref(session: Session, ref: str, limit: int = 50) -> list[int]:
    """The orders ``ref`` names, by the tiers of the module docstring."""
    key = ref.strip().lower()
    if not key:
        return []
    found = _ids_by_number(session, key)
    if not found:
        found = set(session.scalars(select(Order.id).where(func.lower(Order.reference) == key).limit(limit)))
    if not found and len(key) >= MIN_PREFIX:
        found = _ids_by_prefix(session, key, limit)
    return sorted(found)


def customer_ids(session: Session, text: str) -> set[int]:
    """Golden ids (with those merged into them) of the customers ``text`` names."""
    from hub.master.normalise import NormalisationError
    from hub.master.search import by_name

    try:
        ids = {hit.golden.id for hit in by_name(session, text, limit=20)}
    except NormalisationError:  # "%", "/": no name to look up, only text to find in names
        ids = set()
    ids |= set(
        session.scalars(
            select(GoldenCustomer.id).where(GoldenCustomer.name.icontains(text, autoescape=True)).limit(200)
        )
    )
    if ids:
        ids |= set(session.scalars(select(GoldenCustomer.id).where(GoldenCustomer.merged_into_id.in_(ids))))
    return ids


def find_orders(
    session: Session, ref: str | None = None, customer: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Orders named by ``ref`` (any system's number), and/or of the customer ``customer``."""
    query: Select[*tuple[Any, ...]] = select(Order, GoldenCustomer.name).outerjoin(
        GoldenCustomer, GoldenCustomer.id == Order.customer_id
    )
    if ref:
        query = query.where(Order.id.in_(order_ids_by_ref(session, ref, limit) or [-1]))
    if customer:
        query = query.where(Order.customer_id.in_(customer_ids(session, customer) or [-1]))
    rows = session.execute(query.order_by(Order.ordered_on.desc(), Order.id.desc()).limit(limit)).all()
    numbers = numbers_of(session, [order.id for order, _name in rows])
    return [
        {
            "id": order.id,
            "number": order.number,
            "customer": name,
            "stage": order.stage,
            "status": order.status,
            "ordered_on": _iso(order.ordered_on),
            "total": _money(order.total),
            "currency": order.currency,
            "numbers": numbers.get(order.id, {}),
        }
        for order, name in rows
    ]


def numbers_of(session: Session, order_ids: list[int]) -> dict[int, dict[str, str]]:
    """order id → system → that system's number for it (its id only where it has none)."""
    return Binder(session).external_refs("order", order_ids)
