"""Publishing the golden customer record back to a system (one system of record, or none).

For each of the connection's customer records, the golden values of the published fields are
compared with what that system holds (in match form, so "+49 30 1234567" equals
"+49301234567"); only real differences are written. Running it twice writes nothing the second
time, and reading the written record back changes no golden value, so there is no echo loop.

With care, because a golden value is a decision and the system's own edit may be newer:

* A field is written only where the golden value is at least as new as the system's copy
  (its provenance time against the copy's ``source_updated_at``). A phone number changed in
  the ERP minutes ago is the ERP's own newer edit: it is reported as a conflict for a data
  steward, never reverted.
* One golden record linked to several records of the same system is one customer entered
  twice there: only the primary record (the first linked, where the outbox sends that
  customer's orders too) is written; the others are reported as duplicates to merge in that system, so three
  legal names are not overwritten with one spelling.
* A write the system reports as changing nothing is counted as unchanged, not written.
* A write is read back where the connector can (``hub.outbox.verify``): one that did not take
  effect is failed, naming each field sent and read back; where it cannot be read back, the
  result says so (``unverified``), never a silent ok.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from connectors.errors import ConnectorError
from hub.db import as_utc, session_scope
from hub.master.models import CustomerSource, GoldenCustomer
from hub.master.normalise import normalise_customer
from hub.outbox.verify import VERIFIED, verify_write
from hub.sync.connections import ConnectionConfigError, get_connection
from hub.sync.engine import SyncEngine
from hub.sync.mapping import ConnectorMap

DEFAULT_FIELDS = ("name", "email", "phone")


@dataclass
class PublishResult:
    written: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    #: "system id field: golden 'x' is older than the system's 'y' (changed …)": for a steward
    conflicts: list[str] = field(default_factory=list)
    #: golden id -> the system's other record ids of that customer (duplicates to merge there)
    duplicates: dict[int, list[str]] = field(default_factory=dict)
    #: written, but not read back to check; ``notes`` says why
    unverified: int = 0
    notes: list[str] = field(default_factory=list)


def _differs(field_name: str, golden: str | None, source: CustomerSource) -> bool:
    if not golden:
        return False
    if field_name == "name":
        ours = normalise_customer({"name": golden}).name_key
        return ours != source.name_key
    theirs = getattr(source, field_name)
    ours = getattr(normalise_customer({field_name: golden, "country": source.country}), field_name)
    return ours != theirs


def _primary(sources: list[CustomerSource]) -> CustomerSource:
    """The system's record the golden record speaks for: the first linked (the outbox sends
    that customer's orders to the same one, hub.outbox.loaded)."""
    return min(sources, key=lambda s: s.id)


def _newer_at_source(field_name: str, golden: GoldenCustomer, source: CustomerSource) -> bool:
    """The system's copy changed after the golden value was decided: its own newer edit."""
    decided = (golden.provenance or {}).get(field_name, {}).get("at")
    if not decided:
        return False
    return as_utc(source.source_updated_at) > as_utc(datetime.fromisoformat(decided))


def publish_customers(engine: SyncEngine, name: str) -> PublishResult:
    result = PublishResult()
    with session_scope(engine.database_url) as session:
        connection = get_connection(session, name)
        fields = tuple(connection.settings.get("publish_fields", DEFAULT_FIELDS))
        connector = engine.connector(connection)
        try:
            field_map: ConnectorMap | str = engine.connections.field_map(connection)
        except ConnectionConfigError as exc:
            field_map = f"no field map to read it back with ({exc})"
        pairs = session.execute(
            select(CustomerSource, GoldenCustomer)
            .join(GoldenCustomer, GoldenCustomer.id == CustomerSource.golden_id)
            .where(CustomerSource.system == name)
            .order_by(CustomerSource.id)
        ).all()
        by_golden: dict[int, list[CustomerSource]] = defaultdict(list)
        goldens: dict[int, GoldenCustomer] = {}
        for source, golden in pairs:
            by_golden[golden.id].append(source)
            goldens[golden.id] = golden
        try:
            for golden_id, sources in by_golden.items():
                golden = goldens[golden_id]
                source = _primary(sources)
                if len(sources) > 1:
                    result.duplicates[golden_id] = sorted(s.external_id for s in sources if s is not source)
                changes = {}
                for f in fields:
                    if not _differs(f, getattr(golden, f), source):
                        continue
                    if _newer_at_source(f, golden, source):
                        result.conflicts.append(
                            f"{name} {source.external_id} {f}: golden {getattr(golden, f)!r} is older than "
                            f"the system's own {source.data.get(f)!r} (changed {source.source_updated_at:%Y-%m-%d %H:%M})"
                        )
                        continue
                    changes[f] = getattr(golden, f)
                if not changes:
                    result.unchanged += 1
                    continue
                try:
                    written = connector.write("customers", changes, source.external_id)
                except ConnectorError as exc:
                    result.failed += 1
                    result.errors.append(f"{name} {source.external_id}: {exc}")
                    continue
                if not getattr(written, "changed", True):
                    result.unchanged += 1
                    continue
                verdict = verify_write(connector, field_map, "customers", changes, written.external_id)
                if not verdict.taken:
                    result.failed += 1
                    result.errors.append(f"{name} {source.external_id}: {verdict.note}")
                    continue
                result.written += 1
                if verdict.note != VERIFIED:
                    result.unverified += 1
                    result.notes.append(verdict.note)
        finally:
            connector.close()
    return result
