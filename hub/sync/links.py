"""The cross-reference between hub records and their copies in external systems.

Every read from and write to a system goes through here. A record is identified by
(system, entity type, external id); its content hash tells an unchanged re-read (a no-op)
from a real change without comparing field by field.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

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
        select(Link).where(
            Link.system == system, Link.entity_type == entity_type, Link.external_id == external_id
        )
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
        select(Link).where(
            Link.system == system, Link.entity_type == entity_type, Link.missing_since.is_(None)
        )
    )
    gone = [link for link in current if link.external_id not in seen_ids]
    if gone:
        session.execute(
            update(Link)
            .where(Link.id.in_([link.id for link in gone]))
            .values(missing_since=when or utcnow())
        )
    return gone
