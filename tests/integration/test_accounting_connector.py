"""The accounting connector against the finance simulator (Xero Accounting API on loopback),
through the real sync engine: full and incremental syncs, throttling, an expiring token, an
outage, idempotent creates and refused writes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from connectors.accounting import AccountingConnector
from connectors.errors import RecordError
from hub.db import session_scope
from hub.documents.models import Invoice, Payment
from hub.master import search
from hub.master.models import GoldenCustomer
from hub.sync.engine import SyncEngine
from hub.sync.models import DeadLetter, Link, SyncCursor, SyncRun
from simulators.finance import FinanceServer
from tests.support.finance import KEY, connect, finance_server, secrets_for, settings_for

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def server() -> Iterator[FinanceServer]:
    with finance_server() as srv:
        yield srv


@pytest.fixture
def finance(server, database_url, mappings_dir) -> SyncEngine:
    connect(database_url, server, overlap_seconds=0)
    return SyncEngine(database_url, mappings_dir, KEY)


@pytest.fixture
def connector(server) -> Iterator[AccountingConnector]:
    conn = AccountingConnector(settings_for(server), secrets_for(server))
    yield conn
    conn.close()


def _counts(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        return {
            m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
            for m in (GoldenCustomer, Link, Invoice, Payment, DeadLetter)
        }


def _cursor(url: str, stream: str) -> str | None:
    with session_scope(url) as session:
        return session.scalar(select(SyncCursor.value).where(SyncCursor.stream == stream))


def _invoices_in_books(server: FinanceServer, number: str) -> int:
    return sum(1 for i in server.books.invoices.values() if i["InvoiceNumber"] == number)


def test_a_full_sync_brings_contacts_invoices_and_payments_in_and_a_second_changes_nothing(
    finance, server, database_url
):
    results = {r.stream: r for r in finance.sync("finance")}
    assert [r.status for r in results.values()] == ["done"] * 3, results
    assert (results["customers"].created, results["invoices"].created, results["payments"].created) == (3, 4, 2)
    seed = server.seed
    with session_scope(database_url) as session:
        mueller = search.by_external_id(session, "finance", seed["contacts"]["mueller"]["ContactID"])
        assert (mueller.tax_id, mueller.email) == ("DE136695976", "einkauf@mueller-maschinenbau.example")
        assert (mueller.city, mueller.postcode, mueller.country) == ("Berlin", "10115", "DE")  # STREET, not POBOX
        assert mueller.phone == "+49301234567"

        by_number = {i.number: i for i in session.scalars(select(Invoice))}
        assert {n: i.status for n, i in by_number.items()} == {
            "INV-1001": "draft",
            "INV-1002": "open",
            "INV-1003": "open",
            "INV-1004": "paid",
        }
        open_invoice = by_number["INV-1002"]
        assert open_invoice.customer_id == mueller.id
        assert (open_invoice.total, open_invoice.amount_due, open_invoice.currency) == (
            Decimal("3280.00"),
            Decimal("3280.00"),
            "EUR",
        )
        due = (date.today() + timedelta(days=10)).isoformat()
        assert [(d["date"], Decimal(d["amount"])) for d in open_invoice.due_dates] == [(due, Decimal("3280.00"))]
        partial = by_number["INV-1003"]
        assert partial.amount_due == Decimal("3500.00")
        [payment] = session.scalars(select(Payment).where(Payment.invoice_id == partial.id)).all()
        assert (payment.amount, payment.reference, payment.customer_id) == (
            Decimal("2500.00"),
            "BANK-2026-0001",
            partial.customer_id,
        )

    before = _counts(database_url)
    again = {r.stream: r for r in finance.sync("finance")}
    assert all(r.created == 0 and r.updated == 0 and r.failed == 0 for r in again.values()), again
    assert _counts(database_url) == before


def test_an_incremental_sync_picks_up_the_one_changed_invoice(finance, server, database_url):
    finance.sync("finance")
    open_id = server.seed["invoices"]["open"]["InvoiceID"]
    later = (date.today() + timedelta(days=45)).isoformat()
    changed = server.touch("Invoices", open_id, {"DueDate": later})

    results = {r.stream: r for r in finance.sync("finance")}
    assert (results["invoices"].updated, results["invoices"].created) == (1, 0)
    assert results["invoices"].read < len(server.books.invoices)  # not a full read again
    assert all(r.created == 0 and r.updated == 0 for s, r in results.items() if s != "invoices"), results
    since = [r for r in server.requests if r.path.endswith("/Invoices")][-1]
    assert since.status == 200
    with session_scope(database_url) as session:
        link = session.scalar(select(Link).where(Link.entity_type == "invoice", Link.external_id == open_id))
        assert [d["date"] for d in session.get(Invoice, link.hub_id).due_dates] == [later]
    stamp = datetime.fromtimestamp(int(changed["UpdatedDateUTC"][6:19]) / 1000, UTC)
    assert datetime.fromisoformat(_cursor(database_url, "invoices")) == stamp


def test_a_429_is_waited_out_as_retry_after_says_and_the_sync_completes(finance, server, database_url):
    finance.sync("finance", ["customers"])
    server.throttle(1, retry_after=1)
    [result] = finance.sync("finance", ["invoices"])
    assert (result.status, result.created) == ("done", 4)
    api = [r for r in server.requests if "/api.xro/" in r.path]
    refused = next(i for i, r in enumerate(api) if r.status == 429)
    waited = api[refused + 1].at - api[refused].at
    assert 1.0 <= waited < 2.5, waited  # the header's second, not the 0.2 s backoff


def test_a_token_that_expires_mid_sync_is_renewed_once_transparently(finance, server, database_url):
    finance.sync("finance", ["customers"])
    grants_before = server.token_grants

    def expire_after_first_page(stream: str, count: int) -> None:
        if not any(r.status == 401 for r in server.requests):
            server.expire_tokens()

    [result] = finance.sync("finance", ["invoices"], progress=expire_after_first_page)
    assert (result.status, result.created) == ("done", 4)
    assert server.token_grants - grants_before == 2  # the run's first token and one renewal
    assert sum(r.status == 401 for r in server.requests) == 1


def test_a_system_that_is_down_fails_the_run_keeps_the_cursor_and_the_next_run_duplicates_nothing(
    finance, server, database_url
):
    finance.sync("finance", ["customers"])
    server.stop()
    [down] = finance.sync("finance", ["invoices"])
    assert down.status == "failed" and "accounting unreachable" in down.error
    assert _cursor(database_url, "invoices") is None

    server.start()
    pages = []

    def stop_after_first_page(stream: str, count: int) -> None:
        pages.append(count)
        if len(pages) == 1:
            server.stop()

    [midway] = finance.sync("finance", ["invoices"], progress=stop_after_first_page)
    assert (midway.status, midway.read) == ("failed", 2)
    committed = _cursor(database_url, "invoices")  # the page in the hub moved it, nothing further
    first_two = sorted(server.books.invoices.values(), key=lambda i: i["UpdatedDateUTC"])[:2]
    assert datetime.fromisoformat(committed) == first_two[1]["UpdatedDateUTC"]
    with session_scope(database_url) as session:
        assert session.scalar(select(SyncRun.status).where(SyncRun.id == midway.run_id)) == "failed"
        assert session.scalar(select(SyncCursor.locked_by).where(SyncCursor.stream == "invoices")) is None

    server.start()
    results = {r.stream: r for r in finance.sync("finance", ["invoices", "payments"])}
    assert all(r.status == "done" for r in results.values()), results
    assert results["invoices"].created == 2
    counts = _counts(database_url)
    assert (counts["invoices"], counts["payments"], counts["dead_letters"]) == (4, 2, 0)


def test_pages_of_records_sharing_one_timestamp_are_each_read_once(server, connector):
    stamp = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    created = server.books.save("Contacts", [{"Name": f"Imported customer {n}"} for n in range(5)])
    for contact in created:
        server.backdate("Contacts", contact["ContactID"], stamp)
    pages = list(connector.read("customers", None))
    ids = [r.external_id for page in pages for r in page]
    assert sorted(ids) == sorted(server.books.contacts) and len(ids) == len(set(ids)) == 8
    assert all(len(page) <= 2 for page in pages)
    since = list(connector.read("customers", stamp.isoformat()))
    assert len({r.external_id for page in since for r in page}) == 8  # ≥ the stamp: all 8 again


def test_a_record_changed_while_paging_neither_shifts_another_out_nor_is_lost(server, connector):
    pages = connector.read("customers", None)
    first = next(pages)
    server.touch("Contacts", first[0].external_id, {"EmailAddress": "new@changed.example"})
    rest = [r for page in pages for r in page]
    ids = [r.external_id for r in first + rest]
    assert sorted(set(ids)) == sorted(server.books.contacts)  # plain page numbers would skip one here
    assert [r.data["EmailAddress"] for r in rest if r.external_id == first[0].external_id] == ["new@changed.example"]


def test_a_create_whose_answer_was_lost_is_found_and_not_made_twice(server, connector):
    mueller = server.seed["contacts"]["mueller"]["ContactID"]
    invoice = {
        "number": "INV-2001",
        "customer": mueller,
        "status": "open",
        "currency": "EUR",
        "issued_on": date.today(),
        "due_dates": [{"date": date.today() + timedelta(days=30)}],
        "lines": [{"description": "Stage 1 of 3", "quantity": 1, "unit_price": Decimal("1000.00")}],
    }
    server.drop_after_commit(1)
    written = connector.write("invoices", invoice, None)
    assert _invoices_in_books(server, "INV-2001") == 1
    assert written.external_id in server.books.invoices and not written.created
    puts = [r for r in server.requests if r.method == "PUT"]
    assert [r.status for r in puts] == [0]  # the one create, its answer dropped; no second PUT

    server.drop_after_commit(1)
    pay = {
        "invoice": written.external_id,
        "amount": Decimal("400.00"),
        "reference": "BANK-2026-0100",
        "paid_on": date.today(),
    }
    first = connector.write("payments", pay, None)
    again = connector.write("payments", pay, None)
    assert first.external_id == again.external_id
    assert [p["Amount"] for p in server.books.payments.values() if p["Reference"] == "BANK-2026-0100"] == [
        Decimal("400.00")
    ]
    assert server.books.invoices[written.external_id]["AmountDue"] == Decimal("600.00")


def test_a_refused_write_is_a_record_error_with_the_servers_message(server, connector):
    open_invoice = server.seed["invoices"]["open"]
    with pytest.raises(RecordError, match="Payment amount exceeds the amount outstanding on this document"):
        connector.write(
            "payments", {"invoice": open_invoice["InvoiceID"], "amount": Decimal(99999), "reference": "TOO-MUCH"}, None
        )
    with pytest.raises(RecordError, match="could not be found"):
        connector.write("invoices", {"number": "INV-3001", "customer": str(uuid.uuid4()), "total": Decimal(10)}, None)
    with pytest.raises(RecordError, match="Email address must be valid"):
        connector.write("customers", {"email": "not-an-address"}, server.seed["contacts"]["acme"]["ContactID"])
    assert _invoices_in_books(server, "INV-3001") == 0
    assert not any(p["Reference"] == "TOO-MUCH" for p in server.books.payments.values())
    assert server.books.invoices[open_invoice["InvoiceID"]]["AmountDue"] == Decimal("3280.00")


def test_writes_update_by_id_and_a_payment_settles_its_invoice(server, connector):
    acme = server.seed["contacts"]["acme"]["ContactID"]
    updated = connector.write("customers", {"phone": "+44 113 496 0000", "city": "York"}, acme)
    contact = server.books.contacts[acme]
    assert not updated.created and contact["Phones"][0]["PhoneNumber"] == "+44 113 496 0000"
    street = next(a for a in contact["Addresses"] if a["AddressType"] == "STREET")
    assert (street["City"], street["AddressLine1"]) == ("York", "1 High Street")  # merged, not blanked

    new = connector.write("customers", {"name": "Nordlicht AG", "email": "ap@nordlicht.example"}, None)
    assert new.created and connector.write("customers", {"name": "Nordlicht AG"}, None).external_id == new.external_id

    open_invoice = server.seed["invoices"]["open"]["InvoiceID"]
    connector.write("payments", {"invoice": open_invoice, "amount": Decimal("3280.00"), "reference": "BANK-9"}, None)
    assert server.books.invoices[open_invoice]["Status"] == "PAID"


def test_check_reports_health_and_refused_credentials(server, connector):
    assert connector.check().ok
    wrong = AccountingConnector(settings_for(server), {"client_id": server.client_id, "client_secret": "wrong"})
    health = wrong.check()
    assert not health.ok and "invalid_client" in health.detail and "wrong" not in health.detail
    wrong.close()
    server.fail(9)
    down = connector.check()
    assert not down.ok and "HTTP 503" in down.detail
