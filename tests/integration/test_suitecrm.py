"""The suitecrm profile against a REAL SuiteCRM 7.13.2 (SOAP v4_1, rpc/encoded, NuSOAP), through
the real sync engine, publish and outbox: full and incremental sync, a re-sync that changes
nothing, a change made in SuiteCRM arriving, an expired session, a customer published and an
order's ERP number reported back — each read back from SuiteCRM's own database and compared.
Also what used to go wrong silently against it: a records path that finds nothing, a request
missing an rpc part, a relative WSDL path, a hub code written raw into a dropdown."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from connectors.errors import RecordError
from hub.db import session_scope
from hub.documents.models import Opportunity, Order, ServiceCase
from hub.master import search
from hub.master.ingest import CustomerMaster
from hub.master.models import CustomerSource
from hub.outbox.dispatch import Dispatcher
from hub.outbox.models import OutboxDelivery
from hub.sync.connections import add_connection
from hub.sync.engine import SyncEngine
from hub.sync.models import Connection, DeadLetter
from hub.sync.publish import publish_customers
from tests.support import suitecrm
from tests.support.sink import Sink, webhook_sink

# a cold install of SuiteCRM (setup.sh, as root) takes about a minute of the first test's time
pytestmark = [pytest.mark.parametrize("database_url", ["sqlite"], indirect=True), pytest.mark.timeout(900)]

KEY = "suitecrm-test-key"
STREAMS = ["customers", "opportunities", "cases", "orders"]
ACCOUNTS = [
    {
        "name": "Müller Maschinenbau GmbH",
        "vat_id_c": "DE129273398",
        "email1": "info@mueller.example",
        "phone_office": "+49 30 1234567",
        "billing_address_street": "Hauptstraße 5",
        "billing_address_city": "Berlin",
        "billing_address_postalcode": "10115",
        "billing_address_country": "de",
    },
    {
        "name": "上海华信机械有限公司",
        "email1": "sales@huaxin.example",
        "billing_address_city": "上海",
        "billing_address_country": "CN",
    },
    {
        "name": "Dupont Industrie SARL",
        "vat_id_c": "FR40303265045",
        "billing_address_city": "Lyon",
        "billing_address_country": "FR",
    },
    *(
        {
            "name": f"Nordic Pumps {i} AB",
            "email1": f"buyer{i}@nordic{i}.example",
            "billing_address_city": "Malmö",
            "billing_address_country": "SE",
        }
        for i in range(9)
    ),
]
STAGES = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
]
CASES = [
    ("Pump leaking at 大阪市", "Open_Pending Input", "P1"),
    ("Valve noise", "Open_New", "P2"),
    ("Manual missing", "Closed_Closed", "P3"),
    ("Wrong invoice", "Open_Assigned", "P2"),
    ("Spare part", "Closed_Rejected", "P3"),
]


@pytest.fixture(scope="module")
def crm() -> Iterator[suitecrm.SuiteCrm]:
    """SuiteCRM with 12 accounts, 8 opportunities, 5 cases and 2 quotes, created through its API."""
    running = suitecrm.ensure()
    running.wipe()
    accounts = running.create("Accounts", ACCOUNTS)
    running.create(
        "Opportunities",
        [
            {
                "name": f"Deal {i}",
                "account_id": accounts[i % 3],
                "sales_stage": stage,
                "amount": f"{1000 * (i + 1)}.00",
                "currency_id": "-99",
                "date_closed": "2026-12-31",
            }
            for i, stage in enumerate(STAGES)
        ],
    )
    running.create(
        "Cases",
        [
            {
                "name": name,
                "account_id": accounts[i % 3],
                "status": status,
                "priority": prio,
                "state": "Closed" if status.startswith("Closed") else "Open",
            }
            for i, (name, status, prio) in enumerate(CASES)
        ],
    )
    running.create(
        "AOS_Quotes",
        [
            {
                "name": "PO-4711",
                "billing_account_id": accounts[0],
                "stage": "Confirmed",
                "currency_id": "-99",
                "total_amount": "2589.00",
                "expiration": "2026-12-15",
            },
            {
                "name": "PO-4712",
                "billing_account_id": accounts[2],
                "stage": "Draft",
                "currency_id": "-99",
                "total_amount": "120.00",
                "expiration": "2026-12-20",
            },
        ],
    )
    running.accounts = accounts  # type: ignore[attr-defined]
    yield running


def _connect(database_url: str, mappings_dir: Path, **settings: Any) -> SyncEngine:
    with session_scope(database_url) as session:
        add_connection(
            session,
            name="crm",
            kind="soap",
            secret_key=KEY,
            secrets={"username": suitecrm.USER, "password": suitecrm.PASSWORD},
            settings={
                "service": "suitecrm",
                "mapping": "suitecrm",
                "wsdl": suitecrm.WSDL,
                "mappings_dir": str(mappings_dir),
                "page_size": 5,
                "timeout": 30,
                **settings,
            },
        )
    return SyncEngine(database_url, mappings_dir, KEY)


@pytest.fixture
def hub(crm: suitecrm.SuiteCrm, database_url: str, mappings_dir: Path) -> SyncEngine:
    return _connect(database_url, mappings_dir)


def _connector(engine: SyncEngine):
    with session_scope(engine.database_url) as session:
        return engine.connector(session.scalar(select(Connection).where(Connection.name == "crm")))


def _letters(url: str) -> list[str]:
    with session_scope(url) as session:
        return [d.error for d in session.scalars(select(DeadLetter))]


def test_full_sync_reads_each_record_once_and_a_resync_changes_nothing(hub, crm, database_url):
    results = {r.stream: r for r in hub.sync("crm", STREAMS)}
    assert all(r.status == "done" and r.failed == 0 for r in results.values()), results
    # pages of 5 in bare-id order: every record once (a dropped order_by repeats and skips rows)
    assert {s: (r.read, r.created) for s, r in results.items()} == {
        "customers": (12, 12),
        "opportunities": (8, 8),
        "cases": (5, 5),
        "orders": (2, 2),
    }
    assert _letters(database_url) == []
    with session_scope(database_url) as session:
        mueller = search.by_external_id(session, "crm", crm.accounts[0])
        assert (mueller.name, mueller.tax_id, mueller.email, mueller.country) == (
            "Müller Maschinenbau GmbH",
            "DE129273398",
            "info@mueller.example",
            "DE",
        )
        stages = sorted(session.scalars(select(Opportunity.stage)))
        assert stages == sorted(
            ["prospecting", "qualification", "qualification", "proposal", "proposal", "negotiation", "won", "lost"]
        )
        case = session.scalar(select(ServiceCase).where(ServiceCase.subject == "Pump leaking at 大阪市"))
        assert (case.status, case.priority, case.customer_id) == ("pending", "high", mueller.id)
        order = session.scalar(select(Order).where(Order.reference == "PO-4711"))
        assert (order.status, order.total, order.customer_id) == ("confirmed", Decimal("2589.00"), mueller.id)

    again = {r.stream: r for r in hub.sync("crm", STREAMS)}
    assert all(r.status == "done" and r.created == r.updated == r.failed == 0 for r in again.values()), again


def test_a_change_made_in_suitecrm_arrives_with_the_next_incremental_sync(hub, crm, database_url):
    assert hub.sync("crm", ["customers"])[0].created == 12
    crm.update("Accounts", {"id": crm.accounts[2], "phone_office": "+33 4 78 00 00 00"})
    [result] = hub.sync("crm", ["customers"])
    assert (result.status, result.created, result.updated, result.failed) == ("done", 0, 1, 0)
    with session_scope(database_url) as session:
        source = session.scalar(select(CustomerSource).where(CustomerSource.external_id == crm.accounts[2]))
        assert source.phone == "+33478000000"


def test_an_expired_session_logs_in_again_and_the_run_completes(hub, crm):
    sessions = suitecrm.BASE / "run" / "sessions"

    def expire(*_: Any) -> None:  # SuiteCRM forgets every session (PHP's session files gone)
        for file in sessions.glob("sess_*"):
            file.unlink()

    [result] = hub.sync("crm", ["customers"], progress=expire)
    assert (result.status, result.created) == ("done", 12), result.error
    connector = _connector(hub)
    connector.client.context()
    logins: list[str] = []
    login = connector.client._login
    connector.client._login = lambda: logins.append("login") or login()  # type: ignore[method-assign]
    expire()
    assert sum(len(page) for page in connector.read("customers", None)) == 12
    assert logins == ["login"]  # "Invalid Session ID" → one fresh login, then the same call
    connector.close()
    crm.login()


def test_publish_writes_the_golden_values_into_suitecrm(hub, crm, database_url, mappings_dir):
    assert hub.sync("crm", ["customers"])[0].created == 12
    account = crm.accounts[1]
    with session_scope(database_url) as session:  # the ERP knows the phone of 上海华信
        CustomerMaster(session, mappings_dir).ingest(
            "erp",
            "P-77",
            {
                "name": "上海华信机械有限公司",
                "email": "sales@huaxin.example",
                "phone": "+86 21 5555 0101",
                "city": "上海",
                "country": "CN",
            },
        )
    result = publish_customers(hub, "crm")
    assert result.failed == 0 and result.written >= 1 and result.unverified == 0, result  # each read back
    row = crm.row("accounts", account)
    with session_scope(database_url) as session:
        golden = search.by_external_id(session, "crm", account)
        assert (row["name"], row["email1"], row["billing_address_city"]) == (golden.name, golden.email, golden.city)
        assert golden.phone == "+862155550101" and row["phone_office"] == golden.phone
    [read_back] = hub.sync("crm", ["customers"])  # SuiteCRM's copy now has the phone: nothing to publish
    assert (read_back.status, read_back.failed) == ("done", 0)
    again = publish_customers(hub, "crm")
    assert (again.written, again.failed) == (0, 0), again


def test_a_customer_written_to_suitecrm_is_stored_with_every_field(hub, crm):
    connector = _connector(hub)
    data = {
        "name": "Jansen Techniek B.V.",
        "tax_id": "NL004495445B01",
        "email": "inkoop@jansen.example",
        "phone": "+31 20 555 0100",
        "street": "Keizersgracht 1",
        "city": "Amsterdam",
        "postcode": "1015 CJ",
        "country": "NL",
    }
    written = connector.write("customers", data, None)
    row = crm.row("accounts", written.external_id)
    assert {
        k: row[v]
        for k, v in [
            ("name", "name"),
            ("tax_id", "vat_id_c"),
            ("email", "email1"),
            ("phone", "phone_office"),
            ("street", "billing_address_street"),
            ("city", "billing_address_city"),
            ("postcode", "billing_address_postalcode"),
            ("country", "billing_address_country"),
        ]
    } == data
    connector.write("customers", {"phone": "+31 20 555 0199"}, written.external_id)
    row = crm.row("accounts", written.external_id)
    assert (row["phone_office"], row["name"], row["vat_id_c"]) == ("+31 20 555 0199", data["name"], data["tax_id"])
    assert connector.read_one("customers", written.external_id).data["phone_office"] == "+31 20 555 0199"
    crm.sql("UPDATE accounts SET deleted = 1 WHERE id = %s", written.external_id)
    assert connector.read_one("customers", written.external_id) is None  # deleted: no longer there
    connector.close()


def test_an_order_entered_as_a_quote_gets_the_erp_number_back_in_suitecrm_codes(hub, crm, database_url, mappings_dir):
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
        assert all(r.status == "done" for r in hub.sync("crm", ["customers", "orders"]))
        dispatcher = Dispatcher(hub)
        for _ in range(2):  # the ERP gets customer and order; then SuiteCRM hears the number back
            dispatcher.route()
            for target in dispatcher.due_targets():
                dispatcher.deliver(target)
        numbers = _erp_numbers(erp)
    with session_scope(database_url) as session:  # each write to SuiteCRM was read back and compared
        told = session.execute(
            select(OutboxDelivery.status, OutboxDelivery.verified).where(OutboxDelivery.target == "crm")
        ).all()
    assert [tuple(t) for t in told] == [("sent", "read back equal")] * 2, told
    quotes = {
        q["name"]: q
        for q in crm.sql(
            "SELECT q.name, q.stage, c.erp_number_c FROM aos_quotes q LEFT JOIN aos_quotes_cstm c ON c.id_c = q.id "
            "WHERE q.deleted = 0"
        )
    }
    assert {name: (q["erp_number_c"], q["stage"]) for name, q in quotes.items()} == {
        "PO-4711": (numbers["PO-4711"], "Confirmed"),  # SuiteCRM's own code, not the hub's "confirmed"
        "PO-4712": (numbers["PO-4712"], "Draft"),
    }
    again = {r.stream: r for r in hub.sync("crm", ["customers", "orders"])}
    assert all(r.created == r.updated == r.failed == 0 for r in again.values()), again
    assert _letters(database_url) == []
    # a hub code SuiteCRM's dropdown has no value for is refused, never written raw
    connector = _connector(hub)
    quote = crm.sql("SELECT id FROM aos_quotes WHERE name = 'PO-4711'")[0]["id"]
    with pytest.raises(RecordError, match="'processing' has no value in code list 'quote_stage'"):
        connector.write("orders", {"status": "processing"}, quote)
    connector.close()


def _erp_numbers(erp: Sink) -> dict[str, str]:
    """PO reference → the number the ERP gave the order."""
    return {r["data"]["reference"]: erp.ids[r["data"]["hub_ref"]] for r in erp.of("orders")}


def test_a_records_path_that_finds_nothing_fails_the_run_naming_the_path(crm, database_url, mappings_dir):
    service = mappings_dir / "soap" / "suitecrm.yaml"
    service.write_text(service.read_text().replace("records: entry_list", "records: entry_list.item"))
    engine = _connect(database_url, mappings_dir)
    [result] = engine.sync("crm", ["customers"])
    assert result.status == "failed" and result.read == 0
    assert "'entry_list.item'" in result.error and "finds nothing" in result.error, result.error


def test_a_request_missing_an_rpc_part_is_our_error_not_a_refused_login(crm, database_url, mappings_dir):
    service = mappings_dir / "soap" / "suitecrm.yaml"
    service.write_text(service.read_text().replace("      name_value_list: []\n", "", 1))
    engine = _connect(database_url, mappings_dir)
    [result] = engine.sync("crm", ["customers"])
    assert result.status == "failed"
    assert "our request lacks the part(s) name_value_list" in result.error, result.error
    assert "login refused" not in result.error and "does not fit the WSDL" not in result.error
    health = _connector(engine).check()
    assert not health.ok and "login: our request lacks the part(s) name_value_list" in health.detail.replace(
        "suitecrm login", "login"
    )


def test_a_relative_wsdl_path_is_the_mappings_folders_whatever_the_working_directory(
    crm, database_url, mappings_dir, tmp_path, monkeypatch
):
    (mappings_dir / "soap" / "suitecrm.wsdl").write_bytes(requests.get(suitecrm.WSDL, timeout=30).content)
    service = mappings_dir / "soap" / "suitecrm.yaml"  # and a part sent as nil (YAML null)
    service.write_text(service.read_text().replace("favorites: false", "favorites: null"))
    engine = _connect(database_url, mappings_dir, wsdl="soap/suitecrm.wsdl", service="soap/suitecrm.yaml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    health = _connector(engine).check()
    assert health.ok, health.detail
    [result] = engine.sync("crm", ["customers"])
    assert (result.status, result.created) == ("done", 12)
    shutil.rmtree(elsewhere)
