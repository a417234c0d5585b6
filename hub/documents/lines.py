"""Order and shipment lines: the children a document brings along, applied with their page.

Order lines keep their hub ids across updates (shipments and invoices point at them) and are
linked by each system's own line id; shipment lines are replaced as a whole when they change.
What changes on a line goes into its document's diff, so the audit trail and the outbox event
see it. Also the two comparisons the document store shares with its lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from hub.bulk import any_of, insert_rows
from hub.db import utcnow
from hub.documents.models import OrderLine, ShipmentLine
from hub.jsonable import jsonable
from hub.sync.links import content_hash
from hub.sync.mapping import MappingError

if TYPE_CHECKING:
    from hub.documents.ingest import DocumentStore, Outcome, _Doc


def _differs(before: Any, after: Any) -> bool:
    """Equal values of different types (Decimal 100 and 100.0000, JSON lists) are no change."""
    if before is None or after is None:
        return before is not after
    if isinstance(before, (list, dict)) or isinstance(after, (list, dict)):
        return jsonable(before) != jsonable(after)
    return bool(before != after)


def _ref(refs: Mapping[tuple[str, str], int], entity: str, value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return refs[(entity, str(value))]
    except KeyError:
        raise MappingError(f"{name}: {entity} {value!r} is not in the hub yet") from None


@dataclass(frozen=True)
class Children:
    write: Callable[[DocumentStore, str, list[_Doc], list[_Doc]], None]
    #: Resolves what the children refer to; a record whose child refers to nothing known fails.
    prepare: Callable[[DocumentStore, str, list[_Doc], list[Outcome | None]], list[_Doc]] | None = None


def _lines(doc: _Doc) -> list[Mapping[str, Any]]:
    return list(doc.fields.get("lines") or [])


LINE_FIELDS = ("product", "description", "quantity", "unit_price", "shippable")


def _write_order_lines(store: DocumentStore, system: str, new: list[_Doc], changed: list[_Doc]) -> None:
    """Lines keep their hub id across updates (shipments point at them): each line is linked
    by its own external id; lines an order no longer has are deleted. What changes on a line
    goes into its order's diff (``lines[P-100].quantity``), for the audit trail and the event."""
    docs = new + changed
    line_ids = {str(line.get("id")) for doc in docs for line in _lines(doc)}
    linked = store._links(system, "order_line", sorted(line_ids)) if line_ids else {}
    old: dict[int, Any] = {}
    if changed:
        old = {
            row.id: row
            for row in store.session.execute(
                select(OrderLine.id, OrderLine.order_id, *(getattr(OrderLine, f) for f in LINE_FIELDS)).where(
                    any_of(store.session, OrderLine.order_id, [d.hub_id for d in changed])
                )
            )
        }
    inserts: list[dict[str, Any]] = []
    inserted_ext: list[tuple[str, str, int | None]] = []
    updates: list[dict[str, Any]] = []
    new_links: list[tuple[str, int, str, str | None]] = []
    link_updates: list[tuple[int, int, str, str | None]] = []
    keep: set[int] = set()
    for doc in docs:
        for line, stored in zip(_lines(doc), doc.data.value.get("lines") or [], strict=True):
            ext = str(line.get("id"))
            row = {
                "order_id": doc.hub_id,
                "product": line.get("product"),
                "description": line.get("description"),
                "quantity": line.get("quantity") or Decimal(0),
                "unit_price": line.get("unit_price"),
                # only a line said not to ship (a service) is left out of "fully shipped"
                "shippable": line.get("shippable") is not False,
            }
            label = f"lines[{row['product'] or ext}]"
            digest = content_hash(stored)
            link = linked.get(ext)
            before = old.get(link[1]) if link else None
            if before is None and doc.link:
                # A system's first sight of a line the hub has (the ERP reading back a sale the
                # hub created there): the same product on the same order is the same line.
                before = next(
                    (
                        o
                        for o in old.values()
                        if o.order_id == doc.hub_id and o.id not in keep and o.product == row["product"]
                    ),
                    None,
                )
            if not doc.owns_lines:
                # Another system owns these lines: nothing of them changes, but this system's
                # line is linked to the hub's (its shipments and invoices refer to it).
                if before is not None:
                    keep.add(before.id)
                    if link is None:
                        new_links.append((ext, before.id, digest, None))
                continue
            if before is None:
                inserts.append(row)
                inserted_ext.append((ext, digest, link[0] if link else None))
                if doc.link:
                    doc.diff.append((label, None, f"{row['quantity']} × {row['unit_price']}"))
                continue
            keep.add(before.id)
            if link is None:
                new_links.append((ext, before.id, digest, None))
            elif link[1] != before.id or link[2] != digest or link[3]:
                link_updates.append((link[0], before.id, digest, None))
            moved = [
                (f"{label}.{f}", getattr(before, f), row[f])
                for f in LINE_FIELDS
                if _differs(getattr(before, f), row[f])
            ]
            if moved or before.order_id != doc.hub_id:
                doc.diff.extend(moved)
                updates.append({"id": before.id, **row})
    by_order = {d.hub_id: d for d in changed if d.owns_lines}
    gone = [line for line_id, line in old.items() if line_id not in keep and line.order_id in by_order]
    for line in gone:
        by_order[line.order_id].diff.append(
            (f"lines[{line.product or line.id}]", f"{line.quantity} × {line.unit_price}", None)
        )
    if gone:
        store.session.execute(delete(OrderLine).where(OrderLine.id.in_([line.id for line in gone])))
    if updates:
        store.session.execute(update(OrderLine), updates)
    if inserts:
        ids = insert_rows(store.session, OrderLine, inserts, ids=True)
        for (ext, digest, link_id), hub_id in zip(inserted_ext, ids, strict=True):
            if link_id is None:
                new_links.append((ext, hub_id, digest, None))
            else:  # its row was deleted meanwhile: the link moves to the new row
                link_updates.append((link_id, hub_id, digest, None))
    store.write_links(system, "order_line", utcnow(), new=new_links, changed=link_updates)


def _prepare_shipment_lines(
    store: DocumentStore, system: str, docs: list[_Doc], outcomes: list[Outcome | None]
) -> list[_Doc]:
    """Resolve each line's order line; a shipment without an order takes its lines' order."""
    wanted = {str(line["order_line"]) for d in docs for line in _lines(d) if line.get("order_line") not in (None, "")}
    line_ids = store.hub_ids(system, "order_line", wanted)
    orders: dict[int, int] = {}
    if line_ids:
        orders = dict(
            store.session.execute(
                select(OrderLine.id, OrderLine.order_id).where(
                    any_of(store.session, OrderLine.id, set(line_ids.values()))
                )
            ).all()
        )
    refs = {("order_line", k): v for k, v in line_ids.items()}
    ready = []
    for doc in docs:
        try:
            doc.lines = [
                {
                    "order_line_id": _ref(refs, "order_line", line.get("order_line"), "order_line"),
                    "product": line.get("product"),
                    "quantity": line.get("quantity") or Decimal(0),
                }
                for line in _lines(doc)
            ]
        except MappingError as exc:
            outcomes[doc.index] = exc
            continue
        if doc.row["order_id"] is None:
            doc.row["order_id"] = next(
                (orders[x["order_line_id"]] for x in doc.lines if x["order_line_id"] in orders), None
            )
        ready.append(doc)
    return ready


def _write_shipment_lines(store: DocumentStore, system: str, new: list[_Doc], changed: list[_Doc]) -> None:
    """A shipment's lines are replaced as a whole when they change: nothing refers to them."""
    changed = [d for d in changed if d.owns_lines]
    old: dict[int, list[tuple[Any, ...]]] = {}
    if changed:
        for row in store.session.execute(
            select(
                ShipmentLine.shipment_id, ShipmentLine.order_line_id, ShipmentLine.product, ShipmentLine.quantity
            ).where(any_of(store.session, ShipmentLine.shipment_id, [d.hub_id for d in changed]))
        ):
            old.setdefault(row[0], []).append(tuple(row[1:]))
    replaced = []
    for doc in changed:
        before = sorted(old.get(doc.hub_id, []), key=_line_key)
        after = sorted(((x["order_line_id"], x["product"], x["quantity"]) for x in doc.lines), key=_line_key)
        if before != after:
            doc.diff.append(("lines", _lines_text(before), _lines_text(after)))
            replaced.append(doc)
    if replaced:
        store.session.execute(delete(ShipmentLine).where(ShipmentLine.shipment_id.in_([d.hub_id for d in replaced])))
    insert_rows(
        store.session, ShipmentLine, [{"shipment_id": d.hub_id, **line} for d in new + replaced for line in d.lines]
    )


def _line_key(line: tuple[Any, ...]) -> tuple[str, str, Decimal]:
    return (str(line[0]), str(line[1]), Decimal(line[2] or 0))


def _lines_text(lines: list[tuple[Any, ...]]) -> str:
    return "; ".join(f"{product} × {quantity}" for _line, product, quantity in lines)


CHILDREN = {
    "order": Children(_write_order_lines),
    "shipment": Children(_write_shipment_lines, _prepare_shipment_lines),
}
