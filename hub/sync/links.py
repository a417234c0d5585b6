"""The cross-reference between hub records and their copies in external systems: the Binder.

Every read and write of ``links`` goes through here (tests/unit/test_architecture.py checks
that no other module selects from or writes to it): ``Binder`` set-wise for pages, the
one-record helpers below for the one-by-one paths. A record is identified by
(system, entity type, external id); its content hash tells an unchanged re-read (a no-op)
from a real change without comparing field by field.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, bindparam, func, select, update
from sqlalchemy.orm import Session

from hub.bounds import row_problems
from hub.bulk import any_of, insert_rows, update_rows
from hub.db import utcnow
from hub.sync.models import Link


class Change(str, enum.Enum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"


def canonical_json(payload: Mapping[str, Any]) -> str:
    """One text per content: stable over key order and whitespace."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_hash(payload: Mapping[str, Any] | str) -> str:
    """The same record always hashes the same (pass ``canonical_json`` text to hash it once)."""
    blob = payload if isinstance(payload, str) else canonical_json(payload)
    return hashlib.sha256(blob.encode()).hexdigest()


def get_link(session: Session, system: str, entity_type: str, external_id: str) -> Link | None:
    return session.scalar(
        select(Link).where(Link.system == system, Link.entity_type == entity_type, Link.external_id == external_id)
    )


def links_of(session: Session, entity_type: str, hub_id: int) -> list[Link]:
    return list(
        session.scalars(
            select(Link)
            .where(Link.entity_type == entity_type, Link.hub_id == hub_id)
            .order_by(Link.system, Link.external_id)
        )
    )


def classify(link: Link | None, digest: str) -> Change:
    """What re-reading a record with this content means for its link."""
    if link is None:
        return Change.created
    if link.content_hash == digest and link.missing_since is None:
        return Change.unchanged
    return Change.updated


def record_link(
    session: Session,
    link: Link | None,
    *,
    entity_type: str,
    hub_id: int,
    system: str,
    external_id: str,
    digest: str,
    external_version: str | None = None,
) -> Link:
    """Create the link or bring it up to date with the content just applied."""
    now = utcnow()
    if link is None:
        link = Link(
            entity_type=entity_type,
            hub_id=hub_id,
            system=system,
            external_id=external_id,
            content_hash=digest,
            external_version=external_version,
            created_at=now,
            updated_at=now,
        )
        session.add(link)
        session.flush()
        return link
    link.hub_id = hub_id
    link.content_hash = digest
    link.external_version = external_version
    link.updated_at = now
    link.missing_since = None
    return link


def mark_missing(
    session: Session, system: str, entity_type: str, seen: Iterable[str], when: datetime | None = None
) -> list[Link]:
    """Flag the links a full export no longer contains. Flag, never delete: a record that
    vanished from one export is often back in the next, and the golden record must not lose it.
    """
    seen_ids = set(seen)
    current = session.scalars(
        select(Link).where(Link.system == system, Link.entity_type == entity_type, Link.missing_since.is_(None))
    )
    gone = [link for link in current if link.external_id not in seen_ids]
    if gone:
        session.execute(
            update(Link).where(Link.id.in_([link.id for link in gone])).values(missing_since=when or utcnow())
        )
    return gone


# --- the Binder: every set-wise read and write of ``links`` -----------------------------------


class LinkState(NamedTuple):
    """What a page needs of a re-read record's link to tell unchanged from changed."""

    id: int
    hub_id: int
    content_hash: str
    missing: bool
    #: The id of the ``joined`` row hanging off the link (``Binder.states``), else None.
    joined_id: int | None = None


class Copy(NamedTuple):
    """A system's copy of a hub record: its id there, the number people see there, the link."""

    external_id: str
    external_ref: str | None
    link_id: int


class NewLink(NamedTuple):
    """A link to create: the system's id, the hub record, its content hash and number."""

    external_id: str
    hub_id: int
    content_hash: str = ""
    external_ref: str | None = None


def human_number() -> ColumnElement[str]:
    """A link's number as people see it, lower-cased: its number, else (none at all) its id
    (``ix_links_entity_number_lower`` indexes exactly this expression)."""
    return func.lower(func.coalesce(Link.external_ref, Link.external_id))


def external_id_problems(external_id: str) -> list[str]:
    """What of an external id the links table cannot hold (hub.bounds), as ``id …`` problems."""
    return row_problems(Link.__table__, {"external_id": external_id}, "id ", check_text=False)


# Built once: the status page reads one order's numbers per request (hub.documents.status).
_NUMBERS = select(Link.hub_id, Link.system, Link.external_id, Link.external_ref).where(
    Link.entity_type == bindparam("entity"), Link.hub_id.in_(bindparam("hub_ids", expanding=True))
)


class Binder:
    """The one set-wise service over ``links``, after OCA connector's Binder: a system's ids to
    the hub's (``to_hub``), the hub's to a system's (``to_external``), new links (``bind_many``)
    and the numbers people see (``external_refs``). Every query takes a whole page of ids: a
    page of 2,000 records is one statement, never 2,000 (an unchanged re-load reads ~24,000
    records/s on PostgreSQL, and its link look-up is most of that time)."""

    def __init__(self, session: Session):
        self.session = session

    # --- reads -------------------------------------------------------------------------------
    def to_hub(self, system: str, entity: str, external_ids: Collection[str]) -> dict[str, int]:
        """external id → hub id, for those of ``external_ids`` the system has linked."""
        if not external_ids:
            return {}
        return {
            ext: hub_id
            for ext, hub_id in self.session.execute(
                select(Link.external_id, Link.hub_id).where(
                    Link.system == system,
                    Link.entity_type == entity,
                    any_of(self.session, Link.external_id, list(external_ids)),
                )
            )
        }

    def to_external(self, entity: str, hub_ids: Collection[int], system: str) -> dict[int, str]:
        """hub id → the system's id of it. A record entered twice in the system: its first
        record there (the one the hub writes to), never whichever was linked last."""
        if not hub_ids:
            return {}
        out: dict[int, str] = {}
        for hub_id, external_id in self.session.execute(
            select(Link.hub_id, Link.external_id)
            .where(Link.system == system, Link.entity_type == entity, any_of(self.session, Link.hub_id, list(hub_ids)))
            .order_by(Link.id)
        ):
            out.setdefault(hub_id, external_id)
        return out

    def states(
        self, system: str, entity: str, external_ids: Collection[str], joined: Any = None
    ) -> dict[str, LinkState]:
        """external id → its link's state, for a page's records already linked. ``joined``: a
        model whose ``link_id`` points at the link (the master's ``CustomerSource``): its id
        comes in the same query (``LinkState.joined_id``), so a page is still one statement."""
        if not external_ids:
            return {}
        columns: list[Any] = [Link.external_id, Link.id, Link.hub_id, Link.content_hash, Link.missing_since]
        query = select(*columns, joined.id) if joined is not None else select(*columns)
        if joined is not None:
            query = query.outerjoin(joined, joined.link_id == Link.id)
        rows: Any = self.session.execute(
            query.where(
                Link.system == system,
                Link.entity_type == entity,
                any_of(self.session, Link.external_id, list(external_ids)),
            )
        )
        if joined is None:
            return {ext: LinkState(i, hub, digest, gone is not None) for ext, i, hub, digest, gone in rows}
        return {ext: LinkState(i, hub, dg, gone is not None, j) for ext, i, hub, dg, gone, j in rows}

    def copies(self, entity: str, hub_ids: Collection[int]) -> dict[int, dict[str, Copy]]:
        """hub id → system → its copy there, systems in the order they were linked (the first
        is the system the record was entered in); a system's first record where it has two."""
        out: dict[int, dict[str, Copy]] = {}
        if not hub_ids:
            return out
        for hub_id, system, ext, ref, link_id in self.session.execute(
            select(Link.hub_id, Link.system, Link.external_id, Link.external_ref, Link.id)
            .where(Link.entity_type == entity, any_of(self.session, Link.hub_id, list(hub_ids)))
            .order_by(Link.id)
        ):
            out.setdefault(hub_id, {}).setdefault(system, Copy(ext, ref, link_id))
        return out

    def external_refs(self, entity: str, hub_ids: Collection[int]) -> dict[int, dict[str, str]]:
        """hub id → system → that system's number for it (its id only where it has none).

        A statement built once, run as Core rows: the status page does this per request, and
        the ORM's per-statement work cost more than the database's answer."""
        out: dict[int, dict[str, str]] = {}
        if not hub_ids:
            return out
        self.session.flush()  # Core rows skip the autoflush: what this session wrote counts too
        for hub_id, system, ext, ref in self.session.connection().execute(
            _NUMBERS, {"entity": entity, "hub_ids": list(hub_ids)}
        ):
            out.setdefault(hub_id, {})[system] = ref or ext
        return out

    def count(self, system: str, entity: str | None = None, *, present: bool = False) -> int:
        """How many records of ``system`` the hub links (of one ``entity``; with ``present``,
        only those its last full read still had)."""
        query = select(func.count()).select_from(Link).where(Link.system == system)
        if entity is not None:
            query = query.where(Link.entity_type == entity)
        if present:
            query = query.where(Link.missing_since.is_(None))
        return self.session.scalar(query) or 0

    def by_ids(self, link_ids: Collection[int]) -> dict[int, Link]:
        """link id → link (a customer's sources, each with its link)."""
        if not link_ids:
            return {}
        return {link.id: link for link in self.session.scalars(select(Link).where(Link.id.in_(list(link_ids))))}

    def numbered(self, entity: str, key: str, *, prefix: bool = False) -> Select[int]:
        """The hub ids whose number (``human_number``) in any system is ``key`` (lower-cased),
        or starts with it (``key`` escaped for LIKE with ``\\``). A query, to run or to nest."""
        number = human_number()
        match = number.like(key + "%", escape="\\") if prefix else number == key
        return select(Link.hub_id).where(Link.entity_type == entity, match)

    # --- writes ------------------------------------------------------------------------------
    def bind_many(
        self, system: str, entity: str, links: Sequence[NewLink], *, ids: bool = False, now: datetime | None = None
    ) -> list[int]:
        """Create the links set-wise (``COPY`` on PostgreSQL); with ``ids``, their ids in order."""
        when = now or utcnow()
        return insert_rows(
            self.session,
            Link,
            ids=ids,
            rows=[
                {
                    "entity_type": entity,
                    "hub_id": link.hub_id,
                    "system": system,
                    "external_id": link.external_id,
                    "content_hash": link.content_hash,
                    "external_ref": link.external_ref,
                    "created_at": when,
                    "updated_at": when,
                }
                for link in links
            ],
        )

    def bind(self, system: str, entity: str, link: NewLink) -> None:
        """Create one link at the session's next flush, together with the others bound before
        it (one multi-row INSERT for a batch); a link the database refuses (the system's record
        is linked to another hub record already) raises ``IntegrityError`` at that flush."""
        now = utcnow()
        self.session.add(
            Link(
                entity_type=entity,
                hub_id=link.hub_id,
                system=system,
                external_id=link.external_id,
                content_hash=link.content_hash,
                external_ref=link.external_ref,
                created_at=now,
                updated_at=now,
            )
        )

    def refresh_many(self, changes: Sequence[tuple[int, int, str, str | None]], now: datetime | None = None) -> None:
        """Bring links (link id, hub id, content hash, number) up to date with what was applied;
        a record that came back is no longer missing."""
        if changes:
            when = now or utcnow()
            self.session.execute(
                update(Link),
                [
                    {
                        "id": link_id,
                        "hub_id": hub_id,
                        "content_hash": digest,
                        "external_ref": ref,
                        "updated_at": when,
                        "missing_since": None,
                    }
                    for link_id, hub_id, digest, ref in changes
                ],
            )

    def set_external_ref(self, link_id: int, external_ref: str | None) -> None:
        """The number the system gave its copy (a write's answer)."""
        self.session.execute(
            update(Link).where(Link.id == link_id).values(external_ref=external_ref, updated_at=utcnow())
        )

    def rebind_many(self, moves: Mapping[int, int], now: datetime) -> None:
        """Point each link (id → hub id) at its hub record, in one statement: a page's merges."""
        update_rows(
            self.session,
            Link,
            [{"id": lid, "hub_id": hub_id, "updated_at": now} for lid, hub_id in sorted(moves.items())],
        )

    def rebind(self, entity: str, link_ids: Any, hub_id: int) -> None:
        """Point links (ids, or a query of ids) at another hub record: a merge moves them."""
        self.session.execute(
            update(Link)
            .where(Link.id.in_(link_ids), Link.entity_type == entity)
            .values(hub_id=hub_id, updated_at=utcnow())
        )
