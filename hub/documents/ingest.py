"""Taking documents from a system into the hub: orders, shipments, invoices, payments,
opportunities and service cases.

Same rules as the customer master: through the link first (unchanged content: no-op), then
create or update in place. References to other documents and to customers are external ids
of the same system, resolved through links; one that is not linked yet is an error, so the
record becomes a dead letter and goes in on replay once its customer or order has synced.

A page is applied set-wise — one query for its links, one per kind of reference, one
multi-row statement per table — because a sync moves thousands of documents a second and a
statement per record would be the bottleneck. A single record is a page of one: there is one
code path. Each created or updated document writes its outbox event in the same transaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from hub import canonical
from hub.audit.models import AuditEntry
from hub.bounds import row_problems
from hub.bulk import Dumped, any_of, insert_rows
from hub.db import Base, utcnow
from hub.documents.lines import CHILDREN, _differs, _ref
from hub.documents.models import (
    Invoice,
    Opportunity,
    Order,
    OrderLine,
    Payment,
    ServiceCase,
    Shipment,
    ShipmentLine,
)
from hub.jsonable import jsonable
from hub.master.models import GoldenCustomer
from hub.outbox.models import OutboxEvent
from hub.sync.links import (
    Binder,
    Change,
    LinkState,
    NewLink,
    canonical_json,
    content_hash,
    external_id_problems,
)
from hub.sync.mapping import MappingError

Outcome = Change | MappingError
#: The system name of records entered through the hub's own API.
HUB = "hub"


@dataclass(frozen=True)
class Ref:
    """A canonical field naming another record of the same system, stored as a hub id."""

    field: str
    entity: str
    column: str


@dataclass(frozen=True)
class Kind:
    model: type[Base]
    columns: tuple[str, ...]
    refs: tuple[Ref, ...] = ()
    #: Canonical field → value used when the system sends none.
    defaults: Mapping[str, Any] = field(default_factory=dict)


#: The hub's own key on a record it wrote to a system (hub.outbox): ``concord:order:42``.
_HUB_REF = re.compile(r"concord:([a-z_]+):([0-9]+)")


def kind_of(record: type[canonical.Record], model: type[Base]) -> Kind:
    """What the store keeps of a canonical record in its table: the record's fields that are
    columns of the table (in the record's order), its references (``Ref``: a system's id in,
    a hub id stored) and the defaults of NOT NULL columns. The record's other fields (an
    order's ``hub_ref``, an invoice's ``reference``) live in the row's ``data`` only; the
    database decides which is which, so the schema is never changed by the model."""
    table = cast(Table, model.__table__)
    marked = canonical.refs(record)
    columns = tuple(name for name in record.model_fields if name not in marked and name in table.c)
    for name, marker in marked.items():
        if marker.column not in table.c:
            raise AssertionError(f"{record.__name__}.{name}: table {table.name} has no column {marker.column}")
    return Kind(
        model,
        columns,
        tuple(Ref(name, m.entity, m.column) for name, m in marked.items()),
        {name: value for name, value in canonical.defaults(record).items() if name in columns},
    )


#: Each entity's canonical record (hub.canonical) and the table it is kept in.
KINDS: dict[str, Kind] = {
    "order": kind_of(canonical.Order, Order),
    "shipment": kind_of(canonical.Shipment, Shipment),
    "invoice": kind_of(canonical.Invoice, Invoice),
    "payment": kind_of(canonical.Payment, Payment),
    "opportunity": kind_of(canonical.Opportunity, Opportunity),
    "case": kind_of(canonical.ServiceCase, ServiceCase),
}
ENTITIES = tuple(KINDS)
#: The table of each kind's child rows (``lines``), checked against like the document's own.
LINE_TABLES = {"order": OrderLine.__table__, "shipment": ShipmentLine.__table__}


@dataclass
class _Doc:
    """One record of a page on its way in."""

    index: int
    external_id: str
    fields: Mapping[str, Any]
    data: Dumped  # the record as the system sent it, as stored in ``data`` and the outbox
    digest: str
    link: tuple[int, int] | None  # (link id, hub id)
    row: dict[str, Any] = field(default_factory=dict)
    #: Child rows (shipment lines) resolved before the parent is written.
    lines: list[dict[str, Any]] = field(default_factory=list)
    #: What an update changes in the hub: (field, before, after), lines included.
    diff: list[tuple[str, Any, Any]] = field(default_factory=list)
    #: False when another system owns this record's lines: its lines are left as they are.
    owns_lines: bool = True

    @property
    def hub_id(self) -> int:
        return self.row["id"]


class DocumentStore:
    """``ownership`` (entity → field → system, ``*`` for every field, ``origin`` for the system
    the record was entered in; from ``mappings/routes.yaml``) settles conflicts: a system's
    value for a field another system owns is ignored, whoever wrote last. ``actor`` names who makes the changes in the audit
    trail (default: the system they come from)."""

    def __init__(
        self, session: Session, ownership: Mapping[str, Mapping[str, str]] | None = None, actor: str | None = None
    ):
        self.session = session
        self.binder = Binder(session)
        self.ownership = ownership or {}
        self.actor = actor

    def apply(self, system: str, entity: str, external_id: str, fields: Mapping[str, Any]) -> Change:
        (outcome,) = self.apply_many(system, entity, [(external_id, fields)])
        if isinstance(outcome, MappingError):
            raise outcome
        return outcome

    def apply_many(self, system: str, entity: str, items: Sequence[tuple[str, Mapping[str, Any]]]) -> list[Outcome]:
        """Apply a page; one outcome per item, in order: a Change, or the MappingError that
        makes that one record a dead letter. A database error aborts the whole page (the
        caller retries record by record to isolate it)."""
        kind = KINDS.get(entity)
        if kind is None:
            raise MappingError(f"unknown document entity {entity!r} (known: {', '.join(ENTITIES)})")
        outcomes: list[Outcome | None] = [None] * len(items)
        for chunk in _without_repeats(items):
            self._apply_chunk(system, entity, kind, items, chunk, outcomes)
        return [o for o in outcomes if o is not None]

    # --- one chunk: every external id at most once ---------------------------------------
    def _apply_chunk(
        self,
        system: str,
        entity: str,
        kind: Kind,
        items: Sequence[tuple[str, Mapping[str, Any]]],
        chunk: list[int],
        outcomes: list[Outcome | None],
    ) -> None:
        links = self._links(system, entity, [items[i][0] for i in chunk])
        if self._adopt(system, entity, kind, items, chunk, links):
            links = self._links(system, entity, [items[i][0] for i in chunk])
        docs: list[_Doc] = []
        for i in chunk:
            external_id, fields = items[i]
            problems = _out_of_bounds(entity, kind, external_id, fields)
            if problems:
                outcomes[i] = MappingError("does not fit the hub: " + "; ".join(problems))
                continue
            data = jsonable(dict(fields))
            text = canonical_json(data)  # serialised once: hashed here, copied into data and outbox
            digest = content_hash(text)
            link = links.get(external_id)
            if link is not None and link[2] == digest and not link[3]:
                outcomes[i] = Change.unchanged
                continue
            docs.append(_Doc(i, external_id, fields, Dumped(data, text), digest, link[:2] if link else None))
        if not docs:
            return
        refs = self._resolve(system, kind, docs)
        ready: list[_Doc] = []
        for doc in docs:
            try:
                doc.row = _row(kind, doc, refs)
            except MappingError as exc:
                outcomes[doc.index] = exc
                continue
            ready.append(doc)
        children = CHILDREN.get(entity)
        if children and children.prepare:
            ready = children.prepare(self, system, ready, outcomes)
        new = [d for d in ready if d.link is None]
        changed = [d for d in ready if d.link is not None]
        self._compare(system, entity, kind, changed)
        now = utcnow()
        for doc in ready:
            doc.row["updated_at"] = now
        if new:
            ids = insert_rows(self.session, kind.model, [d.row for d in new], ids=True)
            for doc, hub_id in zip(new, ids, strict=True):
                doc.row["id"] = hub_id
        if children:
            children.write(self, system, new, changed)
        moved = [d for d in changed if d.diff]  # a re-read of the hub's own write moves nothing
        if moved:
            self.session.execute(update(kind.model), [{**d.row, "data": d.data.value} for d in moved])
        self._write_links(system, entity, new, changed, now)
        self._record(system, entity, new, moved, now)
        for doc in ready:
            outcomes[doc.index] = Change.updated if doc.link else Change.created

    def _compare(self, system: str, entity: str, kind: Kind, changed: list[_Doc]) -> None:
        """Keep the owners' values, and note what really changes (one query for the page)."""
        if not changed:
            return
        owners = self.ownership.get(entity, {})
        columns = {name: name for name in kind.columns} | {ref.field: ref.column for ref in kind.refs}
        table = cast(Table, kind.model.__table__)
        current = {
            row.id: row
            for row in self.session.execute(
                select(table.c.id, *(table.c[c] for c in columns.values())).where(
                    any_of(self.session, table.c.id, [d.link[1] for d in changed if d.link])
                )
            )
        }
        holders = self._holders(entity, list(current)) if owners else {}
        for doc in changed:
            assert doc.link is not None
            doc.row["id"] = doc.link[1]
            old = current.get(doc.link[1])
            if old is None:
                continue

            def owner_of(name: str, hub_id: int = doc.link[1]) -> str | None:
                """The field's owner; the record's origin stands in for an owner that does
                not hold the record (yet): an order entered through the API keeps its total
                until the ERP has the order and says what it comes to with tax."""
                owner = owners.get(name, owners.get("*"))
                origin, held_by = holders.get(hub_id, (None, set()))
                if owner == "origin" or (owner is not None and owner not in held_by):
                    return origin
                return owner

            lines_owner = owner_of("lines")
            doc.owns_lines = lines_owner is None or lines_owner == system
            for name, column in columns.items():
                owner = owner_of(name)
                before = getattr(old, column)
                if owner is not None and owner != system:
                    doc.row[column] = before
                elif doc.row[column] is None and before is not None and owner != system:
                    # a system that does not hold the field (the ERP has no salesperson)
                    # never clears it: only its owner may
                    doc.row[column] = before
                elif _differs(before, doc.row[column]):
                    doc.diff.append((name, before, doc.row[column]))

    def _holders(self, entity: str, hub_ids: list[int]) -> dict[int, tuple[str, set[str]]]:
        """Per record: the system it was entered in (the one linked first) and every system
        that holds a copy."""
        return {
            hub_id: (next(iter(copies)), set(copies)) for hub_id, copies in self.binder.copies(entity, hub_ids).items()
        }

    def _record(self, system: str, entity: str, new: list[_Doc], moved: list[_Doc], now: Any) -> None:
        """The audit trail and the outbox events of what this page changed, in its transaction."""
        actor = self.actor or system
        insert_rows(
            self.session,
            AuditEntry,
            analyze=False,
            rows=[
                *(
                    {
                        "entity_type": entity,
                        "hub_id": d.hub_id,
                        "field": "*",
                        "before": None,
                        "after": _text(d.row.get("number") or d.row.get("reference") or d.external_id),
                        "actor": actor,
                        "changed_at": now,
                    }
                    for d in new
                ),
                *(
                    {
                        "entity_type": entity,
                        "hub_id": d.hub_id,
                        "field": name,
                        "before": _text(before),
                        "after": _text(after),
                        "actor": actor,
                        "changed_at": now,
                    }
                    for d in moved
                    for name, before, after in d.diff
                ),
            ],
        )
        insert_rows(
            self.session,
            OutboxEvent,
            analyze=False,
            rows=[
                {
                    "entity_type": entity,
                    "hub_id": d.hub_id,
                    "action": "updated" if d.link else "created",
                    "origin": system,
                    "payload": d.data,
                    "created_at": now,
                }
                for d in new + moved
            ],
        )

    # --- links -----------------------------------------------------------------------------
    def _adopt(
        self,
        system: str,
        entity: str,
        kind: Kind,
        items: Sequence[tuple[str, Mapping[str, Any]]],
        chunk: list[int],
        links: Mapping[str, Any],
    ) -> bool:
        """Link records that carry the hub's own key (``hub_ref`` ``concord:<entity>:<id>``, what
        the outbox writes) to that hub record, when this system has no record of it linked yet.

        The hub's write reached the system but its answer was lost (a crash between the two):
        the system's copy is the hub's record, never a second one. Returns whether it linked."""
        wanted: dict[str, int] = {}
        for i in chunk:
            external_id, fields = items[i]
            found = _HUB_REF.fullmatch(str(fields.get("hub_ref") or ""))
            if external_id not in links and found and found[1] == entity:
                wanted[external_id] = int(found[2])
        if not wanted:
            return False
        table = cast(Table, kind.model.__table__)
        exists = set(self.session.scalars(select(table.c.id).where(table.c.id.in_(set(wanted.values())))))
        taken = self.binder.to_external(entity, exists, system)
        adopted = [NewLink(ext, hub_id) for ext, hub_id in wanted.items() if hub_id in exists and hub_id not in taken]
        if not adopted:
            return False
        self.binder.bind_many(system, entity, adopted)  # hash "": the record is applied as an update next
        return True

    def _links(self, system: str, entity: str, external_ids: list[str]) -> dict[str, LinkState]:
        """external id → its link's state, for those already linked (hub.sync.links.Binder)."""
        return self.binder.states(system, entity, external_ids)

    def hub_ids(self, system: str, entity: str, external_ids: set[str]) -> dict[str, int]:
        if not external_ids:
            return {}
        if system == HUB and entity == "customer":  # the hub's API names golden records directly
            wanted = {int(x) for x in external_ids if x.isdigit()}
            return {
                str(i): i for i in self.session.scalars(select(GoldenCustomer.id).where(GoldenCustomer.id.in_(wanted)))
            }
        return self.binder.to_hub(system, entity, sorted(external_ids))

    def _resolve(self, system: str, kind: Kind, docs: list[_Doc]) -> dict[tuple[str, str], int]:
        """(entity, external id) → hub id for every reference the page makes, one query each."""
        wanted: dict[str, set[str]] = {}
        for ref in kind.refs:
            for doc in docs:
                value = doc.fields.get(ref.field)
                if value not in (None, ""):
                    wanted.setdefault(ref.entity, set()).add(str(value))
        return {
            (entity, ext): hub_id
            for entity, ids in wanted.items()
            for ext, hub_id in self.hub_ids(system, entity, ids).items()
        }

    def _write_links(self, system: str, entity: str, new: list[_Doc], changed: list[_Doc], now: Any) -> None:
        self.write_links(
            system,
            entity,
            now,
            new=[(d.external_id, d.hub_id, d.digest, _number(d.fields)) for d in new],
            changed=[(d.link[0], d.hub_id, d.digest, _number(d.fields)) for d in changed if d.link],
        )

    def write_links(
        self,
        system: str,
        entity: str,
        now: Any,
        *,
        new: list[tuple[str, int, str, str | None]],
        changed: list[tuple[int, int, str, str | None]],
    ) -> None:
        """Create links (external id, hub id, hash, number) and bring others (link id, …) up to date."""
        self.binder.bind_many(system, entity, [NewLink(*link) for link in new], now=now)
        self.binder.refresh_many(changed, now=now)


def _without_repeats(items: Sequence[tuple[str, Mapping[str, Any]]]) -> list[list[int]]:
    """Split a page where an external id comes again, so its later version applies after."""
    chunks: list[list[int]] = [[]]
    seen: set[str] = set()
    for i, (external_id, _fields) in enumerate(items):
        if external_id in seen:
            chunks.append([])
            seen = set()
        seen.add(external_id)
        chunks[-1].append(i)
    return chunks


def _out_of_bounds(entity: str, kind: Kind, external_id: str, fields: Mapping[str, Any]) -> list[str]:
    """What of a record its tables cannot hold (hub.bounds): a total of 1e30, a number too
    long for its column, a NUL. Checked before anything is written, so on SQLite (which
    enforces no column size) such a record is a dead letter with its reason like on
    PostgreSQL, and never a row that later breaks whatever reads it."""
    table = cast(Table, kind.model.__table__)
    problems = row_problems(table, fields)  # text (NUL, surrogates) checked here, lines included
    problems += external_id_problems(external_id)
    lines = LINE_TABLES.get(entity)
    if lines is not None:
        for n, line in enumerate(fields.get("lines") or []):
            if isinstance(line, Mapping):
                problems += row_problems(lines, line, f"lines[{n}].", check_text=False)
    return problems


def _number(fields: Mapping[str, Any]) -> str | None:
    value = fields.get("number") or fields.get("reference")
    return None if value in (None, "") else str(value)[:120]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    plain = jsonable(value)
    return plain if isinstance(plain, str) else json.dumps(plain, ensure_ascii=False, default=str)


def _row(kind: Kind, doc: _Doc, refs: Mapping[tuple[str, str], int]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name in kind.columns:
        value = doc.fields.get(name)
        row[name] = kind.defaults.get(name) if value is None else value
    for ref in kind.refs:
        row[ref.column] = _ref(refs, ref.entity, doc.fields.get(ref.field), ref.field)
    if "due_dates" in row:
        row["due_dates"] = jsonable(row["due_dates"])
    row["data"] = doc.data
    return row
