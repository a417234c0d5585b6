"""Publishing the golden customer record back to a system (one system of record, or none).

For each of the connection's customer records, the golden values of the published fields are
compared with what that system holds (in match form, so "+49 30 1234567" equals
"+49301234567"); only real differences are written. Running it twice writes nothing the second
time, and reading the written record back changes no golden value, so there is no echo loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from connectors.errors import ConnectorError
from hub.db import session_scope
from hub.master.models import CustomerSource, GoldenCustomer
from hub.master.normalise import normalise_customer
from hub.sync.engine import SyncEngine, _connection

DEFAULT_FIELDS = ("name", "email", "phone")


@dataclass
class PublishResult:
    written: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _differs(field_name: str, golden: str | None, source: CustomerSource) -> bool:
    if not golden:
        return False
    if field_name == "name":
        ours = normalise_customer({"name": golden}).name_key
        return ours != source.name_key
    theirs = getattr(source, field_name)
    ours = getattr(normalise_customer({field_name: golden, "country": source.country}), field_name)
    return ours != theirs


def publish_customers(engine: SyncEngine, name: str) -> PublishResult:
    result = PublishResult()
    with session_scope(engine.database_url) as session:
        connection = _connection(session, name)
        fields = tuple(connection.settings.get("publish_fields", DEFAULT_FIELDS))
        connector = engine.connector(connection)
        pairs = session.execute(
            select(CustomerSource, GoldenCustomer)
            .join(GoldenCustomer, GoldenCustomer.id == CustomerSource.golden_id)
            .where(CustomerSource.system == name)
            .order_by(CustomerSource.id)
        ).all()
        try:
            for source, golden in pairs:
                changes = {f: getattr(golden, f) for f in fields if _differs(f, getattr(golden, f), source)}
                if not changes:
                    result.unchanged += 1
                    continue
                try:
                    connector.write("customers", changes, source.external_id)
                except ConnectorError as exc:
                    result.failed += 1
                    result.errors.append(f"{name} {source.external_id}: {exc}")
                    continue
                result.written += 1
        finally:
            connector.close()
    return result
