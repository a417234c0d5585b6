"""Golden values recomputed set-wise: survivorship once per touched golden record.

An import page (:mod:`hub.master.pages`) and a re-normalisation
(:mod:`hub.master.renormalise`) change many source records at once; each golden record they
touch is recomputed once, its other sources read in one query, its new values written in one
statement, and each value that changed is an audit row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from hub.audit.models import AuditEntry
from hub.bulk import any_of, insert_rows, update_rows
from hub.db import utcnow
from hub.master.models import ENTITY, GOLDEN_FIELDS, CustomerSource, GoldenCustomer
from hub.master.survivorship import survive

if TYPE_CHECKING:
    from hub.master.ingest import CustomerMaster


@dataclass(slots=True)
class SurvivorSource:
    """What survivorship reads of a source record (``CustomerSource``'s attributes), without
    loading ORM objects: a page's own sources come from memory, the others in one query."""

    id: int
    system: str
    external_id: str
    data: dict[str, Any]
    source_updated_at: datetime
    name: str | None
    tax_id: str | None
    email: str | None
    phone: str | None
    street: str | None
    city: str | None
    postcode: str | None
    country: str | None


SURVIVOR_COLUMNS = (
    CustomerSource.id,
    CustomerSource.system,
    CustomerSource.external_id,
    CustomerSource.data,
    CustomerSource.source_updated_at,
    *(getattr(CustomerSource, f) for f in GOLDEN_FIELDS),
)


def refresh_goldens(master: CustomerMaster, actor: str, sources: Sequence[CustomerSource]) -> int:
    """Survivorship once per golden record of ``sources`` (rewritten in this session, not yet
    flushed or flushed), set-wise as a page does it, each changed value an audit entry naming
    ``actor``; the number of golden records refreshed."""
    now = utcnow()
    page = {
        s.id: (
            s.golden_id,
            SurvivorSource(
                s.id, s.system, s.external_id, s.data, s.source_updated_at, *(getattr(s, f) for f in GOLDEN_FIELDS)
            ),
        )
        for s in sources
    }
    if not page:
        return 0
    audit, _created = survive_touched(master, actor, page, set(), now)
    insert_rows(master.session, AuditEntry, audit, analyze=False)
    return len({gid for gid, _ in page.values()})


def survive_touched(
    master: CustomerMaster,
    actor: str,
    page: dict[int, tuple[int, SurvivorSource]],
    fresh: set[int],
    now: datetime,
) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """Survivorship once per golden record the page touched (``page``: source id → (golden id,
    source)): the audit rows of its values that changed, and the new golden records' columns.

    The golden records already stored get their new values here, their other sources and
    their values read in one query each. Those in ``fresh`` (the page creates them, and they
    are not written yet) come back as ``{id: {field: value, …, "provenance": …}}`` for the
    caller to write with those values at once: an insert and then an update of every new
    golden record cost a first load a twentieth of its time. A new golden record counts as it
    was with its first source (as one by one, where later sources of the page change it).
    The page's own sources need not be stored yet."""
    from hub.master.ingest import audit_rows

    session = master.session
    by_golden: dict[int, list[Any]] = {}
    for sid in sorted(page):
        gid, src = page[sid]
        by_golden.setdefault(gid, []).append(src)
    known = sorted(set(by_golden) - fresh)
    before: dict[int, dict[str, Any]] = {}
    if known:
        for row in session.execute(
            select(CustomerSource.golden_id, *SURVIVOR_COLUMNS).where(any_of(session, CustomerSource.golden_id, known))
        ):
            if row[1] not in page:  # the page's version of a source is the one that counts
                by_golden[row[0]].append(SurvivorSource(*row[1:]))
        for gid in known:
            by_golden[gid].sort(key=lambda src: src.id)
        before = {
            row[0]: dict(zip(GOLDEN_FIELDS, row[1:]))
            for row in session.execute(
                select(GoldenCustomer.id, *(getattr(GoldenCustomer, f) for f in GOLDEN_FIELDS)).where(
                    any_of(session, GoldenCustomer.id, known)
                )
            )
        }
    updates, audit, created = [], [], {}
    for gid, sources in by_golden.items():
        values, provenance = survive(sources, master.survivorship)
        if gid in fresh:
            was = survive(sources[:1], master.survivorship)[0] if len(sources) > 1 else values
            created[gid] = {**values, "provenance": provenance}
        else:
            was = before[gid]
            updates.append({"id": gid, **values, "provenance": provenance, "updated_at": now})
        audit += audit_rows(ENTITY, gid, was, values, actor, now)
    update_rows(session, GoldenCustomer, updates)
    for obj in list(session.identity_map.values()):  # loaded before the page: now stale
        if isinstance(obj, GoldenCustomer) and obj.id in by_golden:
            session.expire(obj)
    return audit, created
