"""Faults between systems: a target down for a whole run of the outbox, and a source that
hands out the same page ten times.

Covered elsewhere and not repeated here (tests/integration/test_outbox.py): a target down
then up is retried with backoff and gets the record once; a target that stays down ends dead
after ``max_attempts``; a refused record is dead at once and goes through on replay. This file
tells the whole story of a target that is down: backoff growing, dead, replayed, exactly once.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from connectors.base import SourceRecord
from hub.db import as_utc, session_scope, utcnow
from hub.documents.models import Order
from hub.outbox.dispatch import Dispatcher
from hub.outbox.models import OutboxDelivery, OutboxEvent
from hub.sync.connections import add_connection
from hub.sync.engine import Applier, SyncEngine
from hub.sync.models import Link
from simulators.legacy_crm import serve
from tests.support.faults import register_kind
from tests.support.legacy_crm import KEY, add_crm_connection, crm_store
from tests.support.sink import webhook_sink


def _deliver_due(dispatcher: Dispatcher) -> None:
    dispatcher.route()
    for target in dispatcher.due_targets():
        dispatcher.deliver(target)


def _make_due(url: str) -> None:
    """What waiting out the backoff would do."""
    with session_scope(url) as session:
        session.execute(
            update(OutboxDelivery).where(OutboxDelivery.status == "pending").values(next_attempt_at=utcnow())
        )


def test_a_target_down_for_a_whole_run_is_retried_then_dead_then_replayed_exactly_once(
    database_url: str, mappings_dir: Path
) -> None:
    (mappings_dir / "routes.yaml").write_text(
        "routes:\n  order:\n    entered_in: [crm]\n    send_to: [{connection: erp, stream: orders, max_attempts: 3}]\n"
    )
    with webhook_sink(prefix="SO") as erp:
        with session_scope(database_url) as session:
            add_connection(
                session,
                name="erp",
                kind="webhook",
                settings={"url": erp.url},
                secrets={"signing_secret": erp.secret},
                secret_key=KEY,
            )
            apply = Applier(session, mappings_dir, "crm")
            customer = {"name": "Rossi Meccanica S.p.A.", "country": "IT", "email": "info@rossi.example"}
            apply.many("customer", [(SourceRecord("C1", customer), customer)])
            orders = [
                {
                    "number": f"CRM-{i}",
                    "customer": "C1",
                    "status": "confirmed",
                    "ordered_on": date(2026, 11, 3),
                    "currency": "EUR",
                    "total": Decimal(10 + i),
                    "lines": [],
                }
                for i in range(5)
            ]
            apply.many("order", [(SourceRecord(o["number"], o), o) for o in orders])
        dispatcher = Dispatcher(SyncEngine(database_url, mappings_dir, KEY))

        erp.down = True
        waits = []
        for attempt in (1, 2, 3):
            before = utcnow()
            _deliver_due(dispatcher)
            with session_scope(database_url) as session:
                rows = session.scalars(select(OutboxDelivery)).all()
                assert {d.attempts for d in rows} == {attempt}
                if attempt < 3:
                    assert {d.status for d in rows} == {"pending"}
                    waits.append(min(as_utc(d.next_attempt_at) for d in rows) - before)  # type: ignore[operator]
                else:
                    assert {d.status for d in rows} == {"dead"}
                    assert all(
                        "gave up after 3 attempts" in (d.last_error or "") and "503" in (d.last_error or "")
                        for d in rows
                    )
            _deliver_due(dispatcher)  # before the backoff has passed: nothing is attempted
            _make_due(database_url)
        assert timedelta(seconds=4) < waits[0] < timedelta(seconds=6)  # 5 s, then doubled
        assert timedelta(seconds=9) < waits[1] < timedelta(seconds=11)
        assert erp.received == []  # all refused by a system that was down, none half-taken

        erp.down = False
        _deliver_due(dispatcher)
        assert erp.received == []  # dead stays dead until someone replays it
        assert dispatcher.replay(target="erp") == 5  # the 5 orders (their customer goes with the first)
        _deliver_due(dispatcher)
        _deliver_due(dispatcher)  # and again: nothing goes twice
        assert sorted(r["data"]["number"] for r in erp.of("orders")) == [f"CRM-{i}" for i in range(5)]
        assert len(erp.of("customers")) == 1 and erp.bad_signatures == 0
    with session_scope(database_url) as session:
        assert {d.status for d in session.scalars(select(OutboxDelivery))} == {"sent"}


@pytest.fixture
def repeating_crm(monkeypatch: pytest.MonkeyPatch, database_url: str, mappings_dir: Path) -> Any:
    register_kind(monkeypatch, "soap-repeating", "tests.support.faults:RepeatingSoap")
    with serve(crm_store(accounts=6, orders=3)) as crm:
        add_crm_connection(database_url, "crm", "sugar", crm, mappings_dir, page_size=4)
        with session_scope(database_url) as session:  # the same CRM, through the repeating connector
            from hub.sync.models import Connection

            session.scalars(select(Connection).where(Connection.name == "crm")).one().kind = "soap-repeating"
        yield crm


def test_the_same_source_page_ten_times_makes_one_record_and_no_echo(
    database_url: str, mappings_dir: Path, repeating_crm: Any
) -> None:
    engine = SyncEngine(database_url, mappings_dir, KEY)
    with webhook_sink(prefix="SO") as erp:
        with session_scope(database_url) as session:
            add_connection(
                session,
                name="erp",
                kind="webhook",
                settings={"url": erp.url},
                secrets={"signing_secret": erp.secret},
                secret_key=KEY,
            )
        results = {r.stream: r for r in engine.sync("crm", ["customers", "orders"])}
        # a page served twice is unstable paging: the run says so (and keeps its cursor) …
        assert results["customers"].status == "failed" and "read twice in one run" in (results["customers"].error or "")
        # … and what it read still went in once per record
        assert (results["customers"].read, results["customers"].created, results["customers"].unchanged) == (60, 6, 54)
        assert (results["orders"].read, results["orders"].created, results["orders"].unchanged) == (30, 3, 27)

        def events() -> int:
            with session_scope(database_url) as session:
                return (
                    session.scalar(
                        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.entity_type == "order")
                    )
                    or 0
                )

        assert events() == 3  # one per order, not one per delivery of its page
        dispatcher = Dispatcher(engine)
        _deliver_due(dispatcher)  # to the ERP …
        _deliver_due(dispatcher)  # … and its numbers back to the CRM
        assert sorted(r["data"]["number"] for r in erp.of("orders")) == [f"CRM-SO-{1000 + i}" for i in range(3)]
        told = [r for r in repeating_crm.store.select("orders") if r.get("erp_number")]
        assert len(told) == 3  # the CRM learnt the ERP's numbers (report_back), once each

        # The CRM's orders changed (erp_number); the next sync reads them, ten times again.
        calls = len(repeating_crm.store.calls)
        [again] = engine.sync("crm", ["orders"])
        assert (again.created, again.updated, again.failed) == (0, 0, 0)
        assert events() == 3  # reading back what the hub wrote raises nothing: no echo
        _deliver_due(dispatcher)
        assert len(erp.of("orders")) == 3
        assert "set_entry" not in repeating_crm.store.calls[calls:]  # nothing sent back to the CRM
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 3
        assert (
            session.scalar(
                select(func.count()).select_from(Link).where(Link.system == "crm", Link.entity_type == "order")
            )
            == 3
        )
