"""The overdue scan: statuses, alert levels, alerts raised once, resolved when paid — in SQL.

Each step is one statement over all instalments (per pipeline version, of which there are
few), never a Python loop per row: the scan must stay within seconds at a million instalments.
Dates come in as bound parameters (``as_of`` minus each level's days), so the same SQL runs on
SQLite and PostgreSQL. Deliveries are queued in the same transaction as the alerts they
announce; sending happens after the commit (``deliver.py``), so a failed send loses nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import and_, case, exists, false, insert, literal, select, true, update
from sqlalchemy.orm import Session

from hub.db import session_scope, utcnow
from hub.receivables.allocation import allocate, changed_since, resolve_targets
from hub.receivables.models import Alert, AlertDelivery, Instalment, ReceivableOrder, ScanRun
from hub.receivables.pipeline import (
    Pipeline,
    current_versions,
    level_cutoffs,
    sync_files,
    versions_in_use,
)
from hub.receivables.plans import enrol_new_orders
from hub.receivables.stages import detect


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

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items()}


def overdue_condition(as_of: date) -> Any:
    return and_(Instalment.paid < Instalment.amount - Instalment.tolerance,
                Instalment.trigger_date.is_not(None), Instalment.overdue_from < as_of)


def status_expression(as_of: date) -> Any:
    return case(
        (Instalment.paid >= Instalment.amount - Instalment.tolerance, "paid"),
        (Instalment.trigger_date.is_(None), "pending"),
        (Instalment.overdue_from < as_of, "overdue"),
        (Instalment.invoiced >= Instalment.amount - Instalment.tolerance, "invoiced"),
        else_="due",
    )


def level_expression(pipeline: Pipeline, as_of: date) -> Any:
    overdue = and_(overdue_condition(as_of), Instalment.blocked == false())
    whens = [(and_(overdue, Instalment.overdue_from <= cutoff), level) for level, cutoff in level_cutoffs(pipeline, as_of)]
    return case(*whens, else_=0) if whens else literal(0)


def evaluate(session: Session, versions: dict[int, Pipeline], as_of: date, scan_id: int) -> dict[str, int]:
    """Statuses, levels, alerts, resolutions, credit holds and queued deliveries."""
    counts = {"instalments_changed": 0, "alerts_raised": 0, "alerts_resolved": 0, "deliveries_queued": 0}
    now_paid: list[int] = []
    for version_id, pipeline in versions.items():
        status, level = status_expression(as_of), level_expression(pipeline, as_of)
        changed = session.execute(
            update(Instalment)
            .where(Instalment.pipeline_version_id == version_id,
                   (Instalment.status != status) | (Instalment.alert_level != level)
                   | (Instalment.outstanding != Instalment.amount - Instalment.paid))
            .values(status=status, alert_level=level, outstanding=Instalment.amount - Instalment.paid,
                    updated_at=utcnow())
            .returning(Instalment.id, Instalment.status, Instalment.alerted_level)
            .execution_options(synchronize_session=False)).all()
        counts["instalments_changed"] += len(changed)
        now_paid += [i for i, new, alerted in changed if new == "paid" and alerted > 0]
        counts["alerts_raised"] += _raise_alerts(session, version_id, pipeline, as_of, scan_id)

    session.execute(update(Alert).where(Alert.status == "snoozed", Alert.snoozed_until <= as_of)
                    .values(status="open").execution_options(synchronize_session=False))
    for start in range(0, len(now_paid), 5000):  # alerts of instalments paid since the last scan
        result = session.execute(
            update(Alert).where(Alert.status != "resolved", Alert.instalment_id.in_(now_paid[start:start + 5000]))
            .values(status="resolved", resolved_on=as_of).execution_options(synchronize_session=False))
        counts["alerts_resolved"] += max(result.rowcount or 0, 0)
    session.execute(
        update(AlertDelivery).where(AlertDelivery.status == "pending", exists().where(
            Alert.id == AlertDelivery.alert_id, Alert.status == "resolved"))
        .values(status="cancelled").execution_options(synchronize_session=False))
    _credit_holds(session, scan_id, as_of)
    for version_id, pipeline in versions.items():
        counts["deliveries_queued"] += _queue_deliveries(session, version_id, pipeline, scan_id)
    return counts


def _raise_alerts(session: Session, version_id: int, pipeline: Pipeline, as_of: date, scan_id: int) -> int:
    """One alert per instalment and level reached, never twice, none while snoozed: an
    instalment remembers the highest level alerted, so only those above it are looked at."""
    holds = [a.level for a in pipeline.alerts if a.credit_hold]
    # snoozed instalments as one set (an anti-join), never probed per row while alerts grow
    snoozed = (select(Alert.instalment_id).where(Alert.status == "snoozed", Alert.snoozed_until > as_of)
               .distinct().subquery())
    due = and_(Instalment.pipeline_version_id == version_id, Instalment.alert_level > Instalment.alerted_level,
               Instalment.id.not_in(select(snoozed.c.instalment_id)))
    query = select(Instalment.id, Instalment.alert_level, literal(as_of), literal(scan_id), literal("open"),
                   Instalment.alert_level.in_(holds) if holds else false()).where(due)
    result = session.execute(insert(Alert).from_select(
        ["instalment_id", "level", "raised_on", "scan_id", "status", "credit_hold"], query)
        .execution_options(preserve_rowcount=True))
    session.execute(update(Instalment).where(due).values(alerted_level=Instalment.alert_level)
                    .execution_options(synchronize_session=False))
    return max(result.rowcount or 0, 0)


def _credit_holds(session: Session, scan_id: int, as_of: date) -> None:
    """An order is recommended for credit hold while an unresolved credit-hold alert is open;
    only orders with such an alert raised or resolved in this scan are looked at."""
    raised = (select(Instalment.order_id).join(Alert, Alert.instalment_id == Instalment.id)
              .where(Alert.scan_id == scan_id, Alert.credit_hold == true()))
    session.execute(update(ReceivableOrder).where(ReceivableOrder.credit_hold == false(),
                                                  ReceivableOrder.order_id.in_(raised))
                    .values(credit_hold=True).execution_options(synchronize_session=False))
    resolved = (select(Instalment.order_id).join(Alert, Alert.instalment_id == Instalment.id)
                .where(Alert.resolved_on == as_of, Alert.credit_hold == true()))
    held = (exists().where(Alert.credit_hold == true(), Alert.status != "resolved",
                           Alert.instalment_id == Instalment.id, Instalment.order_id == ReceivableOrder.order_id))
    session.execute(update(ReceivableOrder).where(ReceivableOrder.credit_hold == true(),
                                                  ReceivableOrder.order_id.in_(resolved), ~held)
                    .values(credit_hold=False).execution_options(synchronize_session=False))


def _queue_deliveries(session: Session, version_id: int, pipeline: Pipeline, scan_id: int) -> int:
    columns = ["alert_id", "channel", "recipient", "status", "attempts"]
    queued = 0
    for level in pipeline.alerts:
        raised = and_(Alert.scan_id == scan_id, Alert.level == level.level,
                      Instalment.pipeline_version_id == version_id)
        targets: list[tuple[str, Any]] = []
        if "finance" in level.notify:
            finance = pipeline.recipients.get("finance")
            if finance:
                targets += [("email", literal(a)) for a in finance.email]
                targets += [("webhook", literal(u)) for u in finance.webhook]
        for channel, recipient in targets:
            query = (select(Alert.id, literal(channel), recipient, literal("pending"), literal(0))
                     .join(Instalment, Instalment.id == Alert.instalment_id).where(raised))
            queued += max(session.execute(insert(AlertDelivery).from_select(columns, query).execution_options(preserve_rowcount=True)).rowcount or 0, 0)
        if "sales_owner" in level.notify:
            query = (select(Alert.id, literal("email"), ReceivableOrder.owner, literal("pending"), literal(0))
                     .join(Instalment, Instalment.id == Alert.instalment_id)
                     .join(ReceivableOrder, ReceivableOrder.order_id == Instalment.order_id)
                     .where(raised, ReceivableOrder.owner.like("%@%")))
            queued += max(session.execute(insert(AlertDelivery).from_select(columns, query).execution_options(preserve_rowcount=True)).rowcount or 0, 0)
    return queued


def refresh(session: Session, mappings_dir: Path, as_of: date, since: Any = None) -> dict[str, int]:
    """Everything before the overdue evaluation: pipeline files, enrolment, stages, allocation.
    Cheap when little changed; call it after a sync page to see stages and invoices at once."""
    sync_files(session, mappings_dir)
    enrolled = enrol_new_orders(session, current_versions(session))
    versions = used_versions(session)
    stages = detect(session, versions, as_of)
    orders = resolve_targets(session, changed_since(session, since)) | set(enrolled)
    return {"enrolled": len(enrolled), "stages_reached": stages, "orders_allocated": allocate(session, orders)}


def used_versions(session: Session) -> dict[int, Pipeline]:
    return versions_in_use(session, session.scalars(select(ReceivableOrder.pipeline_version_id).distinct()))


def scan(database_url: str, mappings_dir: Path, as_of: date | None = None, *, send: bool = True) -> ScanResult:
    """One scan: refresh, evaluate, commit; then send the queued digests (if ``send``)."""
    as_of = as_of or date.today()
    with session_scope(database_url) as session:
        since = session.scalar(select(ScanRun.started_at).where(ScanRun.finished_at.is_not(None))
                               .order_by(ScanRun.id.desc()).limit(1))
        run = ScanRun(as_of=as_of, started_at=utcnow())
        session.add(run)
        session.flush()
        result = ScanResult(run.id, as_of, **refresh(session, mappings_dir, as_of, since))
        for key, value in evaluate(session, used_versions(session), as_of, run.id).items():
            setattr(result, key, value)
        run.finished_at = utcnow()
        run.counts = result.as_dict()
    if send:
        from hub.notify.settings import NotifySettings
        from hub.receivables.deliver import deliver_pending

        result.sent, result.failed = deliver_pending(database_url, NotifySettings(), as_of)
    return result
