"""Quarantine: records that could not be taken in, kept with where they came from and why.

Two kinds: rows of a file import (``quarantine``) and records a sync could not apply (dead
letters, ``dead_letter``); either keeps one open entry per record, refreshed when it comes again.

Nothing is dropped silently and one bad record never stops a batch; once its cause is fixed
(a mapping, a code list, the source data) the record is replayed through the same path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.sync.models import DeadLetter, QuarantinedRecord


def row_key(external_id: str | None, content: Any = None, source: str = "") -> str:
    """Which row an entry is about, stable across imports of the same system.

    A row with an id is that record, whatever file it came in (a corrected row clears it); a
    row without one (or a second row with an id already taken) is its content in its file."""
    if external_id:
        basis = "id\0" + external_id
    else:
        basis = "row\0" + source + "\0" + json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(basis.encode("utf-8", "backslashreplace")).hexdigest()


def quarantine(
    session: Session,
    *,
    entity_type: str,
    system: str,
    source: str,
    reason: str,
    payload: dict[str, Any],
    row_number: int | None = None,
    external_id: str | None = None,
    run_id: int | None = None,
    key: str | None = None,
) -> QuarantinedRecord:
    """Set a record aside; if the same row (``key``, default ``row_key(external_id, payload,
    source)``) is already open, that entry is refreshed (reason, row, payload, run) instead:
    importing the same bad file again adds nothing."""
    key = key or row_key(external_id, payload, source)
    record = session.scalar(
        select(QuarantinedRecord)
        .where(
            QuarantinedRecord.entity_type == entity_type,
            QuarantinedRecord.system == system,
            QuarantinedRecord.row_key == key,
            QuarantinedRecord.resolved_at.is_(None),
        )
        .order_by(QuarantinedRecord.id)
        .limit(1)
    )
    if record is None:
        record = QuarantinedRecord(entity_type=entity_type, system=system, row_key=key)
        session.add(record)
    record.source, record.reason, record.payload = source, reason, payload
    record.row_number, record.external_id, record.run_id = row_number, external_id, run_id
    record.seen_at = utcnow()
    return record


def resolve_taken_in(
    session: Session, entity_type: str, system: str, external_ids: Collection[str], run_id: int
) -> int:
    """Close the open entries of records that went in during run ``run_id`` (a corrected row),
    except those this run found bad again (a second row with the same id); how many.

    The open entries are few (the bad rows not yet corrected) and a run's records many: the
    open ones are read (``ix_quarantine_open``) and matched here, so an import of 20,000 clean
    rows costs one query, not forty 500-id updates."""
    open_entries = session.execute(
        select(QuarantinedRecord.id, QuarantinedRecord.external_id).where(
            QuarantinedRecord.entity_type == entity_type,
            QuarantinedRecord.resolved_at.is_(None),
            QuarantinedRecord.system == system,
            or_(QuarantinedRecord.run_id.is_(None), QuarantinedRecord.run_id != run_id),
        )
    ).all()
    taken = set(external_ids)
    ids = [entry_id for entry_id, external_id in open_entries if external_id in taken]
    for start in range(0, len(ids), 500):
        session.execute(
            update(QuarantinedRecord)
            .where(QuarantinedRecord.id.in_(ids[start : start + 500]))
            .values(resolved_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return len(ids)


def open_records(
    session: Session,
    entity_type: str | None = None,
    system: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[QuarantinedRecord]:
    stmt = select(QuarantinedRecord).where(QuarantinedRecord.resolved_at.is_(None))
    if entity_type:
        stmt = stmt.where(QuarantinedRecord.entity_type == entity_type)
    if system:
        stmt = stmt.where(QuarantinedRecord.system == system)
    return list(session.scalars(stmt.order_by(QuarantinedRecord.id).limit(limit).offset(offset)))


def replay(session: Session, record: QuarantinedRecord, apply: Callable[[QuarantinedRecord], None]) -> str | None:
    """Run ``apply`` again on a quarantined record; None when it went in, else the new reason."""
    try:
        with session.begin_nested():
            apply(record)
    except ValueError as exc:
        record.reason = str(exc)
        return record.reason
    record.resolved_at = utcnow()
    return None


def dead_letter(
    session: Session,
    *,
    connection_id: int,
    stream: str,
    external_id: str | None,
    payload: dict[str, Any],
    error: str,
    run_id: int | None,
) -> DeadLetter:
    """Keep a record a sync could not apply: one open letter per record. A run that finds the
    same record bad again updates its open letter (``seen_count``, ``last_seen_at``, the error
    and the payload as the system holds it now) instead of adding another, so the open letters
    are the records to fix, not the number of runs since."""
    now = utcnow()
    letter = None
    if external_id:
        letter = session.scalar(
            select(DeadLetter)
            .where(
                DeadLetter.connection_id == connection_id,
                DeadLetter.stream == stream,
                DeadLetter.external_id == external_id,
                DeadLetter.status == "open",
            )
            .order_by(DeadLetter.id.desc())
            .limit(1)
        )
    if letter is None:
        letter = DeadLetter(
            connection_id=connection_id, stream=stream, external_id=external_id, seen_count=1, created_at=now
        )
        session.add(letter)
    else:
        letter.seen_count = (letter.seen_count or 1) + 1
    letter.payload, letter.error, letter.run_id, letter.last_seen_at = payload, error, run_id, now
    return letter
