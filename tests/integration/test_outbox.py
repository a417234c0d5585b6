"""Enter once: an order entered in one system reaches the others through the outbox, exactly
once, with its customer created where it is missing, and failures kept and replayable."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from connectors.base import SourceRecord, WriteResult
from connectors.webhook import WebhookConnector
from connectors.webhook.settings import WebhookSettings
from hub.db import as_utc, session_scope, utcnow
from hub.documents.models import Order
from hub.outbox.dispatch import Dispatcher
from hub.outbox.models import OutboxDelivery
from hub.sync.connections import add_connection
from hub.sync.engine import Applier, SyncEngine
from hub.sync.models import Link
from tests.support.faults import register_kind
from tests.support.sink import Sink, webhook_sink

KEY = "outbox-test-key"


@pytest.fixture
def sinks(database_url: str) -> Iterator[dict[str, Sink]]:
    """The ERP and the CRM as web hook receivers, registered as connections ``erp`` and ``crm``."""
    with webhook_sink(prefix="SO") as erp, webhook_sink(prefix="CRM") as crm:
        with session_scope(database_url) as session:
            for name, sink in (("erp", erp), ("crm", crm)):
                add_connection(
                    session,
                    name=name,
                    kind="webhook",
                    settings={"url": sink.url},
                    secrets={"signing_secret": sink.secret},
                    secret_key=KEY,
                )
        yield {"erp": erp, "crm": crm}


@pytest.fixture
def dispatcher(database_url: str, mappings_dir: Path) -> Dispatcher:
    return Dispatcher(SyncEngine(database_url, mappings_dir, KEY))


def _enter_in_crm(
    url: str, mappings_dir: Path, number: str = "CRM-1", total: str = "100", customer: str = "A1"
) -> None:
    """What a CRM sync does: the customer, then the order, through the engine's Applier."""
    with session_scope(url) as session:
        apply = Applier(session, mappings_dir, "crm")
        fields: dict[str, Any] = {"name": "Müller Maschinenbau GmbH", "country": "DE", "email": "info@mueller.example"}
        apply.many("customer", [(SourceRecord(customer, fields), fields)])
        order = {
            "number": number,
            "reference": f"PO-{number}",
            "customer": customer,
            "status": "confirmed",
            "ordered_on": date(2026, 11, 2),
            "currency": "EUR",
            "total": Decimal(total),
            "lines": [{"id": f"{number}-1", "product": "P-100", "quantity": Decimal(2), "unit_price": Decimal("50")}],
        }
        [outcome] = apply.many("order", [(SourceRecord(number, order), order)])
        assert not isinstance(outcome, Exception), outcome


def _dispatch(dispatcher: Dispatcher) -> dict[str, Any]:
    dispatcher.route()
    return {target: dispatcher.deliver(target) for target in dispatcher.due_targets()}


def _deliveries(url: str) -> list[tuple[str, str, str]]:
    with session_scope(url) as session:
        return [
            tuple(r)
            for r in session.execute(  # type: ignore[misc]
                select(OutboxDelivery.target, OutboxDelivery.entity_type, OutboxDelivery.status).order_by(
                    OutboxDelivery.id
                )
            )
        ]


def test_an_order_entered_in_the_crm_reaches_the_erp_once_with_its_customer(
    database_url: str, mappings_dir: Path, sinks: dict[str, Sink], dispatcher: Dispatcher
) -> None:
    _enter_in_crm(database_url, mappings_dir)
    _dispatch(dispatcher)
    _dispatch(dispatcher)  # again: nothing is sent twice

    erp, crm = sinks["erp"], sinks["crm"]
    [customer] = erp.of("customers")  # created from the golden record, before the order
    assert customer["data"]["name"] == "Müller Maschinenbau GmbH" and customer["external_id"] is None
    [order] = erp.of("orders")
    assert order["external_id"] is None
    assert order["data"]["customer"] == "SO1"  # the ERP's own id of the customer, not the hub's
    assert order["data"]["lines"][0]["product"] == "P-100" and order["data"]["total"] == "100.0000"
    # the CRM hears back the ERP's number for the order it entered; it never gets its own order
    [told] = crm.of("orders")
    assert told["external_id"] == "CRM-1" and told["data"]["refs"]["erp"] == "SO2"
    assert erp.bad_signatures == crm.bad_signatures == 0
    with session_scope(database_url) as session:
        links = set(
            session.execute(select(Link.system, Link.entity_type, Link.external_id).where(Link.system == "erp"))
        )
    assert links == {("erp", "customer", "SO1"), ("erp", "order", "SO2")}


def test_changes_of_one_record_waiting_together_are_sent_as_one_write(
    database_url: str, mappings_dir: Path, sinks: dict[str, Sink], dispatcher: Dispatcher
) -> None:
    _enter_in_crm(database_url, mappings_dir, total="100")
    _enter_in_crm(database_url, mappings_dir, total="120")
    _enter_in_crm(database_url, mappings_dir, total="130")
    _dispatch(dispatcher)
    [order] = sinks["erp"].of("orders")
    assert order["data"]["total"] == "130.0000"  # the current record, once
    assert [s for t, e, s in _deliveries(database_url) if t == "erp" and e == "order"] == ["sent"] * 3


def test_a_target_that_is_down_is_retried_then_gets_the_record_once(
    database_url: str, mappings_dir: Path, sinks: dict[str, Sink], dispatcher: Dispatcher
) -> None:
    sinks["erp"].down = True
    _enter_in_crm(database_url, mappings_dir)
    [report] = _dispatch(dispatcher).values()
    assert report.sent == 0 and report.retrying == 1 and "HTTP 503" in report.errors[0]
    with session_scope(database_url) as session:
        delivery = session.scalars(select(OutboxDelivery)).one()
        assert delivery.status == "pending" and as_utc(delivery.next_attempt_at) > utcnow()  # backing off
        assert "503" in (delivery.last_error or "")
    assert _dispatch(dispatcher) == {}  # not due yet: nothing is attempted

    sinks["erp"].down = False
    with session_scope(database_url) as session:  # the backoff has passed
        session.execute(update(OutboxDelivery).values(next_attempt_at=utcnow()))
    _dispatch(dispatcher)
    assert len(sinks["erp"].of("orders")) == 1 and len(sinks["erp"].of("customers")) == 1


def test_a_refused_record_is_dead_at_once_and_goes_through_on_replay(
    database_url: str, mappings_dir: Path, sinks: dict[str, Sink], dispatcher: Dispatcher
) -> None:
    sinks["erp"].refuse = "product P-100 is blocked"
    _enter_in_crm(database_url, mappings_dir)
    _dispatch(dispatcher)
    with session_scope(database_url) as session:
        [delivery] = session.scalars(select(OutboxDelivery).where(OutboxDelivery.target == "erp"))
        assert delivery.status == "dead" and "product P-100 is blocked" in (delivery.last_error or "")

    sinks["erp"].refuse = None
    assert dispatcher.replay(target="erp") == 1
    _dispatch(dispatcher)
    assert len(sinks["erp"].of("orders")) == 1
    assert ("erp", "order", "sent") in _deliveries(database_url)


def test_a_target_that_stays_down_ends_dead_after_its_attempts(
    database_url: str, mappings_dir: Path, sinks: dict[str, Sink], dispatcher: Dispatcher
) -> None:
    (mappings_dir / "routes.yaml").write_text(
        "routes:\n  order:\n    entered_in: [crm]\n    send_to: [{connection: erp, stream: orders, max_attempts: 2}]\n"
    )
    sinks["erp"].down = True
    _enter_in_crm(database_url, mappings_dir)
    for _ in range(2):
        _dispatch(dispatcher)
        with session_scope(database_url) as session:
            session.execute(update(OutboxDelivery).values(next_attempt_at=utcnow()))
    with session_scope(database_url) as session:
        delivery = session.scalars(select(OutboxDelivery)).one()
    assert delivery.status == "dead" and delivery.attempts == 2
    assert "gave up after 2 attempts" in (delivery.last_error or "")


def test_a_change_from_a_system_that_may_not_send_goes_nowhere(
    database_url: str, mappings_dir: Path, sinks: dict[str, Sink], dispatcher: Dispatcher
) -> None:
    """Routes say orders are entered in the CRM or the hub: one read from the ERP is not sent."""
    with session_scope(database_url) as session:
        apply = Applier(session, mappings_dir, "erp")
        fields: dict[str, Any] = {"name": "Acme BV", "country": "NL"}
        apply.many("customer", [(SourceRecord("P1", fields), fields)])
        order = {"number": "SO9", "customer": "P1", "status": "confirmed", "lines": []}
        apply.many("order", [(SourceRecord("9", order), order)])
    assert dispatcher.route() == 1  # the order (customers are published, not routed)
    assert _deliveries(database_url) == []


def test_concurrent_writes_send_each_record_once(
    database_url: str, mappings_dir: Path, sinks: dict[str, Sink], dispatcher: Dispatcher
) -> None:
    """With `concurrency` a batch's writes overlap; each order still arrives exactly once."""
    from hub.sync.models import Connection

    with session_scope(database_url) as session:
        erp = session.scalars(select(Connection).where(Connection.name == "erp")).one()
        erp.settings = {**erp.settings, "concurrency": 4}
    for i in range(25):
        _enter_in_crm(database_url, mappings_dir, number=f"CRM-{i}")
    _dispatch(dispatcher)
    numbers = [r["data"]["number"] for r in sinks["erp"].of("orders")]
    assert sorted(numbers) == sorted(f"CRM-{i}" for i in range(25))
    assert len(sinks["erp"].of("customers")) == 1


def test_a_write_the_hub_cannot_link_sets_aside_that_delivery_only(
    database_url: str, mappings_dir: Path, sinks: dict[str, Sink], dispatcher: Dispatcher
) -> None:
    """A target that keys writes on the customer's PO number answers two orders with one
    record. The hub does not link the second to it (a UNIQUE conflict in ``links``): that
    delivery is dead with a reason naming both orders, the others of the batch are sent and
    linked, and a replay after the target is fixed goes through."""
    for number in ("CRM-1", "CRM-2", "CRM-3"):
        _enter_in_crm(database_url, mappings_dir, number=number)
    with session_scope(database_url) as session:
        first, second, third = session.scalars(select(Order.id).order_by(Order.id))
    erp = sinks["erp"]
    erp.ids |= {f"concord:order:{first}": "SO-PO-1", f"concord:order:{second}": "SO-PO-1"}  # one PO, one record

    report = _dispatch(dispatcher)["erp"]  # no IntegrityError escapes: the batch is settled
    assert (report.sent, report.dead, report.retrying) == (2, 1, 0), report
    with session_scope(database_url) as session:
        rows = {
            d.hub_id: d
            for d in session.scalars(
                select(OutboxDelivery).where(OutboxDelivery.target == "erp", OutboxDelivery.entity_type == "order")
            )
        }
        linked = dict(
            session.execute(
                select(Link.hub_id, Link.external_id).where(Link.system == "erp", Link.entity_type == "order")
            ).all()
        )
    assert (rows[first].status, rows[third].status) == ("sent", "sent")
    assert rows[second].status == "dead"
    error = rows[second].last_error or ""
    assert f"order {second}" in error and "SO-PO-1" in error and f"links to order {first}" in error, error
    assert linked == {first: "SO-PO-1", third: erp.ids[f"concord:order:{third}"]}
    assert "SO-PO-1" in report.errors[0]

    erp.ids[f"concord:order:{second}"] = "SO-PO-1-B"  # the target fixed: its own record per order
    assert dispatcher.replay(ids=[rows[second].id]) == 1
    assert _dispatch(dispatcher)["erp"].sent == 1
    with session_scope(database_url) as session:
        assert (
            session.scalar(
                select(Link.external_id).where(Link.system == "erp", Link.entity_type == "order", Link.hub_id == second)
            )
            == "SO-PO-1-B"
        )
        assert session.get(OutboxDelivery, rows[second].id).status == "sent"  # type: ignore[union-attr]


class BuggyWebhook(WebhookConnector):
    """A web hook connector with a bug on some records: ``write`` raises a KeyError (outside
    the connector contract) for the hub refs in the setting ``bug_on``."""

    kind = "webhook-buggy"

    class Settings(WebhookSettings):  # a connector's own setting, checked at add like the others
        bug_on: list[str] = []

    def write(self, stream: str, data: Mapping[str, Any], external_id: str | None) -> WriteResult:
        if data.get("hub_ref") in self.settings.get("bug_on", []):
            raise KeyError("lines")
        return super().write(stream, data, external_id)


def test_a_record_the_connector_fails_on_is_set_aside_and_the_batch_goes_on(
    database_url: str, mappings_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_kind(monkeypatch, "webhook-buggy", "tests.integration.test_outbox:BuggyWebhook")
    for number in ("CRM-1", "CRM-2", "CRM-3"):
        _enter_in_crm(database_url, mappings_dir, number=number)
    with session_scope(database_url) as session:
        _first, second, _third = session.scalars(select(Order.id).order_by(Order.id))
    with webhook_sink(prefix="SO") as erp:
        with session_scope(database_url) as session:
            add_connection(
                session,
                name="erp",
                kind="webhook-buggy",
                secret_key=KEY,
                settings={"url": erp.url, "bug_on": [f"concord:order:{second}"]},
                secrets={"signing_secret": erp.secret},
            )
        dispatcher = Dispatcher(SyncEngine(database_url, mappings_dir, KEY))
        report = _dispatch(dispatcher)["erp"]  # nothing escapes: the batch is settled
        assert (report.sent, report.retrying, report.dead) == (2, 1, 0), report
        assert sorted(r["data"]["number"] for r in erp.of("orders")) == ["CRM-1", "CRM-3"]
    with session_scope(database_url) as session:
        stuck = session.scalars(select(OutboxDelivery).where(OutboxDelivery.hub_id == second)).one()
    assert stuck.status == "pending" and "KeyError" in (stuck.last_error or "")  # with its reason
    assert as_utc(stuck.next_attempt_at) > utcnow()  # and its retry schedule (backoff)
