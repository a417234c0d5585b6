"""Syncing from a real Tryton 8.2 server: customers into the master, documents, increments,
and an outage in the middle of a run."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hub.db import session_scope
from hub.documents.models import Invoice, Order, OrderLine, Payment, Shipment, ShipmentLine
from hub.master import search
from hub.master.models import GoldenCustomer
from hub.sync.connections import add_connection
from hub.sync.engine import SyncEngine
from hub.sync.models import Connection, DeadLetter, Link, SyncCursor, SyncRun
from tests.support import tryton

pytestmark = [
    pytest.mark.skipif(not tryton.trytond_available(), reason=tryton.SKIP_REASON),
    pytest.mark.timeout(600),
]

KEY = "test-secret-key"


@pytest.fixture
def server(tryton_server: tryton.TrytonServer) -> tryton.TrytonServer:
    return tryton_server.start()  # the run's one Tryton (tests/conftest.py); erp resets it per test


@pytest.fixture
def erp(server, database_url, mappings_dir) -> SyncEngine:
    if not server.running:
        server.start()
    server.reset_database()
    with session_scope(database_url) as session:
        add_connection(
            session,
            name="erp",
            kind="tryton",
            secret_key=KEY,
            settings={"url": server.url, "database": server.database, "login": server.login, "page_size": 2},
            secrets={"password": server.password},
        )
    return SyncEngine(database_url, mappings_dir, KEY)


def _counts(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        return {
            m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
            for m in (GoldenCustomer, Link, Order, OrderLine, Shipment, ShipmentLine, Invoice, Payment)
        }


def test_a_full_sync_brings_everything_in_and_a_second_changes_nothing(erp, server, database_url):
    results = {r.stream: r for r in erp.sync("erp")}
    assert all(r.status == "done" for r in results.values()), results
    seed = server.seed
    assert results["customers"].created == len(seed["customers"])  # the company's own party is not one
    assert results["customers"].failed == 0

    with session_scope(database_url) as session:
        mueller = seed["customers"]["mueller"]
        golden = search.by_external_id(session, "erp", str(mueller["id"]))
        assert golden is not None and golden.tax_id == "DE136695976"

        partial = seed["sales"]["partial"]
        order = session.scalar(select(Order).where(Order.number == partial["number"]))
        assert order.customer_id == golden.id
        assert order.status == "processing" and order.total == Decimal(partial["total_amount"])
        ordered = {
            l.product: l.quantity for l in session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
        }
        shipped: dict[str, Decimal] = {}
        for shipment in session.scalars(select(Shipment).where(Shipment.order_id == order.id)):
            if shipment.status == "shipped":
                for line in session.scalars(select(ShipmentLine).where(ShipmentLine.shipment_id == shipment.id)):
                    shipped[line.product] = shipped.get(line.product, Decimal(0)) + line.quantity
        assert {k: float(v) for k, v in shipped.items()} == partial["delivered"]
        assert sum(ordered.values()) > sum(shipped.values())  # a backorder is still open

        invoice = session.scalar(select(Invoice).where(Invoice.number == partial["invoice"]["number"]))
        assert invoice.status == "open" and invoice.order_id == order.id
        assert invoice.amount_due == Decimal(partial["invoice"]["amount_to_pay"])
        assert [d["date"] for d in invoice.due_dates] == partial["invoice"]["maturity_dates"]

        paid = seed["sales"]["paid"]
        paid_invoice = session.scalar(select(Invoice).where(Invoice.number == paid["invoice"]["number"]))
        assert paid_invoice.status == "paid"
        payment = session.scalar(select(Payment).where(Payment.invoice_id == paid_invoice.id))
        assert payment.amount == Decimal(paid["payment"]["amount"])

    before = _counts(database_url)
    again = {r.stream: r for r in erp.sync("erp")}
    assert all(r.created == 0 and r.updated == 0 and r.failed == 0 for r in again.values()), again
    assert _counts(database_url) == before


def test_a_change_in_tryton_arrives_with_the_next_incremental_sync(erp, server, database_url):
    erp.sync("erp")
    sale_id = server.seed["sales"]["draft"]["id"]
    with server.client() as client:
        client.write("sale.sale", [sale_id], {"reference": "PO-CHANGED-1"})
    results = {r.stream: r for r in erp.sync("erp")}
    assert results["orders"].updated == 1 and results["orders"].created == 0
    assert results["customers"].updated == 0
    with session_scope(database_url) as session:
        link = session.scalar(
            select(Link).where(Link.system == "erp", Link.entity_type == "order", Link.external_id == str(sale_id))
        )
        assert session.get(Order, link.hub_id).reference == "PO-CHANGED-1"


def test_tryton_down_mid_sync_fails_the_run_and_the_next_run_loses_nothing(erp, server, database_url):
    pages = []

    def stop_after_first_page(stream: str, count: int) -> None:
        pages.append(stream)
        if stream == "customers" and len(pages) == 1:
            server.stop()

    results = {r.stream: r for r in erp.sync("erp", ["customers"], progress=stop_after_first_page)}
    assert results["customers"].status == "failed"
    assert "unreachable" in results["customers"].error
    with session_scope(database_url) as session:
        cursor = session.scalar(select(SyncCursor).where(SyncCursor.stream == "customers"))
        assert cursor.value is None  # unordered stream: the cursor moves only after a whole run
        assert cursor.locked_by is None  # the lease is released
        run = session.scalar(select(SyncRun).where(SyncRun.stream == "customers"))
        assert run.status == "failed" and run.read == 2

    server.start()
    results = {r.stream: r for r in erp.sync("erp")}
    assert all(r.status == "done" for r in results.values()), results
    assert results["customers"].created == len(server.seed["customers"]) - 2
    assert results["customers"].unchanged == 2  # the two committed before the outage
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count()).select_from(DeadLetter)) == 0
        parties = session.scalar(select(func.count()).select_from(Link).where(Link.entity_type == "customer"))
        assert parties == len(server.seed["customers"])


def test_a_record_that_does_not_map_is_a_dead_letter_and_replays_once(erp, server, database_url, mappings_dir):
    mapping = mappings_dir / "connectors" / "tryton.yaml"
    original = mapping.read_text()
    mapping.write_text(original.replace(" processing: processing,", ""))  # an unknown state now
    results = {r.stream: r for r in erp.sync("erp", ["customers", "orders"])}
    assert results["orders"].failed == 1 and results["orders"].status == "done"
    with session_scope(database_url) as session:
        [letter] = session.scalars(select(DeadLetter)).all()
        assert letter.stream == "orders" and letter.external_id == str(server.seed["sales"]["partial"]["id"])
        assert "'processing' is not in code list 'sale_state'" in letter.error
        assert letter.payload["data"]["number"] == server.seed["sales"]["partial"]["number"]

    assert erp.replay() == (0, 1)  # nothing fixed yet: still failing, kept
    mapping.write_text(original)
    assert erp.replay() == (1, 0)
    assert erp.replay() == (0, 0)
    with session_scope(database_url) as session:
        orders = session.scalars(select(Order).where(Order.number == server.seed["sales"]["partial"]["number"])).all()
        assert len(orders) == 1 and orders[0].status == "processing"
        assert session.scalar(select(DeadLetter)).status == "replayed"


def test_one_run_at_a_time_and_a_circuit_breaker_for_a_dead_system(erp, server, database_url):
    from hub.sync.leases import CircuitOpen, SyncBusy, take_lease

    with session_scope(database_url) as session:
        connection_id = session.scalar(select(Connection.id).where(Connection.name == "erp"))
        take_lease(session, connection_id, "customers", "another-worker")
    with pytest.raises(SyncBusy):
        erp.sync("erp", ["customers"])

    server.stop()
    for _ in range(3):
        [result] = erp.sync("erp", ["orders"])
        assert result.status == "failed"
    with pytest.raises(CircuitOpen, match="failed 3 times in a row"):
        erp.sync("erp", ["orders"])
    server.start()


def test_an_open_circuit_closes_by_reset_or_a_successful_test(erp, server, settings, token_for):
    """Once the system is back, IT need not wait out the breaker's pause: a connection test
    that succeeds closes it, and `hub connections reset` / POST …/reset do so outright."""
    from fastapi.testclient import TestClient

    from hub.api.app import create_app
    from hub.auth.models import Role
    from hub.sync.leases import CircuitOpen

    client = TestClient(create_app(settings.model_copy(update={"secret_key": KEY})))
    server.stop()
    try:
        for _ in range(3):
            assert erp.sync("erp", ["orders"])[0].status == "failed"
    finally:
        server.start()
    with pytest.raises(CircuitOpen):
        erp.sync("erp", ["orders"])
    it = token_for(Role.it)
    tested = client.post("/api/v1/connections/erp/test", headers=it)
    assert tested.status_code == 200 and tested.json()["ok"] is True
    assert erp.sync("erp", ["orders"])[0].status == "done"

    server.stop()
    try:
        for _ in range(3):
            erp.sync("erp", ["orders"])
    finally:
        server.start()
    with pytest.raises(CircuitOpen):
        erp.sync("erp", ["orders"])
    reset = client.post("/api/v1/connections/erp/reset", headers=it)
    assert reset.status_code == 200 and reset.json()["was_open"] is True
    assert erp.sync("erp", ["orders"])[0].status == "done"
    assert client.post("/api/v1/connections/nope/reset", headers=it).status_code == 404


def test_the_cli_adds_tests_and_syncs_a_connection(server, database_url, mappings_dir, tmp_path):
    import json
    import os

    from tests.integration.test_cli import hub

    if not server.running:
        server.start()
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_MAPPINGS_DIR": str(mappings_dir), "HUB_SECRET_KEY": KEY}
    hub(
        env,
        "connections",
        "add",
        "erp",
        "--kind",
        "tryton",
        "-s",
        f"url={server.url}",
        "-s",
        f"database={server.database}",
        "-s",
        f"login={server.login}",
        "--secret",
        f"password={server.password}",
        "--interval",
        "600",
    )
    assert "erp: OK" in hub(env, "connections", "test", "erp").stdout
    first = hub(env, "sync", "erp", "--stream", "customers").stdout
    assert "customers: done" in first and "failed 0" in first
    again = hub(env, "sync", "erp", "--stream", "customers").stdout
    assert "created 0, updated 0" in again
    [listed] = json.loads(hub(env, "connections", "list", "--json").stdout)
    assert listed["cursors"]["customers"] and listed["has_secrets"] and "password" not in json.dumps(listed)
    with session_scope(database_url) as session:
        stored = session.scalar(select(Connection.secrets_encrypted))
        assert server.password not in stored
    wrong = {**env, "HUB_SECRET_KEY": "another-key"}
    refused = hub(wrong, "connections", "test", "erp", check=False)
    assert refused.returncode != 0 and "HUB_SECRET_KEY" in (refused.stderr + refused.stdout)


@pytest.mark.postgres
def test_scheduled_syncs_run_per_stream_on_a_real_worker(server, postgres_url, mappings_dir):
    from celery import Celery

    from tests.integration.test_worker import worker_env
    from tests.support.workers import celery_worker, wait_for

    if not server.running:
        server.start()
    server.reset_database()
    env = worker_env(postgres_url, mappings_dir)
    with session_scope(postgres_url) as session:
        add_connection(
            session,
            name="erp",
            kind="tryton",
            secret_key=env["HUB_SECRET_KEY"],
            interval_seconds=60,
            settings={"url": server.url, "database": server.database, "login": server.login},
            secrets={"password": server.password},
        )
    with celery_worker(env) as worker:
        Celery(broker=env["HUB_BROKER_URL"]).send_task("hub.schedule_syncs", queue=env["HUB_TASK_QUEUE"])

        def all_streams_done() -> bool:
            with session_scope(postgres_url) as session:
                done = session.scalars(select(SyncRun.stream).where(SyncRun.status == "done")).all()
            return set(done) == {"customers", "orders", "shipments", "invoices", "payments"}

        wait_for(all_streams_done, worker, seconds=120)
    with session_scope(postgres_url) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == len(server.seed["sales"])
        assert session.scalar(select(func.count()).select_from(DeadLetter)) == 0


def test_golden_values_are_published_back_to_the_party_once(erp, server, database_url, mappings_dir, tmp_path):
    from hub.sync.imports import import_customers
    from hub.sync.publish import publish_customers
    from tests.integration.customer_files import write_crm

    erp.sync("erp", ["customers"])
    mueller = server.seed["customers"]["mueller"]
    # The CRM knows a newer e-mail for the same company (same tax id): survivorship takes it.
    write_crm(
        tmp_path,
        [
            (
                "A900",
                "Müller Maschinenbau",
                mueller["tax_identifier"],
                "buchhaltung@mueller-maschinenbau.example",
                "",
                "Berlin",
                "DE",
            )
        ],
    )
    import_customers(database_url, mappings_dir, "crm", tmp_path / "crm_accounts.csv")
    with session_scope(database_url) as session:
        golden = search.by_external_id(session, "erp", str(mueller["id"]))
        assert golden.email == "buchhaltung@mueller-maschinenbau.example"
        assert search.by_external_id(session, "crm", "A900").id == golden.id

    first = publish_customers(erp, "erp")
    assert (first.written, first.failed) == (1, 0)
    with server.client() as client:
        [party] = client.read("party.party", [mueller["id"]], ["contact_mechanisms"])
        values = {m["value"] for m in client.read("party.contact_mechanism", party["contact_mechanisms"], ["value"])}
    assert "buchhaltung@mueller-maschinenbau.example" in values

    # Read back: the party changed, the golden record does not, and nothing is written again.
    [result] = erp.sync("erp", ["customers"])
    assert result.updated == 1
    with session_scope(database_url) as session:
        assert (
            search.by_external_id(session, "erp", str(mueller["id"])).email
            == "buchhaltung@mueller-maschinenbau.example"
        )
    again = publish_customers(erp, "erp")
    assert again.written == 0 and again.unchanged == first.written + first.unchanged


def _mueller_phone_mechanism(server) -> tuple[int, str]:
    mueller = server.seed["customers"]["mueller"]
    with server.client() as client:
        [party] = client.read("party.party", [mueller["id"]], ["contact_mechanisms"])
        [phone] = [
            m
            for m in client.read("party.contact_mechanism", party["contact_mechanisms"], ["type", "value"])
            if m["type"] == "phone"
        ]
    return phone["id"], phone["value"]


def test_a_phone_edited_in_tryton_arrives_with_the_next_incremental_sync(erp, server, database_url):
    """Tryton keeps a party's write date when only a contact mechanism or an address changes:
    the incremental read follows the party's parts too (issue 12)."""
    erp.sync("erp", ["customers"])
    mechanism, _old = _mueller_phone_mechanism(server)
    with server.client() as client:
        client.write("party.contact_mechanism", [mechanism], {"value": "+49 30 7777777"})
        mueller = server.seed["customers"]["mueller"]
        [party] = client.read("party.party", [mueller["id"]], ["addresses"])
        client.write("party.address", party["addresses"][:1], {"street": "Neue Straße 1"})
    [result] = erp.sync("erp", ["customers"])
    assert result.updated == 1
    with session_scope(database_url) as session:
        golden = search.by_external_id(session, "erp", str(mueller["id"]))
        assert golden.phone == "+49307777777" and golden.street == "Neue Straße 1"


def test_publish_keeps_the_systems_newer_edit_and_writes_one_party_per_customer(
    erp, server, database_url, mappings_dir, tmp_path
):
    """Issue 12: publish reverted a phone changed in Tryton minutes before, wrote one golden
    name onto every party of that customer, and counted writes that changed nothing."""
    import time

    from hub.sync.imports import import_customers
    from hub.sync.publish import publish_customers
    from tests.integration.customer_files import write_crm

    mueller = server.seed["customers"]["mueller"]
    _mechanism, old_phone = _mueller_phone_mechanism(server)
    with server.client() as client:  # the same company entered twice in Tryton
        [dup] = client.create(
            "party.party",
            [
                {
                    "name": "Müller Maschinenbau Werk Zwei",
                    "contact_mechanisms": [
                        [
                            "create",
                            [{"type": "email", "value": mueller["email"]}, {"type": "phone", "value": old_phone}],
                        ]
                    ],
                }
            ],
        )
    erp.sync("erp", ["customers"])
    write_crm(tmp_path, [("A900", "Müller Maschinenbau", "", "", old_phone, "Stuttgart", "DE")])
    import_customers(database_url, mappings_dir, "crm", tmp_path / "crm_accounts.csv")
    time.sleep(0.5)
    mechanism, _ = _mueller_phone_mechanism(server)
    with server.client() as client:  # Tryton's own newer edit
        client.write("party.contact_mechanism", [mechanism], {"value": "+49 30 7777777"})
    erp.sync("erp", ["customers"])
    with session_scope(database_url) as session:
        golden = search.by_external_id(session, "erp", str(mueller["id"]))
        assert search.by_external_id(session, "erp", str(dup)).id == golden.id
        assert golden.phone != "+49307777777"  # two sources still say the old number

    first = publish_customers(erp, "erp")
    assert first.written == 0 and first.failed == 0
    assert [c for c in first.conflicts if " phone:" in c], first.conflicts
    assert first.duplicates == {golden.id: [str(dup)]}
    with server.client() as client:
        assert _mueller_phone_mechanism(server)[1] == "+49 30 7777777"  # not reverted
        [party] = client.read("party.party", [dup], ["name"])
        assert party["name"] == "Müller Maschinenbau Werk Zwei"  # its own legal name kept
    again = publish_customers(erp, "erp")
    assert again.written == 0


def test_the_companys_own_party_is_not_a_customer(erp, server, database_url):
    erp.sync("erp", ["customers"])
    company_party = str(server.seed["company"]["party_id"])
    with session_scope(database_url) as session:
        assert search.by_external_id(session, "erp", company_party) is None
        linked = session.scalar(
            select(func.count()).select_from(Link).where(Link.system == "erp", Link.entity_type == "customer")
        )
    assert linked == len(server.seed["customers"])
