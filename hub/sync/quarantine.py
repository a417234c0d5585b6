"""Quarantine: records that could not be taken in, kept with where they came from and why.

Nothing is dropped silently and one bad record never stops a batch; once its cause is fixed
(a mapping, a code list, the source data) the record is replayed through the same path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.sync.models import QuarantinedRecord


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
) -> QuarantinedRecord:
    record = QuarantinedRecord(
        entity_type=entity_type, system=system, source=source, reason=reason, payload=payload,
        row_number=row_number, external_id=external_id, run_id=run_id,
    )
    session.add(record)
    return record


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


def replay(
    session: Session, record: QuarantinedRecord, apply: Callable[[QuarantinedRecord], None]
) -> str | None:
    """Run ``apply`` again on a quarantined record; None when it went in, else the new reason."""
    try:
        with session.begin_nested():
            apply(record)
    except ValueError as exc:
        record.reason = str(exc)
        return record.reason
    record.resolved_at = utcnow()
    return None
