"""What a batch of deliveries needs from the hub, read set-wise: the records, their lines,
every system's id for them and for what they refer to, and where each event came from.

One query per kind of thing for the whole batch (up to 500 deliveries), so building the
payloads costs no query per record; the dispatcher translates references per target from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from hub.documents.ingest import KINDS
from hub.documents.models import OrderLine, ShipmentLine
from hub.outbox.models import OutboxEvent
from hub.sync.links import Binder


@dataclass
class Loaded:
    """What a batch of deliveries needs from the hub, read in a few queries."""

    rows: dict[tuple[str, int], Any]
    lines: dict[int, list[dict[str, Any]]]
    #: shipment hub id → its lines, ``order_line`` still a hub id (translated per target)
    shipment_lines: dict[int, list[dict[str, Any]]]
    #: (entity, hub id) → system → (external id, number, link id)
    links: dict[tuple[str, int], dict[str, tuple[str, str | None, int]]]
    origins: dict[int, str]

    @classmethod
    def read(cls, session: Session, records: list[tuple[str, int]], event_ids: set[int]) -> Loaded:
        rows: dict[tuple[str, int], Any] = {}
        wanted: dict[str, set[int]] = {}
        for entity in {e for e, _ in records}:
            ids = [i for e, i in records if e == entity]
            wanted.setdefault(entity, set()).update(ids)
            kind = KINDS[entity]
            table = cast(Table, kind.model.__table__)
            for row in session.execute(select(table).where(table.c.id.in_(ids))).mappings():
                rows[(entity, row["id"])] = row
                for ref in kind.refs:
                    if row[ref.column] is not None:
                        wanted.setdefault(ref.entity, set()).add(row[ref.column])
        shipment_lines: dict[int, list[dict[str, Any]]] = {}
        shipment_ids = [i for e, i in records if e == "shipment"]
        if shipment_ids:
            for item in session.scalars(
                select(ShipmentLine).where(ShipmentLine.shipment_id.in_(shipment_ids)).order_by(ShipmentLine.id)
            ):
                shipment_lines.setdefault(item.shipment_id, []).append(
                    {"order_line": item.order_line_id, "product": item.product, "quantity": item.quantity}
                )
                if item.order_line_id is not None:
                    wanted.setdefault("order_line", set()).add(item.order_line_id)
        links: dict[tuple[str, int], dict[str, tuple[str, str | None, int]]] = {}
        binder = Binder(session)
        for entity, hub_ids in wanted.items():
            # one customer entered twice in a system: its first record there is the one
            # written to (hub.sync.publish does the same), never whichever was linked last
            links.update(((entity, hub_id), dict(copies)) for hub_id, copies in binder.copies(entity, hub_ids).items())
        lines: dict[int, list[dict[str, Any]]] = {}
        order_ids = [i for e, i in records if e == "order"]
        if order_ids:
            for line in session.scalars(
                select(OrderLine).where(OrderLine.order_id.in_(order_ids)).order_by(OrderLine.id)
            ):
                lines.setdefault(line.order_id, []).append(
                    {
                        "id": line.id,
                        "product": line.product,
                        "description": line.description,
                        "quantity": line.quantity,
                        "unit_price": line.unit_price,
                    }
                )
        origins = (
            dict(session.execute(select(OutboxEvent.id, OutboxEvent.origin).where(OutboxEvent.id.in_(event_ids))).all())
            if event_ids
            else {}
        )
        return cls(rows, lines, shipment_lines, links, origins)
