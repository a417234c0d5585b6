"""The overdue scan: statuses, alert levels, alerts raised once, resolved when paid — in SQL.

Each step is one statement per pipeline version (of which there are few), never a Python loop
per row, and each reads only the rows that can change, through an index: the scan must stay
within seconds at a million instalments. An instalment's status and level depend on its own
figures and on the date; between two scans they can change only

- when its figures change: every writer (allocation, stage dates, re-layout, blocking,
  enrolment) marks the row ``dirty`` (see ``models.Instalment``), or
- by time: when ``overdue_from`` falls in ``[previous as_of, as_of)`` (it becomes overdue) or
  in ``(previous as_of - d, as_of - d]`` for a level reached ``d`` days after (it rises),

so the scan evaluates exactly those (all rows on the first scan or one back in time) and
clears ``dirty``. The same statement raises ``alerted_level`` where an alert is due; rows
whose level stays above it (held back while snoozed) are found through a partial index.
Dates come in as bound parameters, so the same SQL runs on SQLite and PostgreSQL. Deliveries
are queued in the same transaction as the alerts they announce; sending happens after the
commit (``deliver.py``), so a failed send loses nothing.

A record that a step cannot process (an overflowing figure, a date out of range, corrupt data
written around the hub) is set aside with its reason (``isolation.py``): the scan finishes the
others, counts and names what it set aside (``ScanResult.set_aside``), and retries it the next
time, so correcting the data clears it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    and_,
    case,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import Session

from hub.db import rowcount, serialize, session_scope, utcnow
from hub.receivables.allocation import allocate, changed_since, resolve_targets
from hub.receivables.isolation import (
    MONEY_LIMIT,
    MONEY_TEXT,
    SetAsideLog,
    describe,
    earlier,
    guarded,
    is_record_error,
    order_label,
)
from hub.receivables.models import (
    Alert,
    AlertDelivery,
    Instalment,
    InstalmentDue,
    PipelineVersion,
    ReceivableOrder,
    ScanRun,
    SetAside,
)
from hub.receivables.pipeline import (
    Pipeline,
    current_versions,
    level_cutoffs,
    sync_files,
    versions_in_use,
)
from hub.receivables.plans import enrol_new_orders
from hub.receivables.stages import detect

logger = logging.getLogger(__name__)


@dataclass
class ScanResult:
    scan_id: int
    as_of: date
    enrolled: int = 0
    stages_reached: int = 0
    orders_allocated: int = 0
    instalments_changed: int = 0
    alerts_raised: int = 0
    alerts_resolved: int = 0
    deliveries_queued: int = 0
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    #: Records this scan could not process (each: record, id, label, step, reason); the rest
    #: was done, and the next scan retries these.
    set_aside: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items()}


def due_expression() -> Any:
    """What is due on an instalment: its plan amount less what credit notes took off, or what
    was invoiced when that is more (the ERP's open invoices are owed whatever the plan said)."""
    reduced = Instalment.amount - Instalment.credited
    return case((Instalment.invoiced > reduced, Instalment.invoiced), else_=reduced)


def open_expression() -> Any:
    """What is left to pay (``outstanding``); allocation computes the same in Python."""
    return due_expression() - Instalment.paid


def overdue_condition(as_of: date) -> Any:
    return and_(
        Instalment.paid < due_expression() - Instalment.tolerance,
        Instalment.due_date.is_not(None),
        Instalment.overdue_from < as_of,
    )


def status_expression(as_of: date) -> Any:
    """``paid``: nothing left to pay; ``pending``: not due yet (stage not reached, nothing
    invoiced); then overdue past the earliest open due date (+ grace), else invoiced or due."""
    return case(
        (Instalment.paid >= due_expression() - Instalment.tolerance, "paid"),
        (Instalment.due_date.is_(None), "pending"),
        (Instalment.overdue_from < as_of, "overdue"),
        (Instalment.invoiced >= due_expression() - Instalment.tolerance, "invoiced"),
        else_="due",
    )


def level_expression(pipeline: Pipeline, as_of: date) -> Any:
    overdue = and_(overdue_condition(as_of), Instalment.blocked == false())
    whens = [
        (and_(overdue, Instalment.overdue_from <= cutoff), level) for level, cutoff in level_cutoffs(pipeline, as_of)
    ]
    return case(*whens, else_=0) if whens else literal(0)


def previous_as_of(session: Session, scan_id: int) -> date | None:
    """The date the instalments were last evaluated for: that of the newest other scan run
    (a run is stored in the transaction that evaluated it, so each stored run did)."""
    return session.scalar(select(ScanRun.as_of).where(ScanRun.id != scan_id).order_by(ScanRun.id.desc()).limit(1))


def may_change(pipeline: Pipeline, previous: date | None, as_of: date) -> Any:
    """The rows whose status or level can differ from their last evaluation (module docstring)."""
    if previous is None or previous > as_of:
        return true()
    windows = [Instalment.dirty == true()]
    if previous < as_of:
        windows.append(and_(Instalment.overdue_from >= previous, Instalment.overdue_from < as_of))
        for level in pipeline.alerts:
            days = timedelta(days=level.after_days)
            windows.append(and_(Instalment.overdue_from > previous - days, Instalment.overdue_from <= as_of - days))
    return or_(*windows)


def evaluate(
    session: Session, versions: dict[int, Pipeline], as_of: date, scan_id: int, log: SetAsideLog | None = None
) -> dict[str, int]:
    """Statuses, levels, alerts, resolutions, credit holds and queued deliveries; an order whose
    instalments cannot be evaluated (a figure overflowing, say) is set aside in ``log``."""
    log = log if log is not None else SetAsideLog(scan_id)
    counts = {"instalments_changed": 0, "alerts_raised": 0, "alerts_resolved": 0, "deliveries_queued": 0}
    if session.get_bind().dialect.name == "postgresql":
        # ``alert_level > alerted_level`` is estimated at a third of the table (it is a handful):
        # the inflated cost switches JIT on, whose compiling alone outlasts the whole statement
        session.execute(text("SET LOCAL jit = off"))
    previous = previous_as_of(session, scan_id)
    now_paid: list[int] = []
    for version_id, pipeline in versions.items():
        status, level = status_expression(as_of), level_expression(pipeline, as_of)
        differs = (
            (Instalment.status != status)
            | (Instalment.alert_level != level)
            | (Instalment.outstanding != open_expression())
        )
        alert_due = alert_due_expression(level, as_of)
        candidates = and_(
            Instalment.pipeline_version_id == version_id,
            or_(may_change(pipeline, previous, as_of), Instalment.alert_level > Instalment.alerted_level),
        )
        if session.get_bind().dialect.name == "sqlite":
            set_aside_unstorable(session, log, candidates)

        def run(
            ids: list[int] | None,
            status: Any = status,
            level: Any = level,
            differs: Any = differs,
            alert_due: Any = alert_due,
            candidates: Any = candidates,
            version_id: int = version_id,
        ) -> list[Any]:
            only = and_(true() if ids is None else Instalment.order_id.in_(ids), log.not_set_aside(Instalment.order_id))
            # one write per row: a second UPDATE of rows this transaction wrote fires their FK checks
            rows = session.execute(
                update(Instalment)
                # a dirty row with alerts is returned even when the refresh after a sync already
                # set its status: the scan resolves the alerts of rows that became paid
                .where(
                    candidates,
                    differs | alert_due | and_(Instalment.dirty == true(), Instalment.alerted_level > 0),
                    only,
                )
                .values(
                    status=status,
                    alert_level=level,
                    alerted_level=case((alert_due, level), else_=Instalment.alerted_level),
                    outstanding=open_expression(),
                    dirty=False,
                    updated_at=utcnow(),
                )
                .returning(Instalment.id, Instalment.status, Instalment.alert_level, Instalment.alerted_level)
                .execution_options(synchronize_session=False)
            ).all()
            # dirty rows whose figures changed without changing status or level: evaluated, so clean
            session.execute(
                update(Instalment)
                .where(Instalment.pipeline_version_id == version_id, Instalment.dirty == true(), ~differs, only)
                .values(dirty=False)
                .execution_options(synchronize_session=False)
            )
            return list(rows)

        def touched(candidates: Any = candidates) -> list[int]:
            return list(session.scalars(select(Instalment.order_id).distinct().where(candidates)))

        changed = [
            row for rows in guarded(session, log, "evaluate", run, touched, label=order_label(session)) for row in rows
        ]
        counts["instalments_changed"] += len(changed)
        now_paid += [i for i, new, _level, alerted in changed if new == "paid" and alerted > 0]
        alerted = [i for i, _new, lvl, top in changed if lvl > 0 and lvl == top]
        counts["alerts_raised"] += _raise_alerts(session, pipeline, as_of, scan_id, alerted)

    session.execute(
        update(Alert)
        .where(Alert.status == "snoozed", Alert.snoozed_until <= as_of)
        .values(status="open")
        .execution_options(synchronize_session=False)
    )
    resolved: list[int] = []
    for start in range(0, len(now_paid), 5000):  # alerts of instalments paid since the last scan
        ids = list(
            session.scalars(
                update(Alert)
                .where(Alert.status != "resolved", Alert.instalment_id.in_(now_paid[start : start + 5000]))
                .values(status="resolved", resolved_on=as_of)
                .returning(Alert.id)
                .execution_options(synchronize_session=False)
            )
        )
        if ids:  # what was not sent yet about them no longer needs saying
            session.execute(
                update(AlertDelivery)
                .where(AlertDelivery.status == "pending", AlertDelivery.alert_id.in_(ids))
                .values(status="cancelled")
                .execution_options(synchronize_session=False)
            )
        resolved += ids
    counts["alerts_resolved"] = len(resolved)
    _credit_holds(session, scan_id, resolved)
    for version_id, pipeline in versions.items():
        counts["deliveries_queued"] += _queue_deliveries(session, version_id, pipeline, scan_id)
    return counts


def set_aside_unstorable(session: Session, log: SetAsideLog, where: Any) -> None:
    """SQLite keeps any value in a ``Numeric(18, 4)`` column (text, 1e30) where PostgreSQL
    refuses it: such a figure was written around the hub. The rows ``where`` admits that hold
    one set their order aside, as their evaluation would have failed on PostgreSQL."""
    money = (Instalment.amount, Instalment.paid, Instalment.invoiced, Instalment.credited, Instalment.tolerance)
    bad = or_(*[or_(func.typeof(c).not_in(["integer", "real"]), func.abs(c) >= MONEY_LIMIT) for c in money])
    label = order_label(session)
    for order_id, reference in session.execute(
        select(Instalment.order_id, Instalment.reference).where(where, bad, log.not_set_aside(Instalment.order_id))
    ).all():
        if order_id not in log.ids():
            log.set_aside(
                session,
                "order",
                order_id,
                "evaluate",
                f"{reference}: an amount that is not a number or beyond the largest the hub keeps ({MONEY_TEXT})",
                label(order_id),
            )


def alert_due_expression(level: Any, as_of: date) -> Any:
    """An alert is due where the level reached is above the highest one alerted (so each level
    is alerted once), unless one of the instalment's alerts is snoozed."""
    # snoozed instalments as one set (an anti-join), never probed per row while alerts grow
    snoozed = (
        select(Alert.instalment_id).where(Alert.status == "snoozed", Alert.snoozed_until > as_of).distinct().subquery()
    )
    return and_(level > Instalment.alerted_level, Instalment.id.not_in(select(snoozed.c.instalment_id)))


def _raise_alerts(session: Session, pipeline: Pipeline, as_of: date, scan_id: int, ids: list[int]) -> int:
    """One alert for each of these instalments whose alerted level the evaluation just raised
    to its level: those without an alert at that level yet (the others were alerted before)."""
    holds = [a.level for a in pipeline.alerts if a.credit_hold]
    raised = 0
    for start in range(0, len(ids), 5000):
        new = and_(
            Instalment.id.in_(ids[start : start + 5000]),
            ~exists().where(Alert.instalment_id == Instalment.id, Alert.level == Instalment.alert_level),
        )
        query = select(
            Instalment.id,
            Instalment.alert_level,
            literal(as_of),
            literal(scan_id),
            literal("open"),
            Instalment.alert_level.in_(holds) if holds else false(),
        ).where(new)
        result = session.execute(
            insert(Alert)
            .from_select(["instalment_id", "level", "raised_on", "scan_id", "status", "credit_hold"], query)
            .execution_options(preserve_rowcount=True)
        )
        raised += rowcount(result)
    return raised


def _credit_holds(session: Session, scan_id: int, resolved: list[int]) -> None:
    """An order is recommended for credit hold while an unresolved credit-hold alert is open;
    only orders with such an alert raised or resolved (``resolved``) in this scan are looked at."""
    raised = (
        select(Instalment.order_id)
        .join(Alert, Alert.instalment_id == Instalment.id)
        .where(Alert.scan_id == scan_id, Alert.credit_hold == true())
    )
    session.execute(
        update(ReceivableOrder)
        .where(ReceivableOrder.credit_hold == false(), ReceivableOrder.order_id.in_(raised))
        .values(credit_hold=True)
        .execution_options(synchronize_session=False)
    )
    held = exists().where(
        Alert.credit_hold == true(),
        Alert.status != "resolved",
        Alert.instalment_id == Instalment.id,
        Instalment.order_id == ReceivableOrder.order_id,
    )
    for start in range(0, len(resolved), 5000):
        released = (
            select(Instalment.order_id)
            .join(Alert, Alert.instalment_id == Instalment.id)
            .where(Alert.id.in_(resolved[start : start + 5000]), Alert.credit_hold == true())
        )
        session.execute(
            update(ReceivableOrder)
            .where(ReceivableOrder.credit_hold == true(), ReceivableOrder.order_id.in_(released), ~held)
            .values(credit_hold=False)
            .execution_options(synchronize_session=False)
        )


def _queue_deliveries(session: Session, version_id: int, pipeline: Pipeline, scan_id: int) -> int:
    columns = ["alert_id", "channel", "recipient", "status", "attempts"]
    queued = 0
    for level in pipeline.alerts:
        raised = and_(
            Alert.scan_id == scan_id, Alert.level == level.level, Instalment.pipeline_version_id == version_id
        )
        targets: list[tuple[str, Any]] = []
        if "finance" in level.notify:
            finance = pipeline.recipients.get("finance")
            if finance:
                targets += [("email", literal(a)) for a in finance.email]
                targets += [("webhook", literal(u)) for u in finance.webhook]
        for channel, recipient in targets:
            query = (
                select(Alert.id, literal(channel), recipient, literal("pending"), literal(0))
                .join(Instalment, Instalment.id == Alert.instalment_id)
                .where(raised)
            )
            queued += rowcount(
                session.execute(
                    insert(AlertDelivery).from_select(columns, query).execution_options(preserve_rowcount=True)
                )
            )
        if "sales_owner" in level.notify:
            query = (
                select(Alert.id, literal("email"), ReceivableOrder.owner, literal("pending"), literal(0))
                .join(Instalment, Instalment.id == Alert.instalment_id)
                .join(ReceivableOrder, ReceivableOrder.order_id == Instalment.order_id)
                .where(raised, ReceivableOrder.owner.like("%@%"))
            )
            queued += rowcount(
                session.execute(
                    insert(AlertDelivery).from_select(columns, query).execution_options(preserve_rowcount=True)
                )
            )
    return queued


def refresh(
    session: Session,
    mappings_dir: Path,
    as_of: date,
    since: Any = None,
    log: SetAsideLog | None = None,
    *,
    statuses: bool = True,
) -> dict[str, int]:
    """Everything before the overdue evaluation: pipeline files, enrolment, stages, allocation,
    and (``statuses``) the status and open amount of what changed, as of ``as_of``, so the order
    status and ageing are right after a sync, not only after the next scan (which raises the
    alerts). Cheap when little changed; call it after a sync page to see stages and invoices at once.
    One refresh at a time: two syncs finishing together would enrol the same new orders.
    What earlier runs set aside is retried; what fails now is set aside in ``log``."""
    log = log if log is not None else SetAsideLog()
    serialize(session, "receivables.refresh")
    sync_files(session, mappings_dir)
    enrolled = enrol_new_orders(session, current_versions(session), log=log)
    versions = used_versions(session)
    stages = detect(session, versions, as_of, log)
    invoices = changed_since(session, since) | earlier(session, "invoice")
    orders = (
        resolve_targets(session, invoices, log)
        | set(enrolled)
        | earlier(session, "order", ["allocate"])
        | newly_dated(session)
    )
    allocated = allocate(session, orders, log)
    if statuses:
        settle_statuses(session, used_versions(session), as_of, log)
    return {"enrolled": len(enrolled), "stages_reached": stages, "orders_allocated": allocated}


def newly_dated(session: Session) -> set[int]:
    """Orders with a part not invoiced yet whose plan date was unknown (its stage not reached)
    when they were allocated, and whose stage is reached now: allocated again, for that date."""
    return set(
        session.scalars(
            select(Instalment.order_id)
            .distinct()
            .join(InstalmentDue, InstalmentDue.instalment_id == Instalment.id)
            .where(
                InstalmentDue.invoice_id.is_(None),
                InstalmentDue.due_date.is_(None),
                Instalment.trigger_date.is_not(None),
            )
        )
    )


def settle_statuses(session: Session, versions: dict[int, Pipeline], as_of: date, log: SetAsideLog) -> None:
    """Status and open amount of the rows changed since the last evaluation (``dirty``), as of
    ``as_of``. Levels and alerts are the scan's: the rows stay ``dirty``, so the next scan
    evaluates them in full (and resolves alerts of those now paid)."""
    status = status_expression(as_of)
    for version_id in versions:
        where = and_(
            Instalment.pipeline_version_id == version_id,
            Instalment.dirty == true(),
            (Instalment.status != status) | (Instalment.outstanding != open_expression()),
        )

        def run(ids: list[int] | None, where: Any = where) -> None:
            only = and_(true() if ids is None else Instalment.order_id.in_(ids), log.not_set_aside(Instalment.order_id))
            session.execute(
                update(Instalment)
                .where(where, only)
                .values(status=status, outstanding=open_expression(), updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )

        def touched(where: Any = where) -> list[int]:
            return list(session.scalars(select(Instalment.order_id).distinct().where(where)))

        guarded(session, log, "evaluate", run, touched, label=order_label(session))


def used_versions(session: Session) -> dict[int, Pipeline]:
    """Versions some order follows: a probe per version, not a DISTINCT over every order."""
    used = select(PipelineVersion.id).where(exists().where(ReceivableOrder.pipeline_version_id == PipelineVersion.id))
    return versions_in_use(session, session.scalars(used))


def recheck_reports(session: Session, log: SetAsideLog) -> None:
    """Orders a report set aside between scans (rows it could not read) are read again; those
    that still fail stay listed, with this scan's id."""
    from hub.receivables.reports import overdue_of

    for order_id, label in session.execute(
        select(SetAside.record_id, SetAside.label).where(SetAside.record == "order", SetAside.step == "report")
    ).all():
        try:
            with session.begin_nested():
                overdue_of(session, order_id)
        except Exception as exc:
            if not is_record_error(exc):
                raise
            log.set_aside(session, "order", order_id, "report", describe(exc), label)


def scan(database_url: str, mappings_dir: Path, as_of: date | None = None, *, send: bool = True) -> ScanResult:
    """One scan: refresh, evaluate, commit; then send the queued digests (if ``send``)."""
    as_of = as_of or date.today()
    with session_scope(database_url) as session:
        since = session.scalar(
            select(ScanRun.started_at).where(ScanRun.finished_at.is_not(None)).order_by(ScanRun.id.desc()).limit(1)
        )
        run = ScanRun(as_of=as_of, started_at=utcnow())
        session.add(run)
        session.flush()
        aside = SetAsideLog(run.id)
        result = ScanResult(run.id, as_of)
        for key, value in refresh(session, mappings_dir, as_of, since, aside, statuses=False).items():
            setattr(result, key, value)
        for key, value in evaluate(session, used_versions(session), as_of, run.id, aside).items():
            setattr(result, key, value)
        recheck_reports(session, aside)
        aside.finish(session)
        result.set_aside = aside.summary()
        run.finished_at = utcnow()
        run.counts = {**result.as_dict(), "set_aside": aside.count}
    if send:
        from hub.notify.settings import NotifySettings
        from hub.receivables.deliver import deliver_pending

        delivering = SetAsideLog(result.scan_id)
        result.sent, result.failed = deliver_pending(database_url, NotifySettings(), as_of, delivering)
        result.set_aside += delivering.summary()
    for item in result.set_aside:  # beat's scans have no one reading their answer
        logger.warning(
            "receivables scan %s set aside %s %s (%s), step %s: %s",
            result.scan_id,
            item["record"],
            item["id"],
            item["label"],
            item["step"],
            item["reason"],
        )
    return result
