"""Data quality of the customer master: the findings kept with source records, counted.

A record with a bad field goes into the master all the same (accept and flag); its findings
say which field, what value and why (:class:`hub.master.models.CustomerFinding`). This module
answers the questions of the people who own the source systems: how many findings of which
reason per system, which records carry them (to fix at the source), as a list or a CSV.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.exports import safe_csv_value
from hub.master.models import CustomerFinding, CustomerSource


@dataclass(frozen=True, slots=True)
class FindingCount:
    system: str
    field: str
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class FindingRow:
    system: str
    external_id: str
    golden_id: int
    field: str
    value: str
    reason: str
    found_at: datetime


#: Columns of the CSV export, in order.
EXPORT_COLUMNS = ("system", "external_id", "golden_id", "field", "value", "reason", "found_at")


def counts(session: Session, system: str | None = None) -> list[FindingCount]:
    """Open findings per system, field and reason, most frequent first."""
    stmt = select(
        CustomerFinding.system,
        CustomerFinding.field,
        CustomerFinding.reason,
        func.count().label("n"),
    ).group_by(CustomerFinding.system, CustomerFinding.field, CustomerFinding.reason)
    if system:
        stmt = stmt.where(CustomerFinding.system == system)
    rows = session.execute(stmt.order_by(func.count().desc(), CustomerFinding.system))
    return [FindingCount(s, f, r, n) for s, f, r, n in rows]


def findings(
    session: Session,
    system: str | None = None,
    reason: str | None = None,
    field: str | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> list[FindingRow]:
    """The findings themselves, with the record they belong to, in a stable order."""
    return list(_rows(session, system, reason, field, limit, offset))


def _rows(
    session: Session,
    system: str | None,
    reason: str | None,
    field: str | None,
    limit: int | None,
    offset: int,
) -> Iterator[FindingRow]:
    stmt = (
        select(
            CustomerFinding.system,
            CustomerFinding.external_id,
            CustomerSource.golden_id,
            CustomerFinding.field,
            CustomerFinding.value,
            CustomerFinding.reason,
            CustomerFinding.created_at,
        )
        .join(CustomerSource, CustomerSource.id == CustomerFinding.source_id)
        .order_by(CustomerFinding.system, CustomerFinding.external_id, CustomerFinding.id)
        .offset(offset)
    )
    if system:
        stmt = stmt.where(CustomerFinding.system == system)
    if reason:
        stmt = stmt.where(CustomerFinding.reason == reason)
    if field:
        stmt = stmt.where(CustomerFinding.field == field)
    if limit is not None:
        stmt = stmt.limit(limit)
    for row in session.execute(stmt):
        yield FindingRow(*row)


def export_rows(session: Session, system: str | None = None) -> Iterator[list[object]]:
    """Every finding (of one system) as CSV rows, header first, for the source's owners."""
    yield list(EXPORT_COLUMNS)
    for row in _rows(session, system, None, None, None, 0):
        yield [getattr(row, column) for column in EXPORT_COLUMNS]


def safe_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run (``hub.exports.safe_csv_value``: text starting
    with = + - @ tab or CR gets a leading apostrophe); timestamps as ISO text."""
    if isinstance(value, datetime):
        return value.isoformat()
    return safe_csv_value(value)
