"""The SOAP connector against a real SOAP service (the legacy CRM simulator on a loopback
port, both its shapes), through the real sync engine: paging, increments, writes, faults, and
answers that are broken or hostile (malformed, XXE, entity bomb)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.errors import RecordError
from hub.db import session_scope
from hub.documents.models import Opportunity, Order, OrderLine, ServiceCase
from hub.master import search
from hub.master.models import CustomerSource, GoldenCustomer
from hub.sync.engine import SyncEngine
from hub.sync.models import Connection, DeadLetter, SyncCursor, SyncRun
from simulators.legacy_crm import RunningCrm
from tests.support.legacy_crm import KEY, add_crm_connection, crm_store, serve

SHAPES = ["sugar", "nav"]
LIST_OPERATION = {"sugar": "get_entry_list", "nav": "ReadMultiple"}


@pytest.fixture(params=SHAPES)
def shape(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def crm() -> Iterator[RunningCrm]:
    with serve(crm_store(accounts=10, orders=4)) as running:
        yield running


@pytest.fixture
def hub(crm: RunningCrm, shape: str, database_url: str, mappings_dir: Path) -> SyncEngine:
    add_crm_connection(database_url, "crm", shape, crm, mappings_dir, page_size=4, attempts=2)
    return SyncEngine(database_url, mappings_dir, KEY)


def _connector(hub: SyncEngine):
    with session_scope(hub.database_url) as session:
        return hub.connector(session.scalar(select(Connection).where(Connection.name == "crm")))


def _cursor(url: str, stream: str) -> str | None:
    with session_scope(url) as session:
        return session.scalar(select(SyncCursor.value).where(SyncCursor.stream == stream))


def _count(url: str, model: type) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_both_shapes_sync_customers_and_orders_in_pages_by_yaml_alone(hub, crm, shape, database_url):
    results = {r.stream: r for r in hub.sync("crm", ["customers", "orders"])}
    assert [r.status for r in results.values()] == ["done", "done"], results
    assert (results["customers"].created, results["customers"].failed) == (10, 0)
    assert (results["orders"].created, results["orders"].failed) == (4, 0)
    # page size 4: 10 accounts in 3 pages; Sugar knows the total, NAV stops at a short page
    # (so 4 orders take NAV a second, empty page)
    assert crm.store.calls.count(LIST_OPERATION[shape]) == {"sugar": 3 + 1, "nav": 3 + 2}[shape]

    with session_scope(database_url) as session:
        golden = search.by_external_id(session, "crm", "C00001")
        assert golden is not None and golden.name == "株式会社山田製作所"
        order = session.scalar(select(Order).where(Order.customer_id == golden.id))
        assert order.status == "processing" and order.total == Decimal("2589.00")
        lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).all()
        assert sorted((l.product, l.quantity) for l in lines) == [("P-100", 2), ("P-200", 1)]

    again = hub.sync("crm", ["customers", "orders"])
    assert all(r.status == "done" and r.created == r.updated == r.failed == 0 for r in again), again


def test_an_incremental_sync_picks_up_the_one_record_changed_in_the_crm(hub, crm, database_url):
    hub.sync("crm", ["customers"])
    cursor = _cursor(database_url, "customers")
    crm.store.save("accounts", {"id": "C00003", "phone_office": "+49 30 999 0000"})
    [result] = hub.sync("crm", ["customers"])
    assert (result.status, result.updated, result.created, result.failed) == ("done", 1, 0, 0)
    # Records are 10 minutes apart: within the 5-minute overlap only the newest seeded one is
    # read again (unchanged), besides the changed one.
    assert result.read == 2 and result.unchanged == 1
    assert _cursor(database_url, "customers") > cursor
    with session_scope(database_url) as session:
        source = session.scalar(select(CustomerSource).where(CustomerSource.external_id == "C00003"))
        assert source.phone == "+49309990000"


def test_writing_a_customer_creates_then_updates_it_in_the_crm(hub, crm, shape):
    connector = _connector(hub)
    created = connector.write("customers", {"name": "Neue Kunde GmbH", "email": "info@neue.example"}, None)
    assert created.created
    row = crm.store.get("accounts", created.external_id)
    assert (row["name"], row["email1"]) == ("Neue Kunde GmbH", "info@neue.example")

    updated = connector.write("customers", {"phone": "+49 30 1234567"}, created.external_id)
    assert (updated.external_id, updated.created) == (created.external_id, False)
    row = crm.store.get("accounts", created.external_id)
    assert (row["name"], row["phone_office"]) == ("Neue Kunde GmbH", "+49 30 1234567")
    writes = {"sugar": ["set_entry", "set_entry"], "nav": ["Create", "Read", "Update"]}[shape]
    assert [c for c in crm.store.calls if c not in ("login",)][-len(writes) :] == writes
    connector.close()


def test_a_fault_on_write_is_a_record_error_with_the_fault_text(hub, crm, shape):
    connector = _connector(hub)
    with pytest.raises(RecordError, match="field 'name' is required"):
        connector.write("customers", {"name": "", "email": "x@y.example"}, None)
    with pytest.raises(RecordError, match="does not exist|C99999"):
        connector.write("customers", {"name": "Ghost"}, "C99999")
    with pytest.raises(RecordError, match="cannot write credit_limit"):
        connector.write("customers", {"name": "X", "credit_limit": 5}, None)
    assert len(crm.store.tables["accounts"]) == 10  # nothing was created
    connector.close()


@pytest.mark.parametrize(
    "kind, refused",
    [
        ("malformed", "not well-formed"),
        ("truncated", "not well-formed"),
        ("xxe", "carries a DOCTYPE"),
        ("bomb", "entity amplification|carries a DOCTYPE"),  # libxml2 stops it first, zeep otherwise
    ],
)
def test_a_broken_or_hostile_answer_fails_the_run_and_moves_no_cursor(
    hub, crm, shape, database_url, kind, refused, tmp_path
):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7d1c")
    hub.sync("crm", ["customers", "orders"])
    cursor = _cursor(database_url, "customers")
    crm.store.save("accounts", {"id": "C00005", "name": "大阪精工株式会社 本社"})
    crm.store.misbehave(kind, operation=LIST_OPERATION[shape], xxe_file=str(secret))

    results = {r.stream: r for r in hub.sync("crm", ["customers", "orders"])}
    failed = results["customers"]
    assert failed.status == "failed"
    assert f"{shape} {LIST_OPERATION[shape]}" in failed.error  # names the service and operation
    assert any(word in failed.error for word in refused.split("|")), failed.error
    assert results["orders"].status == "done"  # the next stream ran: nothing else stopped
    assert _cursor(database_url, "customers") == cursor
    assert crm.store.probe_hits == 0  # no external entity was fetched …
    with session_scope(database_url) as session:  # … and the file's content is nowhere
        runs = session.scalars(select(SyncRun.error)).all()
        letters = [json.dumps(d.payload) + d.error for d in session.scalars(select(DeadLetter))]
        names = session.scalars(select(CustomerSource.name)).all()
    assert "TOP-SECRET" not in json.dumps([runs, letters, names])

    [again] = hub.sync("crm", ["customers"])
    assert (again.status, again.updated, again.failed) == ("done", 1, 0)
    assert _cursor(database_url, "customers") > cursor


def test_a_fault_on_one_page_keeps_the_pages_before_and_the_next_run_completes(hub, crm, shape, database_url):
    crm.store.misbehave("fault", operation=LIST_OPERATION[shape], on_call=2)
    [result] = hub.sync("crm", ["customers"])
    assert result.status == "failed" and "deadlock found on page read" in result.error
    assert result.read == 4 and result.created == 4  # the first page is in the hub
    assert _cursor(database_url, "customers") is None  # unordered stream: moves after a whole run
    [again] = hub.sync("crm", ["customers"])
    assert (again.status, again.created, again.unchanged) == ("done", 6, 4)


def test_a_503_without_a_fault_is_retried_and_the_run_completes(hub, crm, shape):
    crm.store.misbehave("unavailable", operation=LIST_OPERATION[shape], on_call=2)
    [result] = hub.sync("crm", ["customers"])
    assert (result.status, result.created) == ("done", 10)


def test_wrong_credentials_fail_the_run_with_an_auth_error(hub, crm, shape, database_url):
    crm.store.users = {"hub-sync": "another-password"}
    [result] = hub.sync("crm", ["customers"])
    assert result.status == "failed" and "AuthError" in result.error
    assert "s3cret-crm-pw" not in result.error and "another-password" not in result.error


def test_an_expired_session_is_renewed_once_without_failing_the_run(crm, database_url, mappings_dir):
    add_crm_connection(database_url, "crm", "sugar", crm, mappings_dir, page_size=4)
    hub = SyncEngine(database_url, mappings_dir, KEY)
    [result] = hub.sync("crm", ["customers"], progress=lambda *_: crm.store.sessions.clear())
    assert (result.status, result.created) == ("done", 10)
    assert crm.store.calls.count("login") == 3  # the first, and once after each expiry


def test_opportunities_and_cases_map_to_hub_codes_and_land_in_the_hub(shape, database_url, mappings_dir):
    from simulators.legacy_crm import demo_store
    from tests.support.legacy_crm import PASSWORD, USER

    store = demo_store()
    store.users = {USER: PASSWORD}
    with serve(store) as demo:
        add_crm_connection(database_url, "crm", shape, demo, mappings_dir, page_size=50)
        hub = SyncEngine(database_url, mappings_dir, KEY)
        results = {r.stream: r for r in hub.sync("crm")}
    assert all(r.status == "done" and r.failed == 0 for r in results.values()), results
    assert (results["opportunities"].created, results["cases"].created) == (30, 10)
    with session_scope(database_url) as session:
        stages = dict(session.execute(select(Opportunity.stage, func.count()).group_by(Opportunity.stage)).all())
        assert set(stages) == {"prospecting", "qualification", "proposal", "negotiation", "won", "lost"}
        lost = session.scalar(select(Opportunity).where(Opportunity.stage == "lost"))
        assert lost.loss_reason == "price" and lost.customer_id is not None and lost.owner
        case = session.scalar(select(ServiceCase).where(ServiceCase.number == "2012"))
        assert (case.status, case.priority, case.closed_on) == ("pending", "urgent", None)
        assert case.subject == "Pump leaking at 大阪市" and case.customer_id is not None
        assert session.scalar(select(func.count()).select_from(ServiceCase).where(ServiceCase.status == "closed")) > 0


@pytest.mark.timeout(600)
def test_crm_accounts_join_the_erp_parties_of_the_same_companies(tryton_server, shape, database_url, mappings_dir):
    from hub.sync.connections import add_connection
    from simulators.legacy_crm import CrmStore
    from tests.support.legacy_crm import PASSWORD, USER, tryton_companies

    tryton_server.reset_database()
    with session_scope(database_url) as session:
        add_connection(
            session,
            name="erp",
            kind="tryton",
            secret_key=KEY,
            settings={"url": tryton_server.url, "database": tryton_server.database, "login": tryton_server.login},
            secrets={"password": tryton_server.password},
        )
    store = CrmStore(users={USER: PASSWORD})
    store.seed(accounts=tryton_companies())
    with serve(store) as crm:
        add_crm_connection(database_url, "crm", shape, crm, mappings_dir)
        hub = SyncEngine(database_url, mappings_dir, KEY)
        assert hub.sync("erp", ["customers"])[0].status == "done"
        [result] = hub.sync("crm", ["customers"])
    assert (result.status, result.created, result.failed) == ("done", 5, 0)
    with session_scope(database_url) as session:
        for key, party in tryton_server.seed["customers"].items():
            erp = search.by_external_id(session, "erp", str(party["id"]))
            crm_golden = search.by_external_id(session, "crm", f"CRM-{key}")
            assert erp is not None and crm_golden is not None and erp.id == crm_golden.id, key
        assert (
            session.scalar(select(func.count()).select_from(GoldenCustomer)) == 5
        )  # the company's own party is no customer


def test_a_records_path_that_finds_nothing_fails_the_run_naming_the_path(crm, shape, database_url, mappings_dir):
    service = mappings_dir / "soap" / f"{shape}.yaml"
    # Sugar: the document/literal path on an rpc/encoded answer (an encoded array has no `item`)
    wrong = {
        "sugar": ("records: entry_list\n", "records: entry_list.item\n", "item"),
        "nav": ('records: ""', "records: Customer", "Customer"),
    }[shape]
    service.write_text(service.read_text().replace(wrong[0], wrong[1]))
    add_crm_connection(database_url, "crm", shape, crm, mappings_dir, page_size=4)
    [result] = SyncEngine(database_url, mappings_dir, KEY).sync("crm", ["customers"])
    assert (result.status, result.read, result.created) == ("failed", 0, 0)  # never "done, read 0"
    assert f"records: path {wrong[1].split(': ')[1].strip()!r} finds nothing" in result.error, result.error
    assert f"{wrong[2]!r} is not there" in result.error


def test_the_connection_check_names_an_operation_the_wsdl_does_not_have(hub, crm, shape, mappings_dir):
    service = mappings_dir / "soap" / f"{shape}.yaml"
    operation = LIST_OPERATION[shape]
    service.write_text(service.read_text().replace(f"operation: {operation}", f"operation: {operation}s", 1))
    health = _connector(hub).check()
    assert not health.ok
    assert f"the WSDL has no operation {operation + 's'!r}" in health.detail and operation in health.detail


def test_a_qualified_order_by_that_sugar_drops_fails_the_run_instead_of_losing_records(crm, database_url, mappings_dir):
    # SuiteCRM drops `accounts.id` silently; offset pages then come in the database's own order
    service = mappings_dir / "soap" / "sugar.yaml"
    service.write_text(service.read_text().replace("order_by: id\n", "order_by: accounts.id\n", 1))
    add_crm_connection(database_url, "crm", "sugar", crm, mappings_dir, page_size=3)
    [result] = SyncEngine(database_url, mappings_dir, KEY).sync("crm", ["customers"])
    assert result.status == "failed" and "read twice" in result.error, result
