"""The outbox dispatcher: events become deliveries, deliveries reach their target systems.

Two steps, each safe to run on any number of workers at once:

1. ``route()`` turns new events into one delivery per target, following ``mappings/routes.yaml``
   (never back to the system the change came from);
2. ``deliver(target, lane)`` sends a target's due deliveries under that lane's lease. A record
   always travels in the same lane (hub id modulo the connection's ``lanes``, default 1), so two
   writes of one record never race. A batch is read set-wise, its writes may overlap
   (connection setting ``concurrency``), and its outcomes are written set-wise. A delivery
   makes the target match the hub's *current* record: several waiting deliveries of one record
   are settled by one write. A record's references are translated to the target's own ids; a
   customer the target does not have yet is created there from the golden record first.

Claiming a delivery pushes its ``next_attempt_at`` out by a lease: a worker killed mid-send
leaves it due again later, and the connectors' idempotent writes (look up by the stable
``hub_ref`` before creating) make the retry harmless. A system that is down gets retried with
exponential backoff; a record it refuses (``RecordError``) is dead at once; both are kept with
their error and can be replayed. What a write made is linked in a savepoint: a link the hub
cannot record (the target answered with a record already linked to another hub record) makes
that delivery dead, named, and the batch's other records are still linked and sent.

Each write is read back where the target allows it (``hub.outbox.verify``): a write that did
not take effect is linked (it made a record there) but its delivery is dead with the
difference; a target that cannot be read back is sent with ``verified`` saying so.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, cast
from uuid import uuid4

from sqlalchemy import Table, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from connectors.base import Connector, WriteResult
from connectors.errors import ConnectorError, RecordError
from hub.bulk import insert_rows
from hub.db import rowcount, serialize, session_scope, utcnow
from hub.documents.ingest import KINDS
from hub.master.ingest import CustomerMaster
from hub.master.models import GOLDEN_FIELDS, GoldenCustomer
from hub.observability import logs, metrics
from hub.outbox.loaded import Loaded
from hub.outbox.models import OutboxDelivery, OutboxEvent
from hub.outbox.outcome import DeliveryReport, NotYet, Outcome, Skipped, Unexpected, Written
from hub.outbox.routes import Routes, Target, load_routes
from hub.outbox.verify import VERIFIED, Verdict, verify_write
from hub.sync.connections import ConnectionConfigError, get_connection
from hub.sync.engine import SyncEngine
from hub.sync.leases import release_lease, renew_lease, take_lease
from hub.sync.links import Binder, NewLink
from hub.sync.mapping import ConnectorMap

__all__ = ["DeliveryReport", "Dispatcher", "NotYet"]  # outcomes live in hub.outbox.outcome

CLAIM_LEASE = timedelta(minutes=2)
BACKOFF_FIRST = timedelta(seconds=5)
BACKOFF_MAX = timedelta(hours=1)
LEASE_STREAM = "~outbox"
log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, engine: SyncEngine, batch: int = 500):
        self.engine = engine
        self.batch = batch
        #: target → its field map for reading writes back (or why there is none), per deliver
        self._field_maps: dict[str, ConnectorMap | str] = {}

    @property
    def routes(self) -> Routes:
        return load_routes(self.engine.mappings_dir)

    # --- 1. routing --------------------------------------------------------------------------
    def route(self) -> int:
        """Fan new events out into deliveries, a chunk per transaction; how many were routed."""
        total = 0
        while routed := self._route_chunk():
            total += routed
        return total

    def _route_chunk(self) -> int:
        routes = self.routes
        with session_scope(self.engine.database_url) as session:
            query = (
                select(OutboxEvent)
                .where(OutboxEvent.routed_at.is_(None))
                .order_by(OutboxEvent.id)
                .limit(self.batch * 4)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            events = list(session.scalars(query))
            now = utcnow()
            pairs = [(e, t) for e in events for t in routes.targets(e.entity_type, e.origin)]
            skip = _not_linked(session, [(e.entity_type, e.hub_id, t) for e, t in pairs if t.when_linked])
            insert_rows(
                session,
                OutboxDelivery,
                [
                    {
                        "event_id": e.id,
                        "target": t.connection,
                        "stream": t.stream,
                        "entity_type": e.entity_type,
                        "hub_id": e.hub_id,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for e, t in pairs
                    if (e.entity_type, e.hub_id, t.connection) not in skip
                ],
            )
            if events:
                session.execute(
                    update(OutboxEvent).where(OutboxEvent.id.in_([e.id for e in events])).values(routed_at=now)
                )
        return len(events)

    def due_targets(self) -> list[str]:
        with session_scope(self.engine.database_url) as session:
            return list(
                session.scalars(
                    select(OutboxDelivery.target)
                    .where(OutboxDelivery.status == "pending", OutboxDelivery.next_attempt_at <= utcnow())
                    .distinct()
                )
            )

    # --- 2. delivery -------------------------------------------------------------------------
    def lanes(self, target: str) -> int:
        """How many senders a target takes at once (connection setting ``lanes``, default 1).
        A record always travels in the same lane (its hub id modulo lanes), so one record's
        writes never race; a system that must be written serially keeps one lane."""
        with session_scope(self.engine.database_url) as session:
            return max(1, int(get_connection(session, target).settings.get("lanes", 1)))

    def deliver(self, target: str, progress: Callable[[int], None] | None = None, lane: int = 0) -> DeliveryReport:
        """Send the target's due deliveries in one lane, batch after batch, until none is due."""
        report = DeliveryReport(target)
        owner = uuid4().hex
        with session_scope(self.engine.database_url) as session:
            connection = get_connection(session, target)
            lanes = max(1, int(connection.settings.get("lanes", 1)))
            lease = LEASE_STREAM if lanes == 1 else f"{LEASE_STREAM}/{lane}"
            take_lease(session, connection.id, lease, owner)
            connector = self.engine.connector(connection)
        try:
            self._field_maps[target] = self.engine.connections.field_map(connection)
        except ConnectionConfigError as exc:
            self._field_maps[target] = f"no field map to read it back with ({exc})"
        bound = logs.bind(connection=target, stream=f"{LEASE_STREAM}/{lane}", run_id=owner)  # the lease owner
        try:
            while self._deliver_batch(
                connection.id, target, connector, report, (lease, owner), progress, (lane, lanes)
            ):
                pass
        finally:
            connector.close()
            with session_scope(self.engine.database_url) as session:
                release_lease(session, connection.id, lease, owner)
            metrics.count_deliveries(report)
            if report.sent or report.retrying or report.dead:
                log.info("outbox: sent %d, retrying %d, dead %d", report.sent, report.retrying, report.dead)
            logs.unbind(bound)
        return report

    def _deliver_batch(
        self,
        connection_id: int,
        target: str,
        connector: Connector,
        report: DeliveryReport,
        lease: tuple[str, str],
        progress: Callable[[int], None] | None,
        lane: tuple[int, int],
    ) -> bool:
        """One claimed batch in one transaction: everything it needs is read set-wise first,
        then one write to the target per record, then the deliveries' outcomes set-wise."""
        with session_scope(self.engine.database_url) as session:
            claimed = self._claim(session, target, lane)
            renew_lease(session, connection_id, *lease)
        if not claimed:
            return False
        by_record: dict[tuple[str, int], list[OutboxDelivery]] = {}
        for delivery in claimed:
            by_record.setdefault((delivery.entity_type, delivery.hub_id), []).append(delivery)
        try:
            return self._send_batch(target, connector, report, progress, claimed, by_record)
        except Exception as exc:
            # not settled (a deadlock, say): due again now rather than when the claim runs out;
            # targets are written idempotently, so what did reach them is not entered twice
            # (its error kept: a delivery never waits without saying why)
            with session_scope(self.engine.database_url) as session:
                session.execute(
                    update(OutboxDelivery)
                    .where(OutboxDelivery.id.in_([d.id for d in claimed]))
                    .values(
                        next_attempt_at=utcnow(), last_error=f"batch not settled: {type(exc).__name__}: {exc}"[:2000]
                    )
                )
            raise

    def _send_batch(
        self,
        target: str,
        connector: Connector,
        report: DeliveryReport,
        progress: Callable[[int], None] | None,
        claimed: list[OutboxDelivery],
        by_record: dict[tuple[str, int], list[OutboxDelivery]],
    ) -> bool:
        outcome = Outcome()
        system_down: str | None = None
        with session_scope(self.engine.database_url) as session:
            loaded = Loaded.read(session, list(by_record), {d.event_id for d in claimed})
            ready: list[tuple[list[OutboxDelivery], dict[str, Any], tuple[str, str | None, int] | None]] = []
            for (entity, hub_id), deliveries in by_record.items():  # payloads; missing customers made
                try:
                    if system_down:
                        raise Skipped(system_down)
                    payload = self.payload(session, connector, target, entity, hub_id, loaded)
                    ready.append((deliveries, payload, loaded.links.get((entity, hub_id), {}).get(target)))
                except (RecordError, NotYet, ConnectorError, OSError, Skipped) as exc:
                    system_down = outcome.failed_with(deliveries, exc) or system_down
            written: list[Written] = []
            for (deliveries, _payload, known), result in zip(ready, self._write_all(connector, ready), strict=True):
                if isinstance(result, tuple):
                    outcome.checked(deliveries, result[1])
                    written.append((deliveries, known, result[0]))
                else:
                    system_down = outcome.failed_with(deliveries, result) or system_down
                if progress:
                    progress(len(deliveries))
            self._link_all(session, target, written, loaded, outcome)
            session.flush()
            self._settle(session, outcome, report)
        return system_down is None

    def _claim(self, session: Session, target: str, lane: tuple[int, int]) -> list[OutboxDelivery]:
        query = (
            select(OutboxDelivery)
            .where(
                OutboxDelivery.target == target,
                OutboxDelivery.status == "pending",
                OutboxDelivery.next_attempt_at <= utcnow(),
            )
            .order_by(OutboxDelivery.id)
            .limit(self.batch)
        )
        if lane[1] > 1:
            query = query.where(OutboxDelivery.hub_id % lane[1] == lane[0])
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

    def _settle(self, session: Session, outcome: Outcome, report: DeliveryReport) -> None:
        now = utcnow()
        if outcome.sent_rows:
            session.execute(
                update(OutboxDelivery),
                [
                    {
                        "id": i,
                        "status": "sent",
                        "delivered_at": now,
                        "external_id": ext,
                        "last_error": None,
                        "verified": note[:300],
                    }
                    for i, ext, note in outcome.sent_rows
                ],
            )
            report.unverified += sum(1 for _i, _ext, note in outcome.sent_rows if note != VERIFIED)
            report.notes += [note for _i, _ext, note in outcome.sent_rows if note != VERIFIED]
        rows = []
        for delivery, error in outcome.failed:
            route = self.routes.target(delivery.entity_type, delivery.target)
            if error.fatal or (route is not None and delivery.attempts >= route.max_attempts):
                text = error.text if error.fatal else f"gave up after {delivery.attempts} attempts: {error.text}"
                rows.append({"id": delivery.id, "status": "dead", "last_error": text})
                report.dead += 1
            else:
                wait = min(BACKOFF_FIRST * 2 ** (delivery.attempts - 1), BACKOFF_MAX)
                rows.append(
                    {"id": delivery.id, "status": "pending", "next_attempt_at": now + wait, "last_error": error.text}
                )
                report.retrying += 1
            report.errors.append(error.text)
        for status in ("dead", "pending"):  # one statement shape each
            same = [r for r in rows if r["status"] == status]
            if same:
                session.execute(update(OutboxDelivery), same)
        report.sent += len(outcome.sent_rows)

    # --- one record --------------------------------------------------------------------------
    def _write_all(
        self, connector: Connector, ready: list[tuple[list[OutboxDelivery], dict[str, Any], Any]]
    ) -> list[tuple[WriteResult, Verdict] | Exception]:
        """One write per record; ``concurrency`` (connection setting, default 1) of them at
        once — writes are I/O, and the records of a batch are distinct, so they cannot race.
        After a system-down error the rest of the batch is not attempted; a record the
        connector fails on outside its contract (a bug) is retried alone, the others go on."""

        def write(item: tuple[list[OutboxDelivery], dict[str, Any], Any]) -> tuple[WriteResult, Verdict] | Exception:
            deliveries, payload, known = item
            if down.is_set():
                return Skipped("the target failed earlier in this batch")
            try:
                result = connector.write(deliveries[0].stream, payload, known[0] if known else None)
                return result, self._verify(connector, deliveries[0], payload, result)
            except RecordError as exc:
                return exc
            except (ConnectorError, OSError) as exc:
                down.set()
                return exc
            except Exception as exc:  # the connector failed on this record (a bug): set it aside alone
                log.exception(
                    "outbox: writing %s %s to %s failed unexpectedly",
                    deliveries[0].entity_type,
                    deliveries[0].hub_id,
                    deliveries[0].target,
                )
                return Unexpected(f"{type(exc).__name__}: {exc}")

        down = threading.Event()
        workers = max(1, int(connector.settings.get("concurrency", 1)))
        if workers == 1 or len(ready) < 2:
            return [write(item) for item in ready]
        with ThreadPoolExecutor(workers, thread_name_prefix="outbox") as pool:
            return list(pool.map(write, ready))

    def _verify(
        self, connector: Connector, delivery: OutboxDelivery, payload: dict[str, Any], result: WriteResult
    ) -> Verdict:
        """Read the written record back (``hub.outbox.verify``), leaving out the fields the
        target decides itself."""
        own = self.routes.ownership.get(delivery.entity_type, {})
        owned = {"*"} if own.get("*") == delivery.target else {f for f, o in own.items() if o == delivery.target}
        field_map = self._field_maps.get(delivery.target, "no field map to read it back with")
        return verify_write(connector, field_map, delivery.stream, payload, result.external_id, owned)

    def _link_all(
        self, session: Session, target: str, written: list[Written], loaded: Loaded, outcome: Outcome
    ) -> None:
        """Link what the writes made, set-wise; a link the hub cannot record sets aside its own
        record only.

        All links go in under one savepoint. If the database refuses them — the target answered
        with a record the hub already links to another of its records (a target that matched
        the write on something else than the hub's ref), or a sync linked it meanwhile — they
        are done again one savepoint each: the culprit's deliveries are dead with the reason,
        every other record of the batch is linked and sent. A batch is never rolled back whole
        for one link: its writes did reach the target, and unrecorded they would be written
        again at each retry and come back as strangers at the next sync."""
        if not written:
            return
        try:
            with session.begin_nested():
                for deliveries, known, result in written:
                    self._linked(session, target, deliveries[0], known, result, loaded, outcome)
                session.flush()
        except SQLAlchemyError:
            for deliveries, known, result in written:
                try:
                    with session.begin_nested():
                        self._linked(session, target, deliveries[0], known, result, loaded, outcome)
                        session.flush()
                except SQLAlchemyError as exc:
                    if known is None:  # not linked after all
                        loaded.links.get((deliveries[0].entity_type, deliveries[0].hub_id), {}).pop(target, None)
                    self._unlinkable(session, target, deliveries, result, exc, outcome)
                else:
                    outcome.sent(deliveries, result.external_id)
            return
        for deliveries, _known, result in written:
            outcome.sent(deliveries, result.external_id)

    @staticmethod
    def _unlinkable(
        session: Session,
        target: str,
        deliveries: list[OutboxDelivery],
        result: WriteResult,
        exc: SQLAlchemyError,
        outcome: Outcome,
    ) -> None:
        """Why the hub could not record what the target answered, naming both records."""
        entity, hub_id = deliveries[0].entity_type, deliveries[0].hub_id
        if isinstance(exc, IntegrityError):
            other = Binder(session).to_hub(target, entity, [result.external_id]).get(result.external_id)
            whose = f"{entity} {other}" if other is not None else "another hub record"
            outcome.dead(
                deliveries,
                (
                    f"{target} answered the write of {entity} {hub_id} with its record {result.external_id}, "
                    f"which the hub links to {whose} already: not linked, so as not to merge two records; "
                    f"compare both in {target}, then replay ({type(exc.orig).__name__}: {exc.orig})"
                ),
            )
        else:  # the database itself (a deadlock, a lost connection): try again later
            outcome.retry(
                deliveries,
                f"linking {entity} {hub_id} to {target} {result.external_id} failed: {type(exc).__name__}: {exc}",
            )

    def _linked(
        self,
        session: Session,
        target: str,
        delivery: OutboxDelivery,
        known: tuple[str, str | None, int] | None,
        result: WriteResult,
        loaded: Loaded,
        outcome: Outcome | None = None,
    ) -> None:
        """Link what the write created (its number too), and report back to the origin —
        unless reading it back showed the write did not take effect (its delivery goes dead)."""
        entity, hub_id = delivery.entity_type, delivery.hub_id
        if known is None:
            # content hash unknown until the record is read back: that read links it fully,
            # and finds nothing to change (no echo)
            Binder(session).bind(target, entity, NewLink(result.external_id, hub_id, "", result.version))
            loaded.links.setdefault((entity, hub_id), {})[target] = (result.external_id, result.version, 0)
            verdict = outcome.verdicts.get(delivery.id) if outcome is not None else None
            if verdict is None or verdict.taken:
                self._report_back(session, delivery, target, loaded.origins.get(delivery.event_id))
        elif result.version and result.version != known[1]:
            Binder(session).set_external_ref(known[2], result.version)

    def payload(
        self,
        session: Session,
        connector: Connector,
        target: str,
        entity: str,
        hub_id: int,
        loaded: Loaded | None = None,
    ) -> dict[str, Any]:
        """The hub's record in canonical fields, references in the target's own ids."""
        loaded = loaded or Loaded.read(session, [(entity, hub_id)], set())
        kind = KINDS[entity]
        row = loaded.rows.get((entity, hub_id))
        if row is None:
            raise RecordError(f"{entity} {hub_id} no longer exists in the hub")
        data: dict[str, Any] = {name: row[name] for name in kind.columns}
        for ref in kind.refs:
            data[ref.field] = self._target_id(session, connector, target, ref.entity, row[ref.column], loaded)
        if entity == "order":
            data["lines"] = loaded.lines.get(hub_id, [])
        elif entity == "shipment":
            data["lines"] = [
                {
                    "order_line": self._target_id(session, connector, target, "order_line", line["order_line"], loaded),
                    "product": line["product"],
                    "quantity": line["quantity"],
                }
                for line in loaded.shipment_lines.get(hub_id, [])
            ]
        data["hub_ref"] = f"concord:{entity}:{hub_id}"
        known = loaded.links.get((entity, hub_id), {})
        data["refs"] = {system: ref for system, (_ext, ref, _id) in known.items() if ref}  # numbers people see
        data["ids"] = {system: ext for system, (ext, _ref, _id) in known.items()}
        return data

    def _target_id(
        self, session: Session, connector: Connector, target: str, entity: str, hub_id: int | None, loaded: Loaded
    ) -> str | None:
        if hub_id is None:
            return None
        found = loaded.links.get((entity, hub_id), {}).get(target)
        if found is not None:
            return found[0]
        if entity != "customer":
            raise NotYet(f"{entity} {hub_id} is not in {target} yet")
        created = self._create_customer(session, connector, target, hub_id)
        loaded.links.setdefault((entity, hub_id), {})[target] = (created, None, 0)
        return created

    def _create_customer(self, session: Session, connector: Connector, target: str, golden_id: int) -> str:
        """No double entry of customers either: the target gets the golden record, linked.

        On PostgreSQL this happens in its own short transaction, under a lock per (target,
        customer): two lanes needing the same new customer at once would otherwise both create
        it, and each would wait on the other's uncommitted link until its whole batch ended."""
        if session.get_bind().dialect.name != "postgresql":  # one writer at a time anyway
            return self._create_customer_in(session, connector, target, golden_id)
        with session_scope(self.engine.database_url) as own:
            return self._create_customer_in(own, connector, target, golden_id)

    def _create_customer_in(self, session: Session, connector: Connector, target: str, golden_id: int) -> str:
        golden = session.get(GoldenCustomer, golden_id)
        assert golden is not None
        while golden.merged_into_id:  # a merged-away record: its survivor is the customer
            golden = session.get(GoldenCustomer, golden.merged_into_id)
            assert golden is not None
        serialize(session, f"outbox.customer:{target}:{golden.id}")
        linked = Binder(session).to_external("customer", [golden.id], target).get(golden.id)
        if linked is not None:  # another lane created it while this one waited
            return linked
        data = {f: getattr(golden, f) for f in GOLDEN_FIELDS} | {"hub_ref": f"concord:customer:{golden.id}"}
        result = connector.write("customers", data, None)
        CustomerMaster(session, self.engine.mappings_dir).ingest(target, result.external_id, data, golden_id=golden.id)
        return result.external_id

    def _report_back(self, session: Session, delivery: OutboxDelivery, target: str, origin: str | None) -> None:
        route = self.routes.target(delivery.entity_type, target)
        if route is None or route.report_back is None or origin in (None, target, "hub"):
            return
        told = session.scalar(
            select(OutboxDelivery).where(OutboxDelivery.event_id == delivery.event_id, OutboxDelivery.target == origin)
        )
        if told is not None:  # linked again after a lost link or answer: tell the origin again
            told.status, told.attempts, told.next_attempt_at = "pending", 0, utcnow()
            return
        session.add(
            OutboxDelivery(
                event_id=delivery.event_id,
                target=origin,
                stream=route.report_back,
                entity_type=delivery.entity_type,
                hub_id=delivery.hub_id,
                status="pending",
                next_attempt_at=utcnow(),
            )
        )

    # --- dead deliveries ---------------------------------------------------------------------
    def replay(self, ids: Iterable[int] | None = None, target: str | None = None) -> int:
        """Dead deliveries become due again (after the cause was fixed); how many."""
        with session_scope(self.engine.database_url) as session:
            query = update(OutboxDelivery).where(OutboxDelivery.status == "dead")
            if ids:
                query = query.where(OutboxDelivery.id.in_(list(ids)))
            if target:
                query = query.where(OutboxDelivery.target == target)
            return rowcount(session.execute(query.values(status="pending", attempts=0, next_attempt_at=utcnow())))

    def counts(self) -> dict[str, dict[str, int]]:
        """target → status → deliveries, for the CLI, the API and the metrics."""
        out: dict[str, dict[str, int]] = {}
        with session_scope(self.engine.database_url) as session:
            for target, status, n in session.execute(
                select(OutboxDelivery.target, OutboxDelivery.status, func.count()).group_by(
                    OutboxDelivery.target, OutboxDelivery.status
                )
            ):
                out.setdefault(target, {})[status] = n
            unrouted = session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.routed_at.is_(None))
            )
        out["(not routed yet)"] = {"events": unrouted or 0}
        return out


def _not_linked(session: Session, wanted: list[tuple[str, int, Target]]) -> set[tuple[str, int, str]]:
    """(entity, hub id, target) of records whose ``when_linked`` reference the target does not
    have — a shipment of an order entered straight in the ERP means nothing to the CRM."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    for entity, hub_id, target in wanted:
        groups.setdefault((entity, target.connection, str(target.when_linked)), []).append(hub_id)
    skip: set[tuple[str, int, str]] = set()
    for (entity, connection, field_name), ids in groups.items():
        ref = next(r for r in KINDS[entity].refs if r.field == field_name)
        table = cast(Table, KINDS[entity].model.__table__)
        parents = dict(session.execute(select(table.c.id, table.c[ref.column]).where(table.c.id.in_(ids))).all())
        linked = Binder(session).to_external(ref.entity, [p for p in parents.values() if p is not None], connection)
        skip |= {(entity, i, connection) for i in ids if parents.get(i) not in linked}
    return skip
