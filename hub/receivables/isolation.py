"""One bad record never stops a receivables job: it is set aside, with its reason, and the rest
is done.

The jobs stay set-wise (one statement for many rows, or a chunk of orders at a time) on their
fast path. A statement or chunk that fails on a *record* error — a figure that overflows, a
decimal operation that is invalid, a NULL or text where a value is needed, a date out of range;
rows written around the hub (an old version, a direct SQL write) on SQLite, which does not
enforce ``Numeric(18, 4)`` or dates — is rolled back to its savepoint and run again on halves
of its records until the culprits are alone: each is written to ``receivable_set_aside``
(``SetAsideLog.set_aside``), the others are done. A culprit costs about two runs of its chunk.
Errors that are not about a record (the database went away, a bug raising ``NameError``)
are raised as before: setting aside every record for them would hide an outage.

A scan starts a ``SetAsideLog`` with its id; ``SetAsideLog.finish`` then deletes the entries
of earlier runs that it did not set aside again (retried and got through: the data was
corrected), so the list always shows what is still in the way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import delete, or_, select, true, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.receivables.models import Instalment, SetAside

T = TypeVar("T")

#: Python errors a record's own values raise (``decimal.InvalidOperation`` and ``OverflowError``
#: are ``ArithmeticError``; a bad date string is a ``ValueError``; NULL or text in arithmetic a
#: ``TypeError``; a JSON list where an object was expected an ``AttributeError``).
_VALUE_ERRORS = (ArithmeticError, ValueError, TypeError, AttributeError, LookupError)
#: Largest amount a ``Numeric(18, 4)`` column holds; PostgreSQL refuses more, SQLite stores it.
MONEY_LIMIT = 10**14
MONEY_TEXT = "at most 99,999,999,999,999.9999"


def is_record_error(exc: BaseException) -> bool:
    """Whether ``exc`` is about the values of the rows at hand (see the module docstring)."""
    if isinstance(exc, DBAPIError):
        return isinstance(exc, DataError | IntegrityError)
    if isinstance(exc, StatementError):  # a value SQLAlchemy could not bind
        return isinstance(exc.orig, _VALUE_ERRORS)
    return isinstance(exc, _VALUE_ERRORS)


def describe(exc: BaseException) -> str:
    """The reason stored for a set-aside record: the error's type and first line."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else repr(exc)}"[:1000]


@dataclass
class SetAsideLog:
    """What one run (a scan, or a request between scans) set aside."""

    scan_id: int | None = None
    #: (record, id) → step, reason, label, set aside by this run
    found: dict[tuple[str, int], tuple[str, str, str | None]] = field(default_factory=dict)

    def ids(self, record: str = "order") -> set[int]:
        return {i for (kind, i) in self.found if kind == record}

    def not_set_aside(self, column: Any, record: str = "order") -> Any:
        """A condition leaving out the records this run set aside (``true()`` while none,
        so the fast path's SQL is unchanged)."""
        ids = self.ids(record)
        return column.not_in(sorted(ids)) if ids else true()

    def set_aside(
        self, session: Session, record: str, record_id: int, step: str, reason: str, label: str | None = None
    ) -> None:
        """Record a culprit (in the caller's transaction, after its savepoint was rolled back).
        An order's instalments are marked ``dirty`` so the next scan evaluates them again."""
        self.found[(record, record_id)] = (step, reason, label)
        now = utcnow()
        row = session.scalar(
            select(SetAside).where(SetAside.record == record, SetAside.record_id == record_id, SetAside.step == step)
        )
        if row is None:
            session.add(
                SetAside(
                    record=record,
                    record_id=record_id,
                    step=step,
                    reason=reason,
                    label=label,
                    attempts=1,
                    scan_id=self.scan_id,
                    first_set_aside_at=now,
                    set_aside_at=now,
                )
            )
        else:
            row.reason, row.label, row.scan_id, row.set_aside_at = reason, label or row.label, self.scan_id, now
            row.attempts += 1
        if record == "order":
            session.execute(
                update(Instalment)
                .where(Instalment.order_id == record_id)
                .values(dirty=True)
                .execution_options(synchronize_session=False)
            )
        session.flush()

    def finish(self, session: Session, keep_steps: Sequence[str] = ()) -> None:
        """End of a scan: entries of earlier runs this scan did not set aside again are gone
        (it retried them and got through), except those of ``keep_steps``, which the scan does
        not run and which re-checked them itself."""
        if self.scan_id is None:
            return
        query = delete(SetAside).where(or_(SetAside.scan_id.is_(None), SetAside.scan_id != self.scan_id))
        if keep_steps:
            query = query.where(SetAside.step.not_in(list(keep_steps)))
        session.execute(query.execution_options(synchronize_session=False))

    @property
    def count(self) -> int:
        return len(self.found)

    def summary(self) -> list[dict[str, Any]]:
        return [
            {"record": kind, "id": i, "label": label, "step": step, "reason": reason}
            for (kind, i), (step, reason, label) in sorted(self.found.items())
        ]


def not_set_aside(session: Session, order_id: Any) -> Any:
    """A condition leaving out the orders set aside (by any run): the finance views do not
    count figures a job could not process. ``true()`` while nothing is set aside, so the views'
    SQL is the plain one then."""
    if session.scalar(select(SetAside.id).where(SetAside.record == "order").limit(1)) is None:
        return true()
    return order_id.not_in(select(SetAside.record_id).where(SetAside.record == "order"))


def earlier(session: Session, record: str, steps: Sequence[str] | None = None) -> set[int]:
    """Records of this kind that earlier runs set aside: a scan retries them even when nothing
    about them changed since."""
    query = select(SetAside.record_id).where(SetAside.record == record)
    if steps:
        query = query.where(SetAside.step.in_(list(steps)))
    return set(session.scalars(query))


def isolated(
    session: Session,
    log: SetAsideLog,
    step: str,
    ids: Sequence[int],
    run: Callable[[list[int]], T],
    *,
    chunk: int = 500,
    record: str = "order",
    label: Callable[[int], str | None] | None = None,
) -> list[T]:
    """``run`` over ``ids`` a chunk at a time, each in a savepoint; a chunk failing on a record
    error is split in halves until each culprit is alone and set aside. Returns the results of
    the runs that succeeded."""
    results: list[T] = []
    todo = [list(ids[start : start + chunk]) for start in range(0, len(ids), chunk)]
    while todo:
        part = todo.pop(0)
        try:
            with session.begin_nested():
                results.append(run(part))
        except Exception as exc:
            if not is_record_error(exc):
                raise
            if len(part) == 1:
                log.set_aside(session, record, part[0], step, describe(exc), label(part[0]) if label else None)
            else:
                middle = len(part) // 2
                todo[:0] = [part[:middle], part[middle:]]
    return results


def guarded(
    session: Session,
    log: SetAsideLog,
    step: str,
    run: Callable[[list[int] | None], T],
    candidates: Callable[[], Sequence[int]],
    *,
    record: str = "order",
    label: Callable[[int], str | None] | None = None,
) -> list[T]:
    """A set-wise statement (``run(None)``: every row) on its fast path; if it fails on a record
    error, the records it would have touched (``candidates()``, read as ids only, which cannot
    fail) are run through ``isolated``. ``run(ids)`` must restrict the statement to ``ids``."""
    try:
        with session.begin_nested():
            return [run(None)]
    except Exception as exc:
        if not is_record_error(exc):
            raise
    todo = [i for i in candidates() if i not in log.ids(record)]
    return isolated(session, log, step, todo, run, record=record, label=label)


def order_label(session: Session) -> Callable[[int], str | None]:
    """An order's number for the set-aside list (a string column: it always reads)."""
    from hub.documents.models import Order

    return lambda order_id: session.scalar(select(Order.number).where(Order.id == order_id))


def invoice_label(session: Session) -> Callable[[int], str | None]:
    from hub.documents.models import Invoice

    return lambda invoice_id: session.scalar(select(Invoice.number).where(Invoice.id == invoice_id))
