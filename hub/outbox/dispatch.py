"""The outbox dispatcher: events become deliveries, deliveries reach their target systems.

Two steps, each safe to run on any number of workers at once:

1. ``route()`` turns new events into one delivery per target, following ``mappings/routes.yaml``
   (never back to the system the change came from);
2. ``deliver(target)`` sends a target's due deliveries under that target's lease (one sender
   per target, so two creates of one record never race). A delivery makes the target match
   the hub's *current* record: several waiting deliveries of one record are settled by one
   write. A record's references are translated to the target's own ids; a customer the target
   does not have yet is created there from the golden record first.

Claiming a delivery pushes its ``next_attempt_at`` out by a lease: a worker killed mid-send
leaves it due again later, and the connectors' idempotent writes (look up by the stable
``hub_ref`` before creating) make the retry harmless. A system that is down gets retried with
exponential backoff; a record it refuses (``RecordError``) is dead at once; both are kept with
their error and can be replayed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from connectors.base import Connector
from connectors.errors import ConnectorError, RecordError
from hub.bulk import insert_rows
from hub.db import session_scope, utcnow
from hub.documents.ingest import KINDS
from hub.documents.models import OrderLine
from hub.master.ingest import CustomerMaster
from hub.master.models import GOLDEN_FIELDS, GoldenCustomer
from hub.outbox.models import OutboxDelivery, OutboxEvent
from hub.outbox.routes import Routes, load_routes
from hub.sync.engine import SyncEngine, _connection, release_lease, renew_lease, take_lease
from hub.sync.models import Link

CLAIM_LEASE = timedelta(minutes=2)
BACKOFF_FIRST = timedelta(seconds=5)
BACKOFF_MAX = timedelta(hours=1)
LEASE_STREAM = "~outbox"


class NotYet(Exception):  # noqa: N818 - a state, not a failure
    """The target lacks something this record refers to (its order, say): try again later."""


@dataclass
class DeliveryReport:
    target: str
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


class Dispatcher:
    def __init__(self, engine: SyncEngine, batch: int = 500):
        self.engine = engine
        self.batch = batch

    @property
    def routes(self) -> Routes:
        return load_routes(self.engine.mappings_dir)

    # --- 1. routing --------------------------------------------------------------------------
    def route(self) -> int:
        """Fan new events out into deliveries; how many events were routed."""
        routes = self.routes
        with session_scope(self.engine.database_url) as session:
            query = select(OutboxEvent).where(OutboxEvent.routed_at.is_(None)).order_by(OutboxEvent.id).limit(self.batch * 4)
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            events = list(session.scalars(query))
            now = utcnow()
            insert_rows(session, OutboxDelivery, [
                {"event_id": e.id, "target": t.connection, "stream": t.stream, "entity_type": e.entity_type,
                 "hub_id": e.hub_id, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
                for e in events for t in routes.targets(e.entity_type, e.origin)
            ])
            if events:
                session.execute(
                    update(OutboxEvent).where(OutboxEvent.id.in_([e.id for e in events])).values(routed_at=now)
                )
        return len(events)

    def due_targets(self) -> list[str]:
        with session_scope(self.engine.database_url) as session:
            return list(session.scalars(
                select(OutboxDelivery.target).where(
                    OutboxDelivery.status == "pending", OutboxDelivery.next_attempt_at <= utcnow()
                ).distinct()
            ))

    # --- 2. delivery -------------------------------------------------------------------------
    def deliver(self, target: str, progress: Callable[[int], None] | None = None) -> DeliveryReport:
        """Send the target's due deliveries, batch after batch, until none is due."""
        report = DeliveryReport(target)
        owner = uuid4().hex
        with session_scope(self.engine.database_url) as session:
            connection = _connection(session, target)
            take_lease(session, connection.id, LEASE_STREAM, owner)
            connector = self.engine.connector(connection)
        try:
            while self._deliver_batch(connection.id, target, connector, report, owner, progress):
                pass
        finally:
            connector.close()
            with session_scope(self.engine.database_url) as session:
                release_lease(session, connection.id, LEASE_STREAM, owner)
        return report

    def _deliver_batch(
        self, connection_id: int, target: str, connector: Connector, report: DeliveryReport, owner: str,
        progress: Callable[[int], None] | None,
    ) -> bool:
        with session_scope(self.engine.database_url) as session:
            claimed = self._claim(session, target)
            renew_lease(session, connection_id, LEASE_STREAM, owner)
        if not claimed:
            return False
        by_record: dict[tuple[str, int], list[OutboxDelivery]] = {}
        for delivery in claimed:
            by_record.setdefault((delivery.entity_type, delivery.hub_id), []).append(delivery)
        system_down = False
        for (entity, hub_id), deliveries in by_record.items():
            with session_scope(self.engine.database_url) as session:
                if system_down:
                    self._retry(session, deliveries, "not attempted: the target failed earlier in this batch", report)
                    continue
                try:
                    with session.begin_nested():
                        external_id = self._send(session, connector, target, deliveries[0], entity, hub_id)
                except RecordError as exc:
                    self._dead(session, deliveries, str(exc), report)
                except NotYet as exc:
                    self._retry(session, deliveries, str(exc), report)
                except (ConnectorError, OSError) as exc:
                    system_down = True
                    self._retry(session, deliveries, f"{type(exc).__name__}: {exc}", report)
                else:
                    self._sent(session, deliveries, external_id, report)
            if progress:
                progress(len(deliveries))
        return not system_down

    def _claim(self, session: Session, target: str) -> list[OutboxDelivery]:
        query = (
            select(OutboxDelivery)
            .where(OutboxDelivery.target == target, OutboxDelivery.status == "pending",
                   OutboxDelivery.next_attempt_at <= utcnow())
            .order_by(OutboxDelivery.id)
            .limit(self.batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claimed = list(session.scalars(query))
        if claimed:
            session.execute(
                update(OutboxDelivery)
                .where(OutboxDelivery.id.in_([d.id for d in claimed]))
                .values(attempts=OutboxDelivery.attempts + 1, next_attempt_at=utcnow() + CLAIM_LEASE)
            )
            session.flush()
            for delivery in claimed:
                session.refresh(delivery)
            session.expunge_all()
        return claimed

    def _sent(self, session: Session, deliveries: list[OutboxDelivery], external_id: str, report: DeliveryReport) -> None:
        _set(session, deliveries, status="sent", delivered_at=utcnow(), external_id=external_id, last_error=None)
        report.sent += len(deliveries)

    def _retry(self, session: Session, deliveries: list[OutboxDelivery], error: str, report: DeliveryReport) -> None:
        route = self.routes.target(deliveries[0].entity_type, deliveries[0].target)
        attempts = max(d.attempts for d in deliveries)
        if route is not None and attempts >= route.max_attempts:
            self._dead(session, deliveries, f"gave up after {attempts} attempts: {error}", report)
            return
        wait = min(BACKOFF_FIRST * 2 ** (attempts - 1), BACKOFF_MAX)
        _set(session, deliveries, next_attempt_at=utcnow() + wait, last_error=error)
        report.retrying += len(deliveries)
        report.errors.append(error)

    def _dead(self, session: Session, deliveries: list[OutboxDelivery], error: str, report: DeliveryReport) -> None:
        _set(session, deliveries, status="dead", last_error=error)
        report.dead += len(deliveries)
        report.errors.append(error)

    # --- one record --------------------------------------------------------------------------
    def _send(self, session: Session, connector: Connector, target: str, delivery: OutboxDelivery,
              entity: str, hub_id: int) -> str:
        """Write the hub's current record to the target; the target's id for it."""
        payload = self.payload(session, connector, target, entity, hub_id)
        link = session.scalar(select(Link).where(
            Link.system == target, Link.entity_type == entity, Link.hub_id == hub_id
        ))
        result = connector.write(delivery.stream, payload, link.external_id if link else None)
        if link is None:
            now = utcnow()
            # content hash unknown until the record is read back: that read links it fully,
            # and finds nothing to change (no echo)
            session.add(Link(entity_type=entity, hub_id=hub_id, system=target, external_id=result.external_id,
                             content_hash="", external_ref=result.version, created_at=now, updated_at=now))
            self._report_back(session, delivery, target)
        elif result.version and result.version != link.external_ref:
            link.external_ref = result.version
        return result.external_id

    def payload(self, session: Session, connector: Connector, target: str, entity: str, hub_id: int) -> dict[str, Any]:
        """The hub's record in canonical fields, references in the target's own ids."""
        kind = KINDS[entity]
        table = kind.model.__table__  # type: ignore[attr-defined]
        row = session.execute(select(table).where(table.c.id == hub_id)).mappings().one()
        data: dict[str, Any] = {name: row[name] for name in kind.columns}
        for ref in kind.refs:
            data[ref.field] = self._target_id(session, connector, target, ref.entity, row[ref.column])
        if entity == "order":
            data["lines"] = [
                {"id": line.id, "product": line.product, "description": line.description,
                 "quantity": line.quantity, "unit_price": line.unit_price}
                for line in session.scalars(select(OrderLine).where(OrderLine.order_id == hub_id).order_by(OrderLine.id))
            ]
        data["hub_ref"] = f"concord:{entity}:{hub_id}"
        data["refs"] = {
            system: ref or ext for system, ext, ref in session.execute(
                select(Link.system, Link.external_id, Link.external_ref)
                .where(Link.entity_type == entity, Link.hub_id == hub_id)
            )
        }
        return data

    def _target_id(self, session: Session, connector: Connector, target: str, entity: str, hub_id: int | None) -> str | None:
        if hub_id is None:
            return None
        found = session.scalar(select(Link.external_id).where(
            Link.system == target, Link.entity_type == entity, Link.hub_id == hub_id
        ))
        if found is not None:
            return found
        if entity != "customer":
            raise NotYet(f"{entity} {hub_id} is not in {target} yet")
        return self._create_customer(session, connector, target, hub_id)

    def _create_customer(self, session: Session, connector: Connector, target: str, golden_id: int) -> str:
        """No double entry of customers either: the target gets the golden record, linked."""
        golden = session.get(GoldenCustomer, golden_id)
        assert golden is not None
        while golden.merged_into_id:  # a merged-away record: its survivor is the customer
            golden = session.get(GoldenCustomer, golden.merged_into_id)
            assert golden is not None
        data = {f: getattr(golden, f) for f in GOLDEN_FIELDS} | {"hub_ref": f"concord:customer:{golden.id}"}
        result = connector.write("customers", data, None)
        master = CustomerMaster(session, self.engine.mappings_dir)
        master.ingest(target, result.external_id, data, golden_id=golden.id)
        return result.external_id

    def _report_back(self, session: Session, delivery: OutboxDelivery, target: str) -> None:
        route = self.routes.target(delivery.entity_type, target)
        origin = session.scalar(select(OutboxEvent.origin).where(OutboxEvent.id == delivery.event_id))
        if route is None or route.report_back is None or origin in (None, target, "hub"):
            return
        session.add(OutboxDelivery(
            event_id=delivery.event_id, target=origin, stream=route.report_back, entity_type=delivery.entity_type,
            hub_id=delivery.hub_id, status="pending", next_attempt_at=utcnow(),
        ))

    # --- dead deliveries ---------------------------------------------------------------------
    def replay(self, ids: Iterable[int] | None = None, target: str | None = None) -> int:
        """Dead deliveries become due again (after the cause was fixed); how many."""
        with session_scope(self.engine.database_url) as session:
            query = update(OutboxDelivery).where(OutboxDelivery.status == "dead")
            if ids:
                query = query.where(OutboxDelivery.id.in_(list(ids)))
            if target:
                query = query.where(OutboxDelivery.target == target)
            return session.execute(
                query.values(status="pending", attempts=0, next_attempt_at=utcnow())
            ).rowcount or 0

    def counts(self) -> dict[str, dict[str, int]]:
        """target → status → deliveries, for the CLI, the API and the metrics."""
        out: dict[str, dict[str, int]] = {}
        with session_scope(self.engine.database_url) as session:
            for target, status, n in session.execute(
                select(OutboxDelivery.target, OutboxDelivery.status, func.count()).group_by(
                    OutboxDelivery.target, OutboxDelivery.status)
            ):
                out.setdefault(target, {})[status] = n
            unrouted = session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.routed_at.is_(None)))
        out["(not routed yet)"] = {"events": unrouted or 0}
        return out


def _set(session: Session, deliveries: list[OutboxDelivery], **values: Any) -> None:
    session.execute(update(OutboxDelivery).where(OutboxDelivery.id.in_([d.id for d in deliveries])).values(**values))


def dispatcher(database_url: str, mappings_dir: Path, secret_key: str) -> Dispatcher:
    return Dispatcher(SyncEngine(database_url, mappings_dir, secret_key))

